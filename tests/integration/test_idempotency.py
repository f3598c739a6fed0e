"""Idempotency-Key, external_id repeats, merges by email, concurrency."""

import threading

from conftest import assert_error


def test_idempotency_key_repeat(baton):
    lead = {"email": "idem@example.com", "company": "Idem"}
    hdr = {"Idempotency-Key": "form-7f3a"}
    st, h1, first = baton.post_lead(lead, headers=hdr)
    assert st == 201, first
    lead_id = first["lead"]["id"]
    events_before = baton.events(lead_id)
    count_before = baton.lead_count()
    for _ in range(3):
        st, h2, again = baton.post_lead(lead, headers=hdr)
        assert st == 200, again
        assert again["outcome"] == "repeated"
        assert again["lead"]["id"] == lead_id
        assert h2["location"] == "/v1/leads/%d" % lead_id
    assert baton.events(lead_id) == events_before
    assert baton.lead_count() == count_before == 1


def test_idempotency_key_different_body_conflicts(baton):
    hdr = {"Idempotency-Key": "k-1"}
    st, _, first = baton.post_lead({"email": "c1@example.com"}, headers=hdr)
    assert st == 201, first
    st, _, body = baton.post_lead({"email": "c2@example.com"}, headers=hdr)
    assert_error(st, body, 409, "conflict", "Idempotency-Key")
    # nothing written: c2 does not exist, c1 unchanged
    assert [l["email"] for l in baton.list_leads()] == ["c1@example.com"]
    assert len(baton.events(first["lead"]["id"])) == 1
    # the same key with a different body that would merge into c1 also conflicts
    st, _, body = baton.post_lead({"email": "c1@example.com", "title": "CEO"}, headers=hdr)
    assert_error(st, body, 409, "conflict", "Idempotency-Key")
    st, _, got = baton.get("/v1/leads/%d" % first["lead"]["id"])
    assert got["title"] is None


def test_different_idempotency_keys_are_independent(baton):
    st, _, a = baton.post_lead({"email": "k1@example.com"}, headers={"Idempotency-Key": "a"})
    st2, _, b = baton.post_lead({"email": "k2@example.com"}, headers={"Idempotency-Key": "b"})
    assert (st, st2) == (201, 201)
    assert a["lead"]["id"] != b["lead"]["id"]
    assert baton.lead_count() == 2


def test_external_id_repeat(baton):
    st, _, first = baton.post_lead({"external_id": "crm-42", "email": "ext@example.com",
                                    "title": "CTO"})
    assert st == 201, first
    lead_id = first["lead"]["id"]
    assert first["lead"]["external_id"] == "crm-42"
    events_before = baton.events(lead_id)
    st, hdrs, again = baton.post_lead({"external_id": "crm-42", "email": "other@example.com",
                                       "title": "CEO"})
    assert st == 200, again
    assert again["outcome"] == "repeated"
    assert again["lead"]["id"] == lead_id
    assert hdrs["location"] == "/v1/leads/%d" % lead_id
    # nothing written
    assert again["lead"] == first["lead"]
    st, _, got = baton.get("/v1/leads/%d" % lead_id)
    assert got == first["lead"]
    assert baton.events(lead_id) == events_before
    assert baton.lead_count() == 1
    assert baton.list_leads("email=other@example.com") == []


def test_merge_by_email(baton):
    st, _, first = baton.post_lead({"email": "Merge@Example.com", "company": "Old Co",
                                    "title": "Engineer", "fields": {"a": "1", "b": "2"}})
    assert st == 201, first
    lead = first["lead"]
    st, hdrs, merged = baton.post_lead({"email": "  MERGE@example.COM ", "title": "CTO",
                                        "fields": {"b": "3", "c": "4"}})
    assert st == 200, merged
    assert merged["outcome"] == "merged"
    m = merged["lead"]
    assert m["id"] == lead["id"]
    assert hdrs["location"] == "/v1/leads/%d" % lead["id"]
    assert m["title"] == "CTO"
    assert m["company"] == "Old Co"  # not sent: kept
    assert m["stage"] == lead["stage"] == "new"
    assert m["owner"] == lead["owner"]
    assert m["fields"] == {"a": "1", "b": "3", "c": "4"}
    assert m["created_at"] == lead["created_at"]
    assert m["updated_at"] >= lead["updated_at"]
    st, _, got = baton.get("/v1/leads/%d" % lead["id"])
    assert got == m
    assert baton.lead_count() == 1

    ev = baton.events(lead["id"])
    assert [e["type"] for e in ev] == ["lead.created", "lead.merged"]
    assert ev[0]["id"] < ev[1]["id"]
    changes = ev[1]["data"]["changes"]
    assert {"field": "title", "from": "Engineer", "to": "CTO"} in changes
    fields_changed = {c["field"] for c in changes}
    assert "title" in fields_changed
    assert "company" not in fields_changed
    assert "email" not in fields_changed
    assert ev[1]["actor"] == ev[0]["actor"]


def test_merge_identical_is_unchanged(baton):
    data = {"email": "same@example.com", "company": "Same", "fields": {"x": 1}}
    st, _, first = baton.post_lead(data)
    assert st == 201
    lead_id = first["lead"]["id"]
    ev_before = baton.events(lead_id)
    for variant in (data, {"email": "SAME@example.com ", "company": " Same "}):
        st, _, again = baton.post_lead(variant)
        assert st == 200, again
        assert again["outcome"] == "unchanged"
        assert again["lead"]["id"] == lead_id
        assert again["lead"] == first["lead"]
    assert baton.events(lead_id) == ev_before
    assert baton.lead_count() == 1


def test_merge_keeps_external_id(baton):
    st, _, first = baton.post_lead({"external_id": "x-1", "email": "keep@example.com"})
    assert st == 201
    st, _, m = baton.post_lead({"external_id": "x-2", "email": "keep@example.com",
                                "city": "Berlin"})
    assert st == 200, m
    assert m["outcome"] == "merged"
    assert m["lead"]["external_id"] == "x-1"
    assert m["lead"]["city"] == "Berlin"
    assert baton.lead_count() == 1


def test_merge_sets_external_id_once(baton):
    st, _, first = baton.post_lead({"email": "late@example.com"})
    assert st == 201
    st, _, m = baton.post_lead({"external_id": "late-1", "email": "late@example.com"})
    assert st == 200, m
    assert m["outcome"] == "merged"
    assert m["lead"]["external_id"] == "late-1"
    # now the external id is known
    st, _, r = baton.post_lead({"external_id": "late-1", "email": "zzz@example.com"})
    assert st == 200 and r["outcome"] == "repeated", r
    assert r["lead"]["id"] == first["lead"]["id"]


def test_concurrent_same_email(baton):
    n = 20
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        barrier.wait()
        try:
            results[i] = baton.post_lead({"email": "race@example.com", "company": "Race"})
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    errors = [r for r in results if not isinstance(r, tuple)]
    assert not errors, errors
    statuses = sorted(r[0] for r in results)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(200) == n - 1, statuses
    ids = {r[2]["lead"]["id"] for r in results}
    assert len(ids) == 1
    outcomes = sorted(r[2]["outcome"] for r in results)
    assert outcomes.count("created") == 1
    assert set(outcomes) <= {"created", "unchanged"}, outcomes
    leads = baton.list_leads("email=race@example.com")
    assert len(leads) == 1
    assert baton.lead_count() == 1
    assert [e["type"] for e in baton.events(leads[0]["id"])] == ["lead.created"]


def _race(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    errors = [r for r in results if not isinstance(r, tuple)]
    assert not errors, errors
    return results


def test_concurrent_same_idempotency_key(baton):
    lead = {"email": "idem-race@example.com", "company": "Race"}
    results = _race(12, lambda i: baton.post_lead(lead, headers={"Idempotency-Key": "race-1"}))
    statuses = sorted(r[0] for r in results)
    assert statuses == [200] * 11 + [201], statuses
    assert sorted(r[2]["outcome"] for r in results) == ["created"] + ["repeated"] * 11
    assert len({r[2]["lead"]["id"] for r in results}) == 1
    assert baton.lead_count() == 1
    assert len(baton.events(results[0][2]["lead"]["id"])) == 1


def test_concurrent_same_external_id(baton):
    results = _race(12, lambda i: baton.post_lead(
        {"external_id": "ext-race", "email": "ext-race-%d@example.com" % i}))
    statuses = sorted(r[0] for r in results)
    assert statuses == [200] * 11 + [201], statuses
    assert len({r[2]["lead"]["id"] for r in results}) == 1
    assert baton.lead_count() == 1


def test_idempotency_key_repeat_of_merge(baton):
    st, _, first = baton.post_lead({"email": "im@example.com"})
    assert st == 201
    lead_id = first["lead"]["id"]
    body = {"email": "im@example.com", "title": "VP"}
    st, _, m = baton.post_lead(body, headers={"Idempotency-Key": "merge-1"})
    assert st == 200 and m["outcome"] == "merged", m
    ev = baton.events(lead_id)
    assert [e["type"] for e in ev] == ["lead.created", "lead.merged"]
    st, _, r = baton.post_lead(body, headers={"Idempotency-Key": "merge-1"})
    assert st == 200, r
    assert r["outcome"] == "repeated"
    assert r["lead"]["id"] == lead_id
    assert r["lead"]["title"] == "VP"
    assert baton.events(lead_id) == ev


def test_concurrent_distinct_leads(baton):
    results = _race(16, lambda i: baton.post_lead({"email": "par%d@example.com" % i}))
    assert sorted(r[0] for r in results) == [201] * 16
    ids = [r[2]["lead"]["id"] for r in results]
    assert len(set(ids)) == 16
    leads = baton.list_leads()
    assert sorted(l["id"] for l in leads) == sorted(ids)
    assert sorted(l["email"] for l in leads) == sorted("par%d@example.com" % i for i in range(16))


def test_public_ingest_key_learns_nothing_and_overwrites_nothing(baton):
    """An ingest key may sit in a public web page: posting a known email must
    neither reveal the stored lead nor replace what is known about it."""
    st, _, body = baton.post_lead({"email": "ceo@victim.example", "phone": "+1 555 0100",
                                   "title": "CEO", "fields": {"deal": "secret"}})
    assert st == 201
    lead_id = body["lead"]["id"]
    ingest = baton.create_key("ingest", name="website")
    st, _, body = baton.request("POST", "/v1/leads", key=ingest,
                                form={"email": "ceo@victim.example", "phone": "+1 555 9999",
                                      "title": "Intern", "city": "Berlin", "deal": "public"})
    assert st == 202, body
    assert body == {"accepted": True, "warnings": []}  # nothing of the stored lead
    st, _, lead = baton.get("/v1/leads/%d" % lead_id)
    assert lead["phone"] == "+1 555 0100" and lead["title"] == "CEO"
    assert lead["fields"] == {"deal": "secret"}
    assert lead["city"] == "Berlin"  # empty before: filled
    # nor act on the lead by its id
    st, _, body = baton.request("POST", "/v1/leads/%d/activities" % lead_id, key=ingest,
                                body={"type": "page_view"})
    assert_error(st, body, 403, "forbidden")


def test_idempotency_keys_are_scoped_to_the_api_key(baton):
    other = baton.create_key("ingest", name="other-source")
    st, _, a = baton.post_lead({"email": "one@x.com"}, headers={"Idempotency-Key": "k-1"})
    assert st == 201
    # the same Idempotency-Key from another API key with another body is its own request
    st, _, b = baton.post_lead({"email": "two@x.com"}, headers={"Idempotency-Key": "k-1"},
                               key=other)
    assert st == 202, b
    assert sorted(l["email"] for l in baton.list_leads()) == ["one@x.com", "two@x.com"]

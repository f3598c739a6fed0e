"""An ingest key is public (it sits in a web page): it must not learn
whether a person is a lead, nor act on a lead by its id; rep keys must not
learn which rep ids exist."""

import json
import urllib.parse

from conftest import assert_error

START = "2026-11-21T09:00:00Z"

CONFIG = """\
version: 1
scoring:
  engagement:
    - {name: Demo, activity: demo_request, points: 50}
qualification:
  fast_track_when: activity.demo_request.count > 0
"""


def start(baton_factory, config=CONFIG):
    b = baton_factory(config=config, started=False)
    b.start(extra_args=("--manual-clock", START))
    return b


def snapshot(b):
    """Everything a write could change: every lead with its events and
    activities."""
    out = []
    for lead in b.list_leads():
        _, _, acts = b.get("/v1/leads/%d/activities" % lead["id"])
        out.append((lead, b.events(lead["id"]), acts["data"]))
    return out


def test_ingest_key_may_not_act_on_a_lead_by_id(baton_factory):
    b = start(baton_factory)
    st, _, body = b.post_lead({"email": "ceo@victim.example", "title": "CEO"})
    assert st == 201
    lead_id = body["lead"]["id"]
    before = snapshot(b)
    ingest = b.create_key("ingest", name="website")
    for path in ("/v1/leads/%d/activities" % lead_id, "/v1/leads/999/activities",
                 "/v1/leads/x/activities"):
        for payload in ({"type": "demo_request"},
                        {"activities": [{"type": "demo_request"}, {"type": "pricing_view"}]},
                        {"type": "BAD TYPE"}, "not json"):
            st, _, err = b.request("POST", path, body=payload, key=ingest)
            assert_error(st, err, 403, "forbidden", None)
            assert "by email" in err["error"]["message"], err
            assert "POST /v1/activities" in err["error"]["message"], err
    # nothing written: the lead was not qualified, nothing recorded
    assert snapshot(b) == before
    assert before[0][0]["stage"] == "new"
    # the admin key still may (the CRM integration)
    st, _, body = b.request("POST", "/v1/leads/%d/activities" % lead_id,
                            body={"type": "demo_request"})
    assert st == 201, body
    assert body["leads"][0]["stage"] == "mql"
    # a rep key gets the general message
    rep = b.create_key("rep", rep="ana")
    st, _, err = b.request("POST", "/v1/leads/%d/activities" % lead_id, body={"type": "x"},
                           key=rep)
    assert_error(st, err, 403, "forbidden", None)
    assert "role 'rep'" in err["error"]["message"], err


def raw(b, method, path, key, body=None, form=None, headers=None):
    """(status, headers but Date, body bytes): the reply exactly as sent."""
    hdrs = {}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    else:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    if key is not None:
        hdrs["Authorization"] = "Bearer " + key
    hdrs.update(headers or {})
    conn = b.connect()
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        got = sorted((k.lower(), v) for k, v in resp.getheaders() if k.lower() != "date")
        return resp.status, got, payload
    finally:
        conn.close()


def known_lead(b):
    fields = {"n%d" % i: i for i in range(64)}  # full: a merge of fields would not fit
    st, _, body = b.post_lead({"email": "ceo@victim.example", "phone": "+1 555 0100",
                               "title": "CEO", "external_id": "crm-1", "fields": fields})
    assert st == 201, body
    return body["lead"]


def test_known_and_unknown_emails_get_byte_identical_replies(baton_factory):
    b = start(baton_factory)
    known = known_lead(b)
    ingest = b.create_key("ingest", name="website")
    same = []

    def pair(make, path="/v1/leads", key_in_query=False, unknown=None):
        """The same request for the known person and for an unknown one."""
        key = None if key_in_query else ingest
        if key_in_query:
            path += "?key=" + ingest
        a = raw(b, "POST", path, key, **make("ceo@victim.example"))
        u = raw(b, "POST", path, key, **make(unknown or "nobody%d@else.example" % len(same)))
        assert a == u, (a, u)
        same.append(a)
        return a

    # intake, JSON: the person known or not, with data that merges or not
    st, hdrs, body = pair(lambda e: {"body": {"email": e, "company": "Victim Inc",
                                              "fields": {"extra": "x"}}})
    assert st == 202 and json.loads(body) == {"accepted": True, "warnings": []}, body
    assert "location" not in dict(hdrs)
    # warnings come from the request alone, and are the same
    st, _, body = pair(lambda e: {"body": {"email": e.upper(), "country": "Atlantis"}})
    assert [w["field"] for w in json.loads(body)["warnings"]] == ["country"]
    # a known external_id, an Idempotency-Key sent twice
    pair(lambda e: {"body": {"email": e, "external_id": "crm-1" if "victim" in e else "crm-9"}})
    for _ in range(2):
        st, _, body = pair(lambda e: {"body": {"email": e, "title": "Intern"},
                                      "headers": {"Idempotency-Key": "k-" + e}},
                           unknown="again@else.example")
        assert st == 202
    # a form (key in the query string), with extra inputs
    st, _, body = pair(lambda e: {"form": {"email": e, "budget": "10k", "title": "Intern"}},
                       key_in_query=True)
    assert st == 202
    # activities by email, one and a batch
    st, _, body = pair(lambda e: {"body": {"email": e, "type": "demo_request"}},
                       path="/v1/activities")
    assert st == 202 and json.loads(body) == {"accepted": True}, body
    pair(lambda e: {"body": {"activities": [{"email": e, "type": "page_view"},
                                            {"email": "third@else.example", "type": "page_view"}]}},
         path="/v1/activities")
    assert len(same) == 8

    # what happened: the known lead was filled (never overwritten) and got
    # its activities; the unknown email is a new lead from /v1/leads, and
    # no lead came from the activities
    st, _, lead = b.get("/v1/leads/%d" % known["id"])
    assert lead["title"] == "CEO" and lead["phone"] == "+1 555 0100"
    assert lead["company"] == "Victim Inc"
    assert lead["fields"] == known["fields"]  # full: nothing added, nothing refused
    assert lead["stage"] == "mql"  # the demo request
    _, _, acts = b.get("/v1/leads/%d/activities" % known["id"])
    assert sorted(a["type"] for a in acts["data"]) == ["demo_request", "page_view"]
    # one new lead per intake pair (the idempotent repeat made none), none
    # from the activities
    emails = sorted(l["email"] for l in b.list_leads())
    assert emails == ["again@else.example", "ceo@victim.example"] + [
        "nobody%d@else.example" % i for i in (0, 1, 2, 5)]
    for lead in b.list_leads("email_domain=else.example"):
        _, _, acts = b.get("/v1/leads/%d/activities" % lead["id"])
        assert acts["data"] == []
    assert "named no lead" in b.stderr_text()


def test_ingest_replies_when_activities_create_leads(baton_factory):
    b = start(baton_factory, CONFIG + "intake:\n  activities_create_leads: true\n")
    known_lead(b)
    ingest = b.create_key("ingest")
    a = raw(b, "POST", "/v1/activities", ingest, body={"email": "ceo@victim.example", "type": "x"})
    u = raw(b, "POST", "/v1/activities", ingest, body={"email": "new@else.example", "type": "x"})
    assert a == u and a[0] == 202, (a, u)
    assert sorted(l["email"] for l in b.list_leads()) == ["ceo@victim.example",
                                                          "new@else.example"]


def test_ingest_errors_depend_on_the_request_only(baton_factory):
    b = start(baton_factory)
    known_lead(b)
    ingest = b.create_key("ingest")
    before = snapshot(b)
    cases = [
        ("/v1/activities", lambda e: {"email": e, "type": "Bad Type"}, 422, "type"),
        ("/v1/activities", lambda e: {"activities": [{"email": e, "type": "ok"},
                                                     {"email": e, "type": "x", "colour": 1}]},
         422, "activities[1].colour"),
        ("/v1/leads", lambda e: {"email": e, "colour": "red"}, 422, "colour"),
        ("/v1/leads", lambda e: {"email": e, "phone": "12"}, 422, "phone"),
    ]
    for path, make, status, field in cases:
        a = raw(b, "POST", path, ingest, body=make("ceo@victim.example"))
        u = raw(b, "POST", path, ingest, body=make("nobody@else.example"))
        assert a == u, (a, u)
        assert_error(a[0], json.loads(a[2]), status, "invalid", field)
    assert snapshot(b) == before
    # an Idempotency-Key reused with another body is the sender's own conflict
    st, _, _ = b.post_lead({"email": "a@else.example"}, key=ingest, headers={"Idempotency-Key": "i"})
    assert st == 202
    st, _, err = b.post_lead({"email": "b@else.example"}, key=ingest,
                             headers={"Idempotency-Key": "i"})
    assert_error(st, err, 409, "conflict", "Idempotency-Key")


def test_other_roles_keep_their_replies(baton_factory):
    b = start(baton_factory)
    st, hdrs, body = b.post_lead({"email": "adm@example.com"})
    assert st == 201 and body["outcome"] == "created" and body["lead"]["email"] == "adm@example.com"
    assert hdrs["location"] == "/v1/leads/%d" % body["lead"]["id"]
    st, _, body = b.post_lead({"email": "adm@example.com", "title": "VP"})
    assert st == 200 and body["outcome"] == "merged" and body["lead"]["title"] == "VP"
    st, _, body = b.request("POST", "/v1/activities", body={"email": "nobody@x.example",
                                                            "type": "x"})
    assert_error(st, body, 404, "not_found", "activities[0].email")
    st, _, body = b.request("POST", "/v1/activities", body={"email": "adm@example.com",
                                                            "type": "demo_request"})
    assert st == 201 and body["leads"][0]["stage"] == "mql", body
    assert body["activities"][0]["lead_id"] == body["leads"][0]["id"]


REPS = CONFIG + """\
reps:
  - {id: ana, name: Ana}
  - {id: ben, name: Ben}
"""


def test_rep_keys_cannot_tell_other_reps_from_unknown_ids(baton_factory):
    b = start(baton_factory, REPS)
    ana = b.create_key("rep", rep="ana")
    requests = [
        ("GET", "/v1/reps/%s", None),
        ("PUT", "/v1/reps/%s/status", {"status": "away"}),
        ("PUT", "/v1/reps/%s/status", {"status": "nonsense"}),
        ("POST", "/v1/reps/%s/time-off", {"from": "2026-12-01T00:00:00Z",
                                           "to": "2026-12-02T00:00:00Z"}),
        ("DELETE", "/v1/reps/%s/time-off/1", None),
        ("DELETE", "/v1/reps/%s/time-off/x", None),
    ]
    for method, pattern, body in requests:
        replies = []
        for rep in ("ben", "nobody", "a" * 128):
            st, _, err = b.request(method, pattern % rep, body=body, key=ana)
            assert_error(st, err, 403, "forbidden", "id")
            replies.append((st, err))
        assert replies[0] == replies[1] == replies[2], (method, pattern, replies)
    # nothing changed for ben
    st, _, ben = b.get("/v1/reps/ben")
    assert st == 200 and ben["status"] == "available" and ben["time_off"] == []
    # its own rep works; an admin still tells unknown reps apart (it may list them)
    st, _, me = b.get("/v1/reps/ana", key=ana)
    assert st == 200 and me["id"] == "ana"
    st, _, err = b.get("/v1/reps/nobody")
    assert_error(st, err, 404, "not_found", "id")
    # a rep key whose rep left the configuration: its own id is unknown
    gone = b.create_key("rep", rep="carl")
    st, _, err = b.get("/v1/reps/carl", key=gone)
    assert_error(st, err, 404, "not_found", "id")
    st, _, err = b.get("/v1/reps/ana", key=gone)
    assert_error(st, err, 403, "forbidden", "id")

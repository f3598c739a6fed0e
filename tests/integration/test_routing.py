"""Routing through the API of the real binary: rules, pools, eligibility,
the hold queue, rep status and time off, decision records, and a flood of
concurrent leads into one pool (with --manual-clock where time matters)."""

import threading
import time

from conftest import assert_error

# Tuesday 2026-11-24, 10:00 in Berlin (UTC+1 in winter).
TUESDAY_0900Z = "2026-11-24T09:00:00Z"

BASE = """\
version: 1
scoring:
  fit:
    - {name: Enterprise, when: "employees >= 1000", points: 50}
    - {name: Mid-market, when: "employees >= 100", points: 20}
qualification:
  fast_track_when: source == "demo"
"""


def config(reps, pools, rules, teams=""):
    return BASE + teams + "reps:\n" + reps + "pools:\n" + pools + "routing:\n  rules:\n" + rules


THREE = """\
  - {id: ana, name: Ana}
  - {id: ben, name: Ben}
  - {id: cy, name: Cy}
"""

RR_CONFIG = config(
    THREE,
    "  - {id: inbound, strategy: round_robin, members: [ana, ben, cy]}\n",
    "    - {name: everyone, to: 'pool:inbound'}\n",
)


def start(baton_factory, cfg, clock=TUESDAY_0900Z):
    b = baton_factory(config=cfg, started=False)
    b.start(extra_args=("--manual-clock", clock) if clock else ())
    return b


def lead(n, **extra):
    body = {"email": "buyer%d@acme%d.example" % (n, n), "source": "demo"}
    body.update(extra)
    return body


def post(b, n, **extra):
    st, _, body = b.post_lead(lead(n, **extra))
    assert st == 201, body
    return body["lead"]


def get_lead(b, lead_id):
    st, _, body = b.get("/v1/leads/%d" % lead_id)
    assert st == 200, body
    return body


def set_status(b, rep, status, **extra):
    body = {"status": status}
    body.update(extra)
    return b.request("PUT", "/v1/reps/%s/status" % rep, body=body)


def wait_for(fn, timeout=10.0):
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value or time.time() > deadline:
            return value
        time.sleep(0.1)


def test_round_robin_assigns_in_turn_with_a_decision_record(baton_factory):
    b = start(baton_factory, RR_CONFIG)
    owners = [post(b, i)["owner"] for i in range(6)]
    assert owners == ["ana", "ben", "cy", "ana", "ben", "cy"]
    first = post(b, 100)
    assert first["stage"] == "assigned"

    st, _, d = b.get("/v1/leads/%d/decision" % first["id"])
    assert st == 200, d
    assert d["result"] == "assigned" and d["rep"] == "ana"
    assert d["pool"] == "inbound" and d["rule"] == "everyone"
    assert d["lead"] == first["id"] and d["config_version"]
    assert [c["rep"] for c in d["candidates"]] == ["ana", "ben", "cy"]
    assert all(c["eligible"] for c in d["candidates"])
    assert [c["verdict"] for c in d["candidates"]].count("chosen") == 1
    assert d["strategy"]["name"] == "round_robin"
    assert d["strategy"]["before"]["last_rep"] == "cy"
    assert d["strategy"]["after"]["last_rep"] == "ana"
    assert d["rules"] == [{"rule": "everyone", "target": "pool:inbound", "when": None,
                           "matched": True, "step": "assigned"}]

    types = [e["type"] for e in b.events(first["id"])]
    assert "lead.assigned" in types
    changes = [e for e in b.events(first["id"]) if e["type"] == "lead.stage_changed"]
    assert changes[-1]["data"]["to"] == "assigned" and changes[-1]["data"]["via"] == "routing"

    st, _, pool = b.get("/v1/pools/inbound")
    assert st == 200
    assert pool["decisions"] == 7 and pool["last_rep"] == "ana"
    assert {m["rep"]: m["assigned"] for m in pool["members"]} == {"ana": 3, "ben": 2, "cy": 2}
    assert {m["rep"]: m["open"] for m in pool["members"]} == {"ana": 3, "ben": 2, "cy": 2}


def test_a_lead_that_does_not_qualify_is_not_routed(baton_factory):
    b = start(baton_factory, RR_CONFIG)
    st, _, body = b.post_lead({"email": "someone@acme.example", "source": "web"})
    assert st == 201
    assert body["lead"]["stage"] == "new" and body["lead"]["owner"] is None
    st, _, err = b.get("/v1/leads/%d/decision" % body["lead"]["id"])
    assert_error(st, err, 404, "not_found")
    st, _, holds = b.get("/v1/holds")
    assert holds == {"held": [], "count": 0}


def test_without_routing_qualified_leads_stay_mql(baton_factory):
    b = start(baton_factory, BASE + "reps:\n" + THREE)
    l = post(b, 1)
    assert l["stage"] == "mql" and l["owner"] is None
    st, _, holds = b.get("/v1/holds")
    assert holds["count"] == 1 and holds["held"][0]["reason"] == "routing_off"
    st, _, err = b.get("/v1/leads/%d/decision" % l["id"])
    assert_error(st, err, 404, "not_found")


def test_flood_of_concurrent_leads_is_shared_exactly(baton_factory):
    cfg = config(
        THREE,
        "  - {id: inbound, strategy: fair_share, window: month, members: [ana, ben, cy]}\n",
        "    - {name: everyone, to: 'pool:inbound'}\n",
    )
    b = start(baton_factory, cfg, clock=None)
    total, threads = 3000, 24
    errors = []

    def worker(k):  # records; the main thread asserts
        for n in range(k, total, threads):
            try:
                st, _, body = b.post_lead(lead(n))
            except Exception as e:  # noqa: BLE001 - asserted below
                errors.append(e)
                continue
            if st != 201 or body["lead"]["stage"] != "assigned":
                errors.append((st, body))

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    counts = {}
    for l in b.list_leads():
        counts[l["owner"]] = counts.get(l["owner"], 0) + 1
    assert counts == {"ana": 1000, "ben": 1000, "cy": 1000}
    st, _, pool = b.get("/v1/pools/inbound")
    assert pool["decisions"] == 3000
    assert {m["rep"]: m["assigned"] for m in pool["members"]} == {"ana": 1000, "ben": 1000, "cy": 1000}


def test_weighted_pool_follows_the_weights(baton_factory):
    reps = """\
  - {id: ana, weight: 3}
  - {id: ben, weight: 2}
  - {id: cy, weight: 1}
"""
    cfg = config(reps, "  - {id: w, strategy: weighted, members: [ana, ben, cy]}\n",
                 "    - {name: all, to: 'pool:w'}\n")
    b = start(baton_factory, cfg)
    owners = [post(b, i)["owner"] for i in range(60)]
    assert {r: owners.count(r) for r in ("ana", "ben", "cy")} == {"ana": 30, "ben": 20, "cy": 10}


def test_everyone_away_holds_the_lead_until_a_rep_returns(baton_factory):
    b = start(baton_factory, RR_CONFIG)
    for rep in ("ana", "ben", "cy"):
        st, _, body = set_status(b, rep, "away", reason="offsite")
        assert st == 200, body
        assert body["status"] == "away" and body["eligible_now"] is False
        assert body["ineligible_because"] == "away"
    l = post(b, 1)
    assert l["stage"] == "mql" and l["owner"] is None
    st, _, holds = b.get("/v1/holds")
    assert holds["count"] == 1
    assert holds["held"][0]["lead"] == l["id"]
    assert holds["held"][0]["reason"] == "no_eligible_member"
    assert holds["held"][0]["pool"] == "inbound"
    st, _, d = b.get("/v1/leads/%d/decision" % l["id"])
    assert d["result"] == "held" and d["hold_reason"] == "no_eligible_member"
    assert {c["rep"]: c["reason"] for c in d["candidates"]} == {"ana": "away", "ben": "away", "cy": "away"}
    assert "lead.held" in [e["type"] for e in b.events(l["id"])]
    # the timer's retries at the next minutes change nothing and write nothing
    scored_at = get_lead(b, l["id"])["score"]["scored_at"]
    n_events = len(b.events(l["id"]))
    for _ in range(2):
        b.request("POST", "/v1/admin/clock", body={"advance_seconds": 60})
        time.sleep(1.5)
    assert get_lead(b, l["id"])["score"]["scored_at"] == scored_at
    assert len(b.events(l["id"])) == n_events
    st, _, d2 = b.get("/v1/leads/%d/decision" % l["id"])
    assert d2["id"] == d["id"]

    st, _, body = set_status(b, "ben", "available")
    assert st == 200 and body["assigned_from_hold"] == 1
    after = get_lead(b, l["id"])
    assert after["stage"] == "assigned" and after["owner"] == "ben"
    st, _, holds = b.get("/v1/holds")
    assert holds["count"] == 0


def test_status_until_expires_and_the_timer_drains(baton_factory):
    b = start(baton_factory, RR_CONFIG.replace("members: [ana, ben, cy]", "members: [ana]"))
    st, _, body = set_status(b, "ana", "offline", until="2026-11-24T09:30:00Z")
    assert st == 200 and body["status_until"] == "2026-11-24T09:30:00.000Z"
    l = post(b, 1)
    assert l["stage"] == "mql"
    st, _, clock = b.request("POST", "/v1/admin/clock", body={"advance_seconds": 1800})
    assert st == 200
    assert wait_for(lambda: get_lead(b, l["id"])["owner"] == "ana")
    st, _, rep = b.get("/v1/reps/ana")
    assert rep["status"] == "available" and rep["eligible_now"] is True


def test_hold_queue_drains_highest_score_first_and_caps_reset_at_midnight(baton_factory):
    cfg = config("  - {id: ana, daily_cap: 1}\n",
                 "  - {id: solo, strategy: round_robin, members: [ana]}\n",
                 "    - {name: all, to: 'pool:solo'}\n")
    b = start(baton_factory, cfg)
    set_status(b, "ana", "away")
    small = post(b, 1, employees=10)
    big = post(b, 2, employees=5000)
    st, _, holds = b.get("/v1/holds")
    assert [h["lead"] for h in holds["held"]] == [big["id"], small["id"]]
    st, _, body = set_status(b, "ana", "available")
    assert body["assigned_from_hold"] == 1 and body["today"] == 1
    assert get_lead(b, big["id"])["owner"] == "ana"
    assert get_lead(b, small["id"])["owner"] is None
    st, _, d = b.get("/v1/leads/%d/decision" % small["id"])
    assert d["result"] == "held"
    st, _, rep = b.get("/v1/reps/ana")
    assert rep["ineligible_because"] == "daily_cap"
    # next day (UTC): the cap resets and the timer assigns the waiting lead
    b.request("POST", "/v1/admin/clock", body={"advance_seconds": 15 * 3600})
    assert wait_for(lambda: get_lead(b, small["id"])["owner"] == "ana")


def test_outside_working_hours_waits_for_the_shift_to_start(baton_factory):
    reps = """\
  - id: katrin
    timezone: Europe/Berlin
    hours: {mon-fri: "09:00-17:00"}
"""
    cfg = config(reps, "  - {id: de, strategy: round_robin, members: [katrin]}\n",
                 "    - {name: all, to: 'pool:de'}\n")
    b = start(baton_factory, cfg, clock="2026-11-24T06:30:00Z")  # 07:30 in Berlin
    l = post(b, 1)
    assert l["stage"] == "mql"
    st, _, d = b.get("/v1/leads/%d/decision" % l["id"])
    assert d["candidates"][0]["reason"] == "outside_hours"
    st, _, rep = b.get("/v1/reps/katrin")
    assert rep["working_now"] is False and rep["not_working_because"] == "outside_hours"
    assert rep["next_working_at"] == "2026-11-24T08:00:00.000Z"
    b.request("POST", "/v1/admin/clock", body={"advance_seconds": 5400 + 60})
    assert wait_for(lambda: get_lead(b, l["id"])["owner"] == "katrin")


def test_time_off_makes_a_rep_ineligible_until_removed(baton_factory):
    b = start(baton_factory, RR_CONFIG.replace("members: [ana, ben, cy]", "members: [ana]"))
    st, _, rep = b.request("POST", "/v1/reps/ana/time-off",
                           body={"from": "2026-11-24T00:00:00Z", "to": "2026-11-27T00:00:00Z",
                                 "reason": "vacation"})
    assert st == 201, rep
    span = rep["time_off_added"]
    assert span["reason"] == "vacation" and span["from"] == "2026-11-24T00:00:00.000Z"
    assert rep["ineligible_because"] == "time_off"
    assert [t["id"] for t in rep["time_off"]] == [span["id"]]
    l = post(b, 1)
    assert l["stage"] == "mql"
    st, _, rep = b.request("DELETE", "/v1/reps/ana/time-off/%d" % span["id"])
    assert st == 200 and rep["assigned_from_hold"] == 1 and rep["time_off"] == []
    assert get_lead(b, l["id"])["owner"] == "ana"
    st, _, err = b.request("DELETE", "/v1/reps/ana/time-off/%d" % span["id"])
    assert_error(st, err, 404, "not_found")


def test_named_rep_with_fallback_to_the_next_rule(baton_factory):
    cfg = config(
        THREE,
        "  - {id: rest, strategy: round_robin, members: [ben, cy]}\n",
        "    - {name: vip, when: 'employees >= 1000', to: 'rep:ana', fallback: next_rule}\n"
        "    - {name: others, to: 'pool:rest'}\n",
    )
    b = start(baton_factory, cfg)
    assert post(b, 1, employees=5000)["owner"] == "ana"
    set_status(b, "ana", "away")
    l = post(b, 2, employees=5000)
    assert l["owner"] == "ben"
    st, _, d = b.get("/v1/leads/%d/decision" % l["id"])
    assert d["rules"][0]["step"] == "unavailable" and d["rules"][0]["eligibility"] == "away"
    assert d["rules"][1]["step"] == "assigned" and d["rule"] == "others"


def test_rule_languages_and_hold_target(baton_factory):
    reps = """\
  - {id: ana, languages: [en]}
  - {id: ben, languages: [en, de]}
"""
    cfg = config(
        reps,
        "  - {id: all, strategy: round_robin, members: [ana, ben]}\n",
        "    - {name: spam, when: 'email.domain == \"spam.example\"', to: hold}\n"
        "    - {name: german, when: 'country == \"DE\"', to: 'pool:all', languages: [de]}\n"
        "    - {name: default, to: 'pool:all'}\n",
    )
    b = start(baton_factory, cfg)
    for i in range(3):
        assert post(b, i, country="Germany")["owner"] == "ben"
    st, _, body = b.post_lead({"email": "x@spam.example", "source": "demo"})
    assert body["lead"]["stage"] == "mql"
    st, _, holds = b.get("/v1/holds")
    assert holds["held"][0]["reason"] == "rule" and holds["held"][0]["rule"] == "spam"


def test_rep_endpoints_reject_bad_input_and_change_nothing(baton_factory):
    b = start(baton_factory, RR_CONFIG)
    cases = [
        ({"status": "sleeping"}, "status"),
        ({}, "status"),
        ({"status": "away", "until": "tomorrow"}, "until"),
        ({"status": "available", "until": "2026-12-01T00:00:00Z"}, "until"),
        ({"status": "away", "mood": "grumpy"}, "mood"),
        ({"status": "away", "reason": 5}, "reason"),
    ]
    for body, field in cases:
        st, _, err = set_status(b, "ana", body.get("status", "x"), **{k: v for k, v in body.items() if k != "status"}) \
            if body.get("status") else b.request("PUT", "/v1/reps/ana/status", body=body)
        assert_error(st, err, 422, "invalid", field)
    st, _, err = set_status(b, "ana", "away", until="2026-11-01T00:00:00Z")
    assert_error(st, err, 422, "invalid", "until")
    st, _, err = b.request("PUT", "/v1/reps/ana/status", body="{not json")
    assert_error(st, err, 400, "malformed")
    st, _, err = set_status(b, "nobody", "away")
    assert_error(st, err, 404, "not_found", "id")
    st, _, err = b.request("POST", "/v1/reps/ana/time-off", body={"from": "2026-11-25T00:00:00Z",
                                                                  "to": "2026-11-24T00:00:00Z"})
    assert_error(st, err, 422, "invalid", "to")
    st, _, err = b.request("POST", "/v1/reps/ana/time-off", body={"from": "2026-11-25T00:00:00Z"})
    assert_error(st, err, 422, "invalid", "to")
    st, _, rep = b.get("/v1/reps/ana")
    assert rep["status"] == "available" and rep["time_off"] == []
    st, _, err = b.get("/v1/pools/nope")
    assert_error(st, err, 404, "not_found", "id")
    st, _, err = b.get("/v1/leads/999/decision")
    assert_error(st, err, 404, "not_found", "id")
    # the hold queue's listing refuses what it does not know, like every list
    for query, field in (("?limit=0", "limit"), ("?limit=x", "limit"), ("?cursor=5", "cursor"),
                         ("?limit=1&limit=2", "limit")):
        st, _, err = b.get("/v1/holds" + query)
        assert_error(st, err, 400, "invalid", field)
    st, _, holds = b.get("/v1/holds?limit=1000")
    assert st == 200 and holds["count"] == 0
    assert b.running()


def test_rep_keys_act_only_for_their_own_rep(baton_factory):
    b = start(baton_factory, RR_CONFIG)
    key = b.create_key("rep", rep="ana")
    st, _, body = b.request("PUT", "/v1/reps/ana/status", body={"status": "away"}, key=key)
    assert st == 200 and body["status"] == "away"
    st, _, err = b.request("PUT", "/v1/reps/ben/status", body={"status": "away"}, key=key)
    assert_error(st, err, 403, "forbidden", "id")
    st, _, err = b.get("/v1/reps", key=key)
    assert st == 403
    st, _, err = b.get("/v1/pools/inbound", key=key)
    assert st == 403
    l = post(b, 1)
    assert l["owner"] == "ben"
    st, _, err = b.get("/v1/leads/%d/decision" % l["id"], key=key)
    assert_error(st, err, 404, "not_found", "id")
    ben = b.create_key("rep", rep="ben")
    st, _, d = b.get("/v1/leads/%d/decision" % l["id"], key=ben)
    assert st == 200 and d["rep"] == "ben"


def test_list_reps_and_pools(baton_factory):
    b = start(baton_factory, RR_CONFIG)
    post(b, 1)
    st, _, body = b.get("/v1/reps")
    assert st == 200
    reps = {r["id"]: r for r in body["reps"]}
    assert set(reps) == {"ana", "ben", "cy"}
    assert reps["ana"]["open"] == 1 and reps["ana"]["today"] == 1
    assert reps["ana"]["pools"] == ["inbound"] and reps["ana"]["capacity"] is None
    st, _, body = b.get("/v1/pools")
    assert [p["id"] for p in body["pools"]] == ["inbound"]
    assert body["pools"][0]["state"]["strategy"] == "round_robin"


ACCOUNT_CONFIG = config(
    THREE,
    "  - {id: inbound, strategy: round_robin, members: [ana, ben]}\n",
    "    - {name: returning, to: lead_owner}\n"
    "    - {name: named-accounts, to: account_owner}\n"
    "    - {name: everyone, to: 'pool:inbound'}\n",
)


def test_account_owner_keeps_the_accounts_leads(baton_factory):
    b = start(baton_factory, ACCOUNT_CONFIG)
    st, _, body = b.request("POST", "/v1/accounts", body={
        "accounts": [
            {"id": "acme", "name": "Acme Corporation", "domains": ["acme.example"], "country": "DE",
             "owner": "cy"},
            {"id": "globex", "name": "Globex GmbH", "domains": ["globex.example"]},
        ]})
    assert st in (200, 201), body
    # by email domain, and by parent domain
    for email in ("jane@acme.example", "joe@eu.acme.example"):
        st, _, body = b.post_lead({"email": email, "source": "demo"})
        l = body["lead"]
        assert l["owner"] == "cy", l
        assert l["account"]["id"] == "acme"
    st, _, d = b.get("/v1/leads/%d/decision" % l["id"])
    assert d["rule"] == "named-accounts" and d["rep"] == "cy"
    assert d["account"]["id"] == "acme" and d["account"]["owner"] == "cy"
    assert d["account"]["match"]["kind"] == "parent_domain"
    assert [r["step"] for r in d["rules"]] == ["no_owner", "assigned"]
    assert "lead.account_matched" in [e["type"] for e in b.events(l["id"])]
    # by a similar company name with a supporting signal (the country)
    st, _, body = b.post_lead({"email": "x@gmail.com", "company": "ACME Corporation Inc.",
                               "country": "Germany", "source": "demo"})
    assert body["lead"]["account"]["id"] == "acme" and body["lead"]["owner"] == "cy"
    # a near miss that must not match: another company, no domain
    st, _, body = b.post_lead({"email": "y@gmail.com", "company": "Acne Corp", "source": "demo"})
    assert body["lead"]["account"] is None and body["lead"]["owner"] in ("ana", "ben")
    # an account without an owner falls through to the pool
    st, _, body = b.post_lead({"email": "z@globex.example", "source": "demo"})
    l = body["lead"]
    assert l["account"]["id"] == "globex" and l["owner"] in ("ana", "ben")
    st, _, d = b.get("/v1/leads/%d/decision" % l["id"])
    assert [r["step"] for r in d["rules"]] == ["no_owner", "no_owner", "assigned"]


def test_an_away_account_owner_falls_through(baton_factory):
    b = start(baton_factory, ACCOUNT_CONFIG)
    st, _, body = b.request("POST", "/v1/accounts", body={
        "id": "acme", "name": "Acme", "domains": ["acme.example"], "owner": "cy"})
    assert st in (200, 201), body
    set_status(b, "cy", "away")
    st, _, body = b.post_lead({"email": "jane@acme.example", "source": "demo"})
    l = body["lead"]
    assert l["owner"] in ("ana", "ben")
    st, _, d = b.get("/v1/leads/%d/decision" % l["id"])
    assert d["rules"][1] == {"rule": "named-accounts", "target": "account_owner", "when": None,
                             "matched": True, "step": "unavailable", "rep": "cy",
                             "eligibility": "away"}


def test_a_corrupt_pool_state_never_stops_routing(baton_factory):
    import sqlite3
    b = start(baton_factory, RR_CONFIG)
    assert post(b, 1)["owner"] == "ana"
    bad_states = [
        "not json at all",
        '{"strategy": "round_robin", "last_rep": null, "window_start": 0, "updated_at": 0,'
        ' "decisions": 2, "members": [{"rep": "ana", "pointer": 0, "credit": 0, "assigned": 1},'
        ' {"rep": "ana", "pointer": 0, "credit": 0, "assigned": 1}]}',
    ]
    for n, bad in enumerate(bad_states):
        b.stop()
        db = sqlite3.connect(b.db)
        db.execute("UPDATE pool_state SET state = ? WHERE pool_id = 'inbound'", (bad,))
        db.commit()
        db.close()
        b.start(extra_args=("--manual-clock", TUESDAY_0900Z))
        l = post(b, 10 + n)
        assert l["stage"] == "assigned", l
        st, _, d = b.get("/v1/leads/%d/decision" % l["id"])
        assert d["pool_state_reset"] is True
        assert d["strategy"]["before"]["decisions"] == 0
        discarded = d["discarded_pool_states"]["inbound"]
        if n == 0:
            assert discarded == "not json at all"
        else:
            assert discarded["decisions"] == 2 and len(discarded["members"]) == 2
        assert "fresh pool state" in b.stderr_text() or "afresh" in b.stderr_text()


def test_leads_that_qualified_while_routing_was_off_are_routed_after_a_reload(baton_factory):
    import signal
    b = start(baton_factory, BASE + "reps:\n" + THREE)
    l = post(b, 1)
    assert l["stage"] == "mql" and l["owner"] is None
    st, _, holds = b.get("/v1/holds")
    assert holds["held"][0]["lead"] == l["id"] and holds["held"][0]["reason"] == "routing_off"
    b.write_config(RR_CONFIG)
    b.signal(signal.SIGHUP)
    b.wait_stderr("config reloaded")
    assert wait_for(lambda: get_lead(b, l["id"])["owner"] == "ana")
    st, _, holds = b.get("/v1/holds")
    assert holds["count"] == 0


def test_an_until_within_the_minute_is_not_left_waiting_for_the_next(baton_factory):
    b = start(baton_factory, RR_CONFIG.replace("members: [ana, ben, cy]", "members: [ana, ben]"))
    time.sleep(1.5)  # the timer's walk for this minute is done: the until is set after it
    set_status(b, "ana", "away", until="2026-11-24T09:00:30Z")
    set_status(b, "ben", "offline")
    l = post(b, 1)
    assert l["stage"] == "mql"
    b.request("POST", "/v1/admin/clock", body={"now": "2026-11-24T09:00:40Z"})
    assert wait_for(lambda: get_lead(b, l["id"])["owner"] == "ana", timeout=5)


def test_a_held_lead_closed_by_an_outcome_leaves_the_queue(baton_factory):
    b = start(baton_factory, RR_CONFIG)
    for rep in ("ana", "ben", "cy"):
        set_status(b, rep, "away")
    l = post(b, 1)
    st, _, holds = b.get("/v1/holds")
    assert holds["count"] == 1
    st, _, body = b.request("POST", "/v1/leads/%d/outcome" % l["id"], body={"stage": "disqualified"})
    assert st == 200, body
    st, _, holds = b.get("/v1/holds")
    assert holds["count"] == 0


def test_until_must_be_in_the_future(baton_factory):
    b = start(baton_factory, RR_CONFIG)
    for until in ("1970-01-01T00:00:00Z", "2026-11-24T08:59:59Z", "2026-11-24T09:00:00Z"):
        st, _, err = set_status(b, "ana", "away", until=until)
        assert_error(st, err, 422, "invalid", "until")
    st, _, rep = b.get("/v1/reps/ana")
    assert rep["status"] == "available"
    long_reason = "é" * 1000  # 1000 characters, 2000 bytes: accepted
    st, _, rep = set_status(b, "ana", "away", reason=long_reason)
    assert st == 200 and rep["status_reason"] == long_reason
    st, _, err = set_status(b, "ana", "away", reason="é" * 1001)
    assert_error(st, err, 422, "invalid", "reason")


def test_a_reload_that_changes_members_keeps_the_pool_state(baton_factory):
    import signal
    b = start(baton_factory, RR_CONFIG)
    assert [post(b, i)["owner"] for i in range(4)] == ["ana", "ben", "cy", "ana"]
    # dee joins between ana and ben (members follow the order of reps); cy leaves
    b.write_config(RR_CONFIG.replace("  - {id: ana, name: Ana}\n", "  - {id: ana, name: Ana}\n  - {id: dee}\n")
                   .replace("members: [ana, ben, cy]", "members: [ana, dee, ben]"))
    b.signal(signal.SIGHUP)
    b.wait_stderr("config reloaded")
    l = post(b, 10)
    assert l["owner"] == "dee"  # the rotation goes on after ana, the last one assigned
    st, _, d = b.get("/v1/leads/%d/decision" % l["id"])
    assert [c.get("joined", False) for c in d["candidates"]] == [False, True, False]
    assert d["strategy"]["removed"] == ["cy"]
    assert d["strategy"]["before"]["decisions"] == 4 and d["strategy"]["after"]["decisions"] == 5
    st, _, pool = b.get("/v1/pools/inbound")
    assert {m["rep"]: m["assigned"] for m in pool["members"]} == {"ana": 2, "dee": 1, "ben": 1}

"""Deadlines driven by the manual clock: POST /v1/admin/clock processes every
deadline that falls due on the way, in order and each at its own time,
before it answers (no waiting for a timer thread)."""

from conftest import assert_error
from test_routing import BASE, config, get_lead, post, set_status, start

BERLIN_REP = """\
  - id: katrin
    timezone: Europe/Berlin
    hours: {mon-fri: "09:00-17:00"}
"""
DE_POOL = "  - {id: de, strategy: round_robin, members: [katrin]}\n"
ALL_TO_DE = "    - {name: all, to: 'pool:de'}\n"


def assigned_event(b, lead_id):
    return [e for e in b.events(lead_id) if e["type"] == "lead.assigned"]


def test_a_shift_start_on_the_way_assigns_at_that_instant(baton_factory):
    # Tuesday 07:30 in Berlin; the shift starts at 09:00 local (08:00 UTC)
    b = start(baton_factory, config(BERLIN_REP, DE_POOL, ALL_TO_DE), clock="2026-11-24T06:30:00Z")
    l = post(b, 1)
    assert l["stage"] == "mql"
    st, _, clock = b.request("POST", "/v1/admin/clock", body={"now": "2026-11-24T11:00:00Z"})
    assert st == 200, clock
    assert clock["now"] == "2026-11-24T11:00:00.000Z"
    assert clock["holds_tried"] >= 1 and clock["deadlines_run"] >= 1
    # already assigned when the clock answered, and at the shift's first instant
    lead = get_lead(b, l["id"])
    assert lead["owner"] == "katrin" and lead["stage"] == "assigned"
    (ev,) = assigned_event(b, l["id"])
    assert ev["at"] == "2026-11-24T08:00:00.000Z", ev
    st, _, d = b.get("/v1/leads/%d/decision" % l["id"])
    assert d["at"] == "2026-11-24T08:00:00.000Z" and d["rep"] == "katrin"


def test_deadlines_run_in_order_each_at_its_own_time(baton_factory):
    reps = "  - {id: ana}\n  - {id: ben}\n"
    pools = ("  - {id: a, strategy: round_robin, members: [ana]}\n"
             "  - {id: b, strategy: round_robin, members: [ben]}\n")
    rules = ("    - {name: big, when: 'employees >= 1000', to: 'pool:a'}\n"
             "    - {name: rest, to: 'pool:b'}\n")
    b = start(baton_factory, config(reps, pools, rules))  # Tuesday 09:00Z
    st, _, _ = set_status(b, "ana", "away", until="2026-11-24T10:30:00Z")
    assert st == 200
    st, _, _ = set_status(b, "ben", "away", until="2026-11-24T09:45:00Z")
    assert st == 200
    big = post(b, 1, employees=5000)
    small = post(b, 2, employees=10)
    assert big["stage"] == "mql" and small["stage"] == "mql"
    st, _, holds = b.get("/v1/holds")
    assert holds["count"] == 2
    st, _, clock = b.request("POST", "/v1/admin/clock", body={"advance_seconds": 4 * 3600})
    assert st == 200
    (eb,) = assigned_event(b, big["id"])
    (es,) = assigned_event(b, small["id"])
    # ben came back first, ana later: each lead went at its rep's own instant
    assert es["at"] == "2026-11-24T09:45:00.000Z" and es["data"]["rep"] == "ben"
    assert eb["at"] == "2026-11-24T10:30:00.000Z" and eb["data"]["rep"] == "ana"
    st, _, holds = b.get("/v1/holds")
    assert holds["count"] == 0


def test_the_clock_refuses_to_go_back_and_bad_bodies(baton_factory):
    b = start(baton_factory, BASE)
    for body in ({}, {"now": 5}, {"advance_seconds": -1}, {"advance_seconds": "1"},
                 {"now": "2026-11-25T00:00:00Z", "advance_seconds": 1}, ["now"]):
        st, _, err = b.request("POST", "/v1/admin/clock", body=body)
        assert_error(st, err, 422, "invalid")
    st, _, err = b.request("POST", "/v1/admin/clock", body={"now": "2026-11-01T00:00:00Z"})
    assert_error(st, err, 422, "invalid", "now")
    st, _, err = b.request("POST", "/v1/admin/clock", body='{"now": "a", "now": "b"}')
    assert_error(st, err, 400, "malformed")
    st, _, err = b.request("POST", "/v1/admin/clock", body="{")
    assert_error(st, err, 400, "malformed")
    st, _, clock = b.request("POST", "/v1/admin/clock", body={"advance_seconds": 0})
    assert st == 200 and clock["now"] == "2026-11-24T09:00:00.000Z"


def test_the_clock_needs_an_admin_key(baton_factory):
    b = start(baton_factory, config("  - {id: ana}\n",
                                    "  - {id: p, strategy: round_robin, members: [ana]}\n",
                                    "    - {name: all, to: 'pool:p'}\n"))
    ingest = b.create_key("ingest")
    rep = b.create_key("rep", rep="ana")
    for key in (ingest, rep):
        st, _, err = b.request("POST", "/v1/admin/clock", body={"advance_seconds": 60}, key=key)
        assert_error(st, err, 403, "forbidden")
    st, _, err = b.request("POST", "/v1/admin/clock", body={"advance_seconds": 60}, key=None)
    assert_error(st, err, 401, "unauthorized")
    st, _, clock = b.request("POST", "/v1/admin/clock", body={"advance_seconds": 0})
    assert clock["now"] == "2026-11-24T09:00:00.000Z"  # nothing moved it

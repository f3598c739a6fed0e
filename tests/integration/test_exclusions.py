"""Excluding a rep from a lead (POST/GET /v1/leads/{id}/exclusions) and the
route step it drives: an excluded rep is never offered the lead again, and
with "reroute" a lead the rep holds is taken back and routed to someone
else, with the events and the decision record to show for it."""

from conftest import assert_error
from test_routing import RR_CONFIG, get_lead, post, set_status, start

EXCLUSIONS = "/v1/leads/%d/exclusions"


def exclude(b, lead_id, key=None, **body):
    kw = {} if key is None else {"key": key}
    return b.request("POST", EXCLUSIONS % lead_id, body=body, **kw)


def test_reroute_takes_the_lead_to_the_next_rep_and_never_back(baton_factory):
    b = start(baton_factory, RR_CONFIG)
    l = post(b, 1)
    assert l["owner"] == "ana" and l["stage"] == "assigned"
    st, _, body = exclude(b, l["id"], rep="ana", reason="wrong_territory", reroute=True)
    assert st == 201, body
    assert body["rerouted"] is True
    assert body["lead"]["owner"] == "ben" and body["lead"]["stage"] == "assigned"
    assert [(x["rep"], x["reason"]) for x in body["exclusions"]] == [("ana", "wrong_territory")]
    st, _, d = b.get("/v1/leads/%d/decision" % l["id"])
    assert st == 200 and d["rep"] == "ben"
    cands = {c["rep"]: c["reason"] for c in d["candidates"]}
    assert cands["ana"] == "excluded"
    events = b.events(l["id"])
    types = [e["type"] for e in events]
    assert types[-4:] == ["lead.excluded", "lead.stage_changed", "lead.stage_changed",
                          "lead.assigned"], types
    back, forward = events[-3]["data"], events[-2]["data"]
    assert (back["from"], back["to"], back["via"], back["rep"]) == \
        ("assigned", "mql", "exclusion", "ana")
    assert (forward["from"], forward["to"], forward["via"]) == ("mql", "assigned", "routing")
    assert events[-1]["data"]["rep"] == "ben"
    # ana's open assignment closed, ben's opened
    st, _, ana = b.get("/v1/reps/ana")
    st, _, ben = b.get("/v1/reps/ben")
    assert ana["open"] == 0 and ben["open"] == 1
    # excluded from every later routing of this lead: ben away too -> cy, never ana
    st, _, body = exclude(b, l["id"], rep="ben", reroute=True)
    assert st == 201 and body["lead"]["owner"] == "cy", body


def test_exclusion_without_reroute_changes_no_owner(baton_factory):
    b = start(baton_factory, RR_CONFIG)
    l = post(b, 1)
    st, _, body = exclude(b, l["id"], rep="ana")
    assert st == 201 and body["rerouted"] is False
    assert body["lead"]["owner"] == "ana"
    assert body["exclusions"][0]["reason"] == "manual"
    # another rep's exclusion with reroute: the lead is not theirs, nothing moves
    st, _, body = exclude(b, l["id"], rep="cy", reroute=True)
    assert st == 201 and body["rerouted"] is False and body["lead"]["owner"] == "ana"
    st, _, body = b.get(EXCLUSIONS % l["id"])
    assert st == 200 and [x["rep"] for x in body["data"]] == ["ana", "cy"]


def test_an_excluded_rep_leaves_the_lead_held_when_nobody_else_can_take_it(baton_factory):
    b = start(baton_factory, RR_CONFIG.replace("members: [ana, ben, cy]", "members: [ana, ben]"))
    set_status(b, "ben", "away")
    l = post(b, 1)
    assert l["owner"] == "ana"
    st, _, body = exclude(b, l["id"], rep="ana", reroute=True)
    assert st == 201 and body["rerouted"] is True
    # taken from ana: no owner while it waits, and ana no longer sees it
    assert body["lead"]["stage"] == "mql" and body["lead"]["owner"] is None
    ana = b.create_key("rep", rep="ana")
    st, _, err = b.get("/v1/leads/%d" % l["id"], key=ana)
    assert_error(st, err, 404, "not_found", "id")
    st, _, holds = b.get("/v1/holds")
    assert [h["lead"] for h in holds["held"]] == [l["id"]]
    assert holds["held"][0]["reason"] == "no_eligible_member"
    # ben comes back: the held lead goes to ben, not to the excluded ana
    st, _, rep = set_status(b, "ben", "available")
    assert st == 200 and rep["assigned_from_hold"] == 1
    assert get_lead(b, l["id"])["owner"] == "ben"


def test_exclusions_bad_input_changes_nothing(baton_factory):
    b = start(baton_factory, RR_CONFIG)
    l = post(b, 1)
    n_events = len(b.events(l["id"]))
    for body, field in [({}, "rep"), ({"rep": "ghost"}, "rep"), ({"rep": 5}, "rep"),
                        ({"rep": "ana", "reroute": "yes"}, "reroute"),
                        ({"rep": "ana", "reason": "x" * 1001}, "reason"),
                        ({"rep": "ana", "reason": 7}, "reason"),
                        ({"rep": "ana", "mood": "bad"}, "mood")]:
        st, _, err = b.request("POST", EXCLUSIONS % l["id"], body=body)
        assert_error(st, err, 422, "invalid", field)
    st, _, err = b.request("POST", EXCLUSIONS % l["id"], body="{nope")
    assert_error(st, err, 400, "malformed")
    st, _, err = b.request("POST", EXCLUSIONS % l["id"], body=["ana"])
    assert_error(st, err, 422, "invalid")
    st, _, err = b.request("POST", EXCLUSIONS % l["id"], body='{"rep": "ana", "rep": "ben"}')
    assert_error(st, err, 400, "malformed")
    st, _, err = exclude(b, 999, rep="ana")
    assert_error(st, err, 404, "not_found", "id")
    st, _, err = b.get(EXCLUSIONS % 999)
    assert_error(st, err, 404, "not_found", "id")
    st, _, body = b.get(EXCLUSIONS % l["id"])
    assert st == 200 and body["data"] == []
    assert len(b.events(l["id"])) == n_events
    assert get_lead(b, l["id"])["owner"] == "ana"
    assert b.running()


def test_exclusions_auth(baton_factory):
    b = start(baton_factory, RR_CONFIG)
    l = post(b, 1)
    assert l["owner"] == "ana"
    ana = b.create_key("rep", rep="ana")
    ben = b.create_key("rep", rep="ben")
    ingest = b.create_key("ingest")
    # no key
    st, _, err = b.request("GET", EXCLUSIONS % l["id"], key=None)
    assert_error(st, err, 401, "unauthorized")
    st, _, err = b.request("POST", EXCLUSIONS % l["id"], body={"rep": "ben"}, key=None)
    assert_error(st, err, 401, "unauthorized")
    # ingest: neither
    st, _, err = b.request("GET", EXCLUSIONS % l["id"], key=ingest)
    assert_error(st, err, 403, "forbidden")
    st, _, err = exclude(b, l["id"], key=ingest, rep="ben")
    assert_error(st, err, 403, "forbidden")
    # a rep reads its own lead's exclusions, not another rep's, and excludes nobody
    st, _, body = b.request("GET", EXCLUSIONS % l["id"], key=ana)
    assert st == 200 and body["data"] == []
    st, _, err = b.request("GET", EXCLUSIONS % l["id"], key=ben)
    assert_error(st, err, 404, "not_found", "id")
    for key in (ana, ben):
        st, _, err = exclude(b, l["id"], key=key, rep="ana", reroute=True)
        assert_error(st, err, 403, "forbidden")
    assert get_lead(b, l["id"])["owner"] == "ana"
    # admin
    st, _, body = exclude(b, l["id"], rep="cy")
    assert st == 201

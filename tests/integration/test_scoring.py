"""Scoring, activities, qualification, outcomes and decay through the API of
the real binary (with --manual-clock where time matters)."""

import json
import os
import subprocess

from conftest import BATON_BIN, assert_error, run_baton

START = "2026-11-21T09:00:00Z"

CONFIG = """\
version: 1
intake:
  activities_create_leads: false
scoring:
  range: [0, 100]
  grades:
    fit: {A: 40, B: 25, C: 10}
    engagement: {1: 40, 2: 20, 3: 5}
  fit:
    - group: Company size
      cap: 30
      rules:
        - {name: Enterprise, when: "employees >= 1000", points: 30}
        - {name: Mid-market, when: "employees >= 200", points: 20}
    - name: Senior title
      when: title matches "^(vp|chief|head)"
      points: 15
    - name: Free mail
      when: email.free
      points: -10
    - name: Big budget
      when: fields.budget >= 10000
      points: 10
  engagement:
    - name: Pricing page
      activity: pricing_page_view
      points: 10
      cap: 20
      half_life: 7d
    - name: Webinar
      activity: webinar_attended
      points: 15
      window: 30d
    - name: Fleet demo
      activity: demo_request
      when: properties.product == "fleet"
      points: 5
qualification:
  mql_when: score >= 60
  fast_track_when: activity.demo_request.count > 0
  disqualify_when: email.domain in ["competitor.com"] or title contains "student"
"""


def start(baton_factory, config=CONFIG, clock=START):
    b = baton_factory(config=config, started=False)
    b.start(extra_args=("--manual-clock", clock) if clock else ())
    return b


def reasons_by_rule(lead):
    return {r["rule"]: r for r in lead["score"]["reasons"]}


def stage_events(b, lead_id):
    return [e for e in b.events(lead_id) if e["type"] == "lead.stage_changed"]


def test_fit_score_reasons_and_grade(baton_factory):
    b = start(baton_factory)
    st, _, body = b.post_lead({"email": "ceo@bigco.com", "employees": "5,000",
                               "title": "VP Sales", "fields": {"budget": "25000"}})
    assert st == 201, body
    lead = body["lead"]
    s = lead["score"]
    # size group capped at 30 (30 + 20 -> 30), senior 15, budget 10
    assert s["fit"] == 55 and s["engagement"] == 0 and s["total"] == 55
    assert s["grade"] == "A4"
    r = reasons_by_rule(lead)
    assert r["Enterprise"]["counted"] == 30 and r["Enterprise"]["group"] == "Company size"
    assert r["Mid-market"]["points"] == 20 and r["Mid-market"]["counted"] == 0
    assert r["Big budget"]["counted"] == 10  # "25000" compared as a number
    assert "Free mail" not in r
    assert lead["stage"] == "new"  # 55 < 60
    assert s["scored_at"] == "2026-11-21T09:00:00.000Z"
    assert s["rescore_at"] is None  # no decaying engagement yet
    # GET shows the same stored score
    st, _, got = b.get("/v1/leads/%d" % lead["id"])
    assert got["score"] == s


def test_negative_points_and_free_mail(baton_factory):
    b = start(baton_factory)
    st, _, body = b.post_lead({"email": "someone@gmail.com", "employees": 5})
    assert st == 201
    s = body["lead"]["score"]
    assert s["fit"] == -10 and s["total"] == 0  # clamped to the range
    assert s["grade"] == "D4"


def test_activity_raises_engagement_and_qualifies(baton_factory):
    b = start(baton_factory)
    _, _, body = b.post_lead({"email": "vp@mid.com", "employees": 300, "title": "VP Ops"})
    lead_id = body["lead"]["id"]
    assert body["lead"]["score"]["total"] == 35
    st, _, body = b.request("POST", "/v1/leads/%d/activities" % lead_id, body={
        "activities": [
            {"type": "pricing_page_view", "occurred_at": "2026-11-21T08:00:00Z"},
            {"type": "pricing_page_view", "occurred_at": "2026-11-21T08:30:00Z"},
            {"type": "pricing_page_view"},
            {"type": "webinar_attended", "occurred_at": "2026-11-10T15:00:00Z",
             "properties": {"title": "Fleet 101"}},
        ]})
    assert st == 201, body
    assert len(body["activities"]) == 4
    lead = body["leads"][0]
    r = reasons_by_rule(lead)
    assert r["Pricing page"]["matches"] == 3
    assert r["Pricing page"]["counted"] == 20  # capped
    assert r["Webinar"]["counted"] == 15
    assert lead["score"]["engagement"] == 35
    assert lead["score"]["total"] == 70
    assert lead["stage"] == "mql"
    ev = stage_events(b, lead_id)
    assert len(ev) == 1
    assert ev[0]["data"]["from"] == "new" and ev[0]["data"]["to"] == "mql"
    assert ev[0]["data"]["rule"] == "score >= 60"
    assert ev[0]["reason"]
    st, _, acts = b.get("/v1/leads/%d/activities" % lead_id)
    assert st == 200 and len(acts["data"]) == 4
    assert acts["data"][-1]["type"] == "webinar_attended"  # newest first
    assert acts["data"][-1]["properties"] == {"title": "Fleet 101"}


def test_fast_track_and_activity_conditions(baton_factory):
    b = start(baton_factory)
    _, _, body = b.post_lead({"email": "ops@small.io", "employees": 20})
    lead_id = body["lead"]["id"]
    st, _, body = b.request("POST", "/v1/activities", body={
        "email": "OPS@small.io", "type": "demo_request", "properties": {"product": "vans"}})
    assert st == 201, body
    lead = body["leads"][0]
    assert lead["id"] == lead_id
    assert "Fleet demo" not in reasons_by_rule(lead)  # condition on properties did not hold
    assert lead["score"]["total"] == 0
    assert lead["stage"] == "mql"  # fast track whatever the score
    assert stage_events(b, lead_id)[0]["data"]["rule"] == "activity.demo_request.count > 0"


def test_disqualified_at_intake(baton_factory):
    b = start(baton_factory)
    st, _, body = b.post_lead({"email": "spy@competitor.com", "employees": 5000})
    assert st == 201
    assert body["lead"]["stage"] == "disqualified"
    st, _, body = b.post_lead({"email": "kid@uni.edu", "title": "Student"})
    assert body["lead"]["stage"] == "disqualified"
    # a disqualified lead stays out even if it engages
    st, _, body = b.request("POST", "/v1/leads/%d/activities" % body["lead"]["id"],
                            body={"type": "demo_request"})
    assert st == 201 and body["leads"][0]["stage"] == "disqualified"


def test_activities_by_unknown_email(baton_factory):
    b = start(baton_factory)
    st, _, body = b.request("POST", "/v1/activities", body={
        "activities": [{"email": "nobody@x.com", "type": "webinar_attended"}]})
    assert_error(st, body, 404, "not_found", "activities[0].email")
    assert b.lead_count() == 0

    b2 = start(baton_factory, config=CONFIG.replace("activities_create_leads: false",
                                                    "activities_create_leads: true"))
    st, _, body = b2.request("POST", "/v1/activities", body={
        "email": "new@x.com", "type": "webinar_attended"})
    assert st == 201, body
    assert body["activities"][0]["created_lead"] is True
    assert body["leads"][0]["email"] == "new@x.com"
    assert body["leads"][0]["score"]["engagement"] == 15
    assert b2.lead_count() == 1


def test_bad_activities_change_nothing(baton_factory):
    b = start(baton_factory)
    _, _, body = b.post_lead({"email": "a@b.com"})
    lead_id = body["lead"]["id"]
    path = "/v1/leads/%d/activities" % lead_id
    cases = [
        ({"type": "Demo Request"}, "type"),
        ({}, "type"),
        ({"type": "x", "occurred_at": "2030-01-01T00:00:00Z"}, "occurred_at"),
        ({"type": "x", "occurred_at": "yesterday"}, "occurred_at"),
        ({"type": "x", "properties": {"a": {"b": 1}}}, "properties"),
        ({"type": "x", "colour": "red"}, "colour"),
        ({"activities": [{"type": "ok"}, {"type": "BAD"}]}, "activities[1].type"),
        ({"activities": []}, "activities"),
    ]
    for payload, field in cases:
        st, _, err = b.request("POST", path, body=payload)
        assert_error(st, err, 422, "invalid", field)
    st, _, err = b.request("POST", path, body="{nope")
    assert_error(st, err, 400, "malformed", None)
    st, _, err = b.request("POST", "/v1/leads/999/activities", body={"type": "x"})
    assert_error(st, err, 404, "not_found", "id")
    st, _, acts = b.get(path)
    assert acts["data"] == []
    assert len(b.events(lead_id)) == 1


def test_outcomes(baton_factory):
    b = start(baton_factory)
    _, _, body = b.post_lead({"email": "a@b.com"})
    lead_id = body["lead"]["id"]
    path = "/v1/leads/%d/outcome" % lead_id
    st, _, err = b.request("POST", path, body={"stage": "won", "value": 1000})
    assert_error(st, err, 409, "conflict", "stage")
    assert "allowed from new: mql, disqualified" in err["error"]["message"]
    for payload, field in [({"stage": "mql"}, "stage"), ({}, "stage"),
                           ({"stage": "lost", "value": -1}, "value"),
                           ({"stage": "lost", "currency": "euro"}, "currency"),
                           ({"stage": "lost", "why": "x"}, "why")]:
        st, _, err = b.request("POST", path, body=payload)
        assert_error(st, err, 422, "invalid", field)
    ingest = b.create_key("ingest")
    st, _, err = b.request("POST", path, body={"stage": "disqualified"}, key=ingest)
    assert st == 403
    st, _, lead = b.request("POST", path, body={"stage": "disqualified",
                                                "reason": "duplicate account"})
    assert st == 200, lead
    assert lead["stage"] == "disqualified"
    ev = stage_events(b, lead_id)[-1]
    assert ev["reason"] == "duplicate account" and ev["data"]["via"] == "outcome"
    st, _, err = b.request("POST", path, body={"stage": "lost"})
    assert_error(st, err, 409, "conflict", "stage")
    assert "final" in err["error"]["message"]


def test_decay_demotes_an_mql(baton_factory):
    b = start(baton_factory)
    _, _, body = b.post_lead({"email": "vp@mid.com", "employees": 300, "title": "VP Ops"})
    lead_id = body["lead"]["id"]
    st, _, body = b.request("POST", "/v1/leads/%d/activities" % lead_id, body={
        "activities": [{"type": "pricing_page_view"}, {"type": "pricing_page_view"},
                       {"type": "pricing_page_view"}]})
    lead = body["leads"][0]
    assert lead["score"]["total"] == 55  # 35 fit + 20 engagement: not yet an mql
    assert lead["stage"] == "new"
    st, _, body = b.request("POST", "/v1/leads/%d/activities" % lead_id,
                            body={"type": "webinar_attended"})
    lead = body["leads"][0]
    assert lead["score"]["total"] == 70 and lead["stage"] == "mql"
    assert lead["score"]["rescore_at"] is not None
    # one half-life later the pricing views count 3 x 10 x 0.5 = 15 (under the cap)
    # The clock's deadlines run at their own times: the lead was last rescored
    # when decay had moved it by a point, so it is within a point of that.
    st, _, clock = b.request("POST", "/v1/admin/clock", body={"advance_seconds": 7 * 86400})
    assert st == 200 and clock["rescored"] >= 1
    st, _, lead = b.get("/v1/leads/%d" % lead_id)
    assert 30 <= lead["score"]["engagement"] < 31 and 65 <= lead["score"]["total"] < 66, lead
    assert lead["score"]["scored_at"] < clock["now"]
    assert lead["score"]["rescore_at"] > clock["now"]
    assert lead["stage"] == "mql"
    # past the webinar window (30 d) and two more half-lives: 35 + 3.75 < 60
    st, _, clock = b.request("POST", "/v1/admin/clock", body={"advance_seconds": 24 * 86400})
    st, _, lead = b.get("/v1/leads/%d" % lead_id)
    webinar = reasons_by_rule(lead)["Webinar"]
    assert webinar["points"] == 15 and webinar["after_decay"] == 0 and webinar["counted"] == 0
    assert lead["stage"] == "new"
    ev = stage_events(b, lead_id)
    assert [(e["data"]["from"], e["data"]["to"]) for e in ev] == [("new", "mql"), ("mql", "new")]
    assert ev[-1]["actor"] == "system"


def test_clock_endpoint_needs_manual_clock(baton_factory):
    b = start(baton_factory, clock=None)
    st, _, err = b.request("POST", "/v1/admin/clock", body={"advance_seconds": 1})
    assert_error(st, err, 409, "conflict", None)
    b2 = start(baton_factory)
    st, _, err = b2.request("POST", "/v1/admin/clock", body={"now": "2020-01-01T00:00:00Z"})
    assert st == 422


def test_score_dry_run_matches_the_server(baton_factory, tmp_path):
    b = start(baton_factory)
    cfg = tmp_path / "baton.yaml"
    cfg.write_text(CONFIG)
    lead = {"email": "ceo@bigco.com", "employees": "5,000", "title": "VP Sales"}
    _, _, body = b.post_lead(lead)
    b.request("POST", "/v1/leads/%d/activities" % body["lead"]["id"],
              body={"type": "pricing_page_view", "occurred_at": "2026-11-20T09:00:00Z"})
    _, _, served = b.get("/v1/leads/%d" % body["lead"]["id"])
    inp = tmp_path / "lead.json"
    inp.write_text(json.dumps({"lead": lead, "activities": [
        {"type": "pricing_page_view", "occurred_at": "2026-11-20T09:00:00Z"}]}))
    r = run_baton("score", "--config", str(cfg), "--now", START, str(inp))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for k in ("total", "fit", "engagement", "grade", "reasons"):
        assert out["lead"]["score"][k] == served["score"][k], k
    assert out["decision"]["to"] == served["stage"]
    # stdin, and a plain lead body
    r = subprocess.run([BATON_BIN, "score", "--config", str(cfg), "--now", START, "-"],
                       input=json.dumps({"email": "spy@competitor.com"}), capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["decision"] == {"stage": "new", "to": "disqualified", "change": True,
                               "reason": out["decision"]["reason"],
                               "rule": 'email.domain in ["competitor.com"] or title contains '
                                       '"student"'}
    # bad input: clear error, exit 1
    r = subprocess.run([BATON_BIN, "score", "--config", str(cfg), "-"], input='{"email": 5}',
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "email" in r.stderr


def test_bad_rule_in_config_is_reported_with_position(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("version: 1\nqualification:\n  mql_when: score >= \n")
    r = run_baton("check", str(cfg))
    assert r.returncode == 1
    assert r.stderr.startswith(str(cfg) + ":3:")
    cfg.write_text("version: 1\nqualification:\n  mql_when: scroe >= 60\n")
    r = run_baton("check", str(cfg))
    assert r.returncode == 1 and ":3:13:" in r.stderr and "score" in r.stderr


TIME_RULES = """\
version: 1
qualification:
  fast_track_when: activity.contact_sales.last_days <= 7
"""


def test_time_based_rules_are_rechecked(baton_factory):
    """A condition on last_days changes with time alone, without any decay:
    the lead must be rechecked (it used to stay an mql for ever)."""
    b = start(baton_factory, config=TIME_RULES)
    _, _, body = b.post_lead({"email": "t@x.com"})
    lead_id = body["lead"]["id"]
    st, _, body = b.request("POST", "/v1/leads/%d/activities" % lead_id,
                            body={"type": "contact_sales"})
    lead = body["leads"][0]
    assert lead["stage"] == "mql"
    assert lead["score"]["rescore_at"] is not None
    b.request("POST", "/v1/admin/clock", body={"advance_seconds": 6 * 86400})
    _, _, lead = b.get("/v1/leads/%d" % lead_id)
    assert lead["stage"] == "mql"
    b.request("POST", "/v1/admin/clock", body={"advance_seconds": 2 * 86400})
    _, _, lead = b.get("/v1/leads/%d" % lead_id)
    assert lead["stage"] == "new"
    assert lead["score"]["scored_at"] > "2026-11-28"

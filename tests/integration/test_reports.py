"""Reports (GET /v1/reports/{name} and baton report): figures computed from
a small history driven with the manual clock, the same document from the
API and the CLI, the roles, and clear errors for bad names, windows and
parameters."""

import csv
import io
import json

from conftest import assert_error, run_baton
from test_handoff import CONFIG, T0, act, advance, assignments
from test_routing import post, start

REPORTS = CONFIG + """\
reports:
  lost_lead_value: 1500
"""
WINDOW = "since=2026-11-24&until=2026-11-25"


def history(baton_factory):
    """Three leads: ana accepts after 10 min and contacts 20 min later; ben
    rejects his as bad data (the lead is disqualified); the third, cy's by
    round robin, waits."""
    b = start(baton_factory, REPORTS)
    l1 = post(b, 1)
    l2 = post(b, 2)
    (a1,) = assignments(b, l1["id"])
    (a2,) = assignments(b, l2["id"])
    advance(b, 600)
    st, _, body = act(b, a1["id"], "accept")
    assert st == 200, body
    st, _, body = act(b, a2["id"], "reject", reason="bad_data")
    assert st == 200, body
    advance(b, 1200)
    st, _, body = act(b, a1["id"], "contacted")
    assert st == 200, body
    post(b, 3)
    return b, l1, l2


def report(b, name, query=WINDOW, **kw):
    st, _, body = b.get("/v1/reports/%s?%s" % (name, query), **kw)
    return st, body


def table(body, name):
    (t,) = [t for t in body["tables"] if t["name"] == name]
    return [dict(zip(t["columns"], row)) for row in t["rows"]]


def test_speed_sla_acceptance_funnel_dark_routing_fairness(baton_factory):
    b, l1, l2 = history(baton_factory)
    st, body = report(b, "speed-to-lead")
    assert st == 200, body
    assert body["since"] == "2026-11-24T00:00:00.000Z" and body["until"] == "2026-11-25T00:00:00.000Z"
    s = body["summary"]
    assert s["assignments"] == 3
    assert s["assigned_to_accepted"]["count"] == 1 and s["assigned_to_accepted"]["p50"] == 600
    assert s["assigned_to_accepted"]["within_5m"] == 0 and s["assigned_to_accepted"]["within_30m"] == 1
    assert s["accepted_to_contacted"]["p95"] == 1200 and s["accepted_to_contacted"]["max"] == 1200
    assert s["intake_to_assigned"]["count"] == 3 and s["intake_to_assigned"]["max"] == 0
    rows = table(body, "speed_to_lead")
    ana = [r for r in rows if r["by"] == "rep" and r["value"] == "ana"
           and r["measure"] == "assigned_to_accepted"]
    assert ana and ana[0]["count"] == 1 and ana[0]["p90_s"] == 600
    team = [r for r in rows if r["by"] == "team" and r["value"] == "emea"
            and r["measure"] == "intake_to_assigned"]
    assert team and team[0]["count"] == 3

    st, body = report(b, "acceptance")
    assert st == 200, body
    s = body["summary"]
    assert (s["offered"], s["accepted"], s["rejected"], s["pending"]) == (3, 1, 1, 1)
    assert s["rejected_by_reason"] == {"bad_data": 1} and s["acceptance"] == 0.5
    assert {"rep": "ben", "reason": "bad_data", "rejected": 1} in table(body, "rejections")

    st, body = report(b, "sla")
    assert st == 200, body
    assert (body["summary"]["met"], body["summary"]["breached"], body["summary"]["open"]) == (1, 0, 1)
    assert body["summary"]["compliance"] == 1.0

    st, body = report(b, "funnel")
    assert st == 200, body
    f = {r["stage"]: r for r in table(body, "funnel")}
    assert f["new"]["leads"] == 3 and f["assigned"]["leads"] == 3 and f["accepted"]["leads"] == 1
    assert f["accepted"]["median_from_previous_s"] == 600

    st, body = report(b, "dark-leads")
    assert st == 200, body
    s = body["summary"]
    # the disqualified lead was looked at: not dark
    assert (s["qualified"], s["never_accepted"], s["never_contacted"]) == (3, 1, 1)
    assert s["lost_lead_value"] == 1500 and s["estimated_lost_revenue"] == 1500
    assert [r["lead"] for r in table(body, "never_contacted")] == [l2["id"] + 1]
    assert [r["stage"] for r in table(body, "never_accepted")] == ["assigned"]

    st, body = report(b, "routing")
    assert st == 200, body
    (rule,) = table(body, "by_rule")
    assert rule["rule"] == "everyone" and rule["decisions"] >= 3

    st, body = report(b, "fairness")
    assert st == 200, body
    rows = [r for r in table(body, "fairness") if r["pool"] == "inbound"]
    assert [r["expected_share"] for r in rows] == [0.3333] * 3
    assert sum(r["leads"] for r in rows) == 3

    # filters: a team resolves to its reps, a rep alone, a source
    st, body = report(b, "acceptance", WINDOW + "&rep=ben")
    assert st == 200 and body["summary"]["offered"] == 1 and body["filters"]["rep"] == "ben"
    st, body = report(b, "acceptance", WINDOW + "&team=emea")
    assert st == 200 and body["summary"]["offered"] == 3
    st, body = report(b, "acceptance", WINDOW + "&source=web")
    assert st == 200 and body["summary"]["offered"] == 0
    # a window before it all is empty, not an error
    st, body = report(b, "speed-to-lead", "since=2026-01-01&until=2026-02-01")
    assert st == 200 and body["summary"]["assignments"] == 0


def test_cli_gives_the_same_figures(baton_factory):
    b, _, _ = history(baton_factory)
    st, api = report(b, "acceptance")
    assert st == 200
    r = run_baton("report", "acceptance", "--db", b.db, "--config", b.config_path,
                  "--since", "2026-11-24", "--until", "2026-11-25", "--format", "json")
    assert r.returncode == 0, r.stderr
    cli = json.loads(r.stdout)
    assert cli["summary"] == api["summary"] and cli["tables"] == api["tables"]
    r = run_baton("report", "acceptance", "--db", b.db, "--since", "2026-11-24T00:00:00Z",
                  "--until", "2026-11-25", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # no progress line when stderr is not a terminal
    lines = r.stdout.splitlines()
    assert lines[0] == "# acceptance"
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:lines.index("", 1)]))))
    assert {r["rep"]: r["rejected"] for r in rows}["ben"] == "1"
    r = run_baton("report", "sla", "--db", b.db, "--since", "2026-11-24", "--until", "2026-11-25")
    assert r.returncode == 0 and "sla_compliance" in r.stdout and "compliance" in r.stdout
    # usage errors
    r = run_baton("report", "nonsense", "--db", b.db)
    assert r.returncode == 2 and "no such report" in r.stderr
    r = run_baton("report", "sla", "--db", b.db, "--format", "xml")
    assert r.returncode == 2 and "--format" in r.stderr
    r = run_baton("report", "sla", "--db", b.db, "--since", "yesterday")
    assert r.returncode == 2 and "--since" in r.stderr
    r = run_baton("report", "--help")
    assert r.returncode == 0 and "speed-to-lead" in r.stdout
    r = run_baton("report", "sla", "--db", b.dir + "/missing.db")
    assert r.returncode == 1


def test_roles_and_bad_requests(baton_factory):
    b = start(baton_factory, REPORTS)
    rep_key = b.create_key("rep", rep="ana")
    ingest_key = b.create_key("ingest")
    st, body = report(b, "sla", key=rep_key)
    assert_error(st, body, 403, "forbidden")
    st, body = report(b, "sla", key=ingest_key)
    assert_error(st, body, 403, "forbidden")
    st, body = report(b, "sla", key=None)
    assert_error(st, body, 401, "unauthorized")
    st, body = report(b, "sla")
    assert st == 200, body
    st, body = report(b, "speed")
    assert_error(st, body, 404, "not_found", "name")
    st, body = report(b, "sla", "since=last-week")
    assert_error(st, body, 400, "invalid", "since")
    st, body = report(b, "sla", "until=2026-13-01")
    assert_error(st, body, 400, "invalid", "until")
    st, body = report(b, "sla", "since=2026-11-25&until=2026-11-24")
    assert_error(st, body, 400, "invalid", "since")
    st, body = report(b, "sla", "limit=5")
    assert_error(st, body, 400, "invalid", "limit")
    st, body = report(b, "sla", "rep=ana&rep=ben")
    assert_error(st, body, 400, "invalid", "rep")
    st, body = report(b, "sla", "team=nobody")
    assert_error(st, body, 400, "invalid", "team")
    st, body = report(b, "sla", "rep=nobody")
    assert_error(st, body, 400, "invalid", "rep")
    st, body = report(b, "fairness", "pool=nowhere")
    assert_error(st, body, 400, "invalid", "pool")
    # the default window: the 30 days up to the (manual) clock
    st, body = report(b, "routing", "")
    assert st == 200 and body["until"] == T0 and body["since"] == "2026-10-25T09:00:00.000Z"

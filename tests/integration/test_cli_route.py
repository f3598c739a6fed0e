"""`baton route`: the routing dry run, through the real binary.

Each test writes a configuration, a lead and sometimes a state file or an
accounts CSV into a temporary folder, runs `baton route` and reads the
decision record it prints. One test also routes the same lead through
`baton serve` and checks that the daemon stores the same record.
"""

import json
import subprocess

import pytest

from conftest import BATON_BIN, run_baton

# Tuesday 24 November 2026, 10:30 in Berlin (CET, UTC+1), 04:30 in New York.
NOW = "2026-11-24T09:30:00Z"

CONFIG = """\
version: 1
scoring:
  fit:
    - group: Size
      cap: 60
      rules:
        - {name: Large, when: "employees >= 1000", points: 60}
        - {name: Mid, when: "employees >= 100", points: 60}
qualification:
  mql_when: score >= 60
teams:
  - id: berlin
    name: Berlin
    timezone: Europe/Berlin
    hours:
      weekdays: "09:00-17:00"
reps:
  - {id: ana, team: berlin, languages: [de, en]}
  - {id: ben, team: berlin, languages: [en]}
  - {id: cy, team: berlin, languages: [de], daily_cap: 2}
  - id: olivia
    timezone: America/New_York
    hours: {weekdays: "09:00-17:00"}
pools:
  - id: berlin
    strategy: fair_share
    absence: no_catch_up
    teams: [berlin]
routing:
  rules:
    - {name: returning, to: lead_owner}
    - {name: accounts, to: account_owner}
    - name: vip
      when: employees >= 5000
      to: rep:olivia
      fallback: next_rule
    - name: german
      when: country == "DE"
      to: pool:berlin
      languages: [de]
    - {name: default, to: pool:berlin}
"""

GERMAN_LEAD = {"email": "jana@spedition.example", "company": "Spedition Nord",
               "country": "DE", "employees": 200}


@pytest.fixture
def files(tmp_path):
    """Writes the config; returns a helper that writes more files."""
    (tmp_path / "baton.yaml").write_text(CONFIG)

    def write(name, content):
        p = tmp_path / name
        p.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(p)

    write.dir = tmp_path
    write.config = str(tmp_path / "baton.yaml")
    return write


def route(files, lead, *args, now=NOW, config=None):
    """Runs `baton route` on the lead (a dict, written to a file)."""
    path = files("lead.json", lead)
    extra = ("--now", now) if now else ()
    return run_baton("route", "--config", config or files.config, *extra, *args, path)


def decision(files, lead, *args, **kw):
    r = route(files, lead, *args, **kw)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def by_rep(record):
    return {c["rep"]: c for c in record["candidates"]}


def steps(record):
    return [(t["rule"], t["step"]) for t in record["rules"]]


def test_a_lead_goes_to_a_pool_with_every_candidate_explained(files):
    d = decision(files, GERMAN_LEAD)
    assert d["result"] == "assigned"
    assert (d["rep"], d["pool"], d["rule"], d["hold_reason"]) == ("ana", "berlin", "german", None)
    assert d["summary"] == "rule german -> pool berlin: fair_share chose ana"
    assert steps(d) == [("returning", "no_owner"), ("accounts", "no_account"),
                        ("vip", "not_matched"), ("german", "assigned")]
    c = by_rep(d)
    assert list(c) == ["ana", "ben", "cy"]
    assert (c["ana"]["eligible"], c["ana"]["reason"], c["ana"]["verdict"]) == \
        (True, "eligible", "chosen")
    # the rule asks for German; ben speaks only English
    assert (c["ben"]["eligible"], c["ben"]["reason"], c["ben"]["verdict"]) == \
        (False, "language", "ineligible")
    # same deficit as ana, listed after her
    assert (c["cy"]["reason"], c["cy"]["verdict"]) == ("eligible", "tie_later")
    assert c["cy"]["daily_cap"] == 2 and c["cy"]["today"] == 0
    assert d["strategy"]["name"] == "fair_share"
    assert d["strategy"]["before"]["strategy"] == "unset"
    assert d["strategy"]["after"]["decisions"] == 1
    assert d["at"] == "2026-11-24T09:30:00.000Z"
    assert len(d["config_version"]) == 16
    assert "forced" not in d and "account" not in d


def test_held_when_every_member_is_away(files):
    away = {"status": "away", "until": "2026-11-30T08:00:00Z", "reason": "offsite"}
    state = files("state.json", {"reps": {"ana": away, "ben": away, "cy": {"status": "offline"}}})
    d = decision(files, GERMAN_LEAD, "--state", state)
    assert d["result"] == "held" and d["rep"] is None
    assert (d["pool"], d["rule"], d["hold_reason"]) == ("berlin", "german", "no_eligible_member")
    assert d["summary"] == "rule german -> pool berlin: no eligible member: held"
    assert {r: c["reason"] for r, c in by_rep(d).items()} == \
        {"ana": "away", "ben": "away", "cy": "offline"}
    # nothing assigned: the pool's state does not move
    assert d["strategy"]["after"] == d["strategy"]["before"]
    # an `until` in the past no longer counts
    away["until"] = "2026-11-24T09:00:00Z"
    state = files("state.json", {"reps": {"ana": away}})
    assert decision(files, GERMAN_LEAD, "--state", state)["rep"] == "ana"


def test_fair_share_state_fed_back_changes_the_choice(files):
    first = decision(files, GERMAN_LEAD)
    assert first["rep"] == "ana"
    after = first["strategy"]["after"]
    state = files("state.json", {"pools": {"berlin": after},
                                 "reps": {"ana": {"open": 1, "today": 1, "this_week": 1}}})
    second = decision(files, GERMAN_LEAD, "--state", state)
    assert second["rep"] == "cy"
    assert second["strategy"]["before"] == after
    assert second["strategy"]["after"]["decisions"] == 2
    ana = by_rep(second)["ana"]
    assert (ana["verdict"], ana["open"], ana["today"], ana["this_week"]) == \
        ("smaller_deficit", 1, 1, 1)
    # the pool state as GET /v1/pools/ID shows a pool that never decided
    state = files("state.json", {"pools": {"berlin": None}})
    assert decision(files, GERMAN_LEAD, "--state", state)["rep"] == "ana"


def test_caps_capacity_time_off_and_exclusions_from_the_state(files):
    state = files("state.json", {
        "reps": {"cy": {"today": 2},
                 "ana": {"time_off": [{"from": "2026-11-23T00:00:00Z",
                                       "to": "2026-11-28T00:00:00Z"}]}}})
    d = decision(files, GERMAN_LEAD, "--state", state)
    assert d["result"] == "held"
    c = by_rep(d)
    assert c["ana"]["reason"] == "time_off"
    assert (c["cy"]["reason"], c["cy"]["today"], c["cy"]["this_week"]) == ("daily_cap", 2, 2)
    state = files("state.json", {"exclude": ["ana"]})
    d = decision(files, GERMAN_LEAD, "--state", state)
    assert d["rep"] == "cy" and by_rep(d)["ana"]["reason"] == "excluded"


def test_now_outside_working_hours(files):
    # 21:00 in Berlin: nobody works; the pool rule holds by default
    d = decision(files, GERMAN_LEAD, now="2026-11-24T20:00:00Z")
    assert d["result"] == "held" and d["hold_reason"] == "no_eligible_member"
    assert {c["reason"] for c in d["candidates"]} == {"outside_hours"}
    # A Saturday
    d = decision(files, GERMAN_LEAD, now="2026-11-28T10:00:00Z")
    assert {c["reason"] for c in d["candidates"]} == {"outside_hours"}
    # 07:30 UTC is 08:30 in Berlin in winter (closed) but 09:30 in summer (open)
    d = decision(files, GERMAN_LEAD, now="2026-11-24T07:30:00Z")
    assert d["result"] == "held"
    d = decision(files, GERMAN_LEAD, now="2026-07-07T07:30:00Z")
    assert d["rep"] == "ana"


def test_a_rep_rule_falls_through_when_the_rep_is_not_working(files):
    big = dict(GERMAN_LEAD, employees=8000)
    # 10:30 in Berlin is 04:30 in New York: olivia is not working
    d = decision(files, big)
    assert steps(d)[2:] == [("vip", "unavailable"), ("german", "assigned")]
    assert d["rules"][2]["rep"] == "olivia"
    assert d["rules"][2]["eligibility"] == "outside_hours"
    assert d["rep"] == "ana"
    # 16:00 in Berlin, 10:00 in New York
    d = decision(files, big, now="2026-11-24T15:00:00Z")
    assert (d["rep"], d["rule"], d["pool"]) == ("olivia", "vip", None)
    assert d["summary"] == "rule vip -> rep olivia: assigned to olivia"
    assert [c["rep"] for c in d["candidates"]] == ["olivia"]
    assert "strategy" not in d


def test_a_returning_lead_goes_back_to_its_owner(files):
    lead = {"lead": GERMAN_LEAD, "stage": "recycled", "owner": "cy"}
    d = decision(files, lead)
    assert (d["rep"], d["rule"]) == ("cy", "returning")
    lead["owner"] = "somebody.gone"
    d = decision(files, lead)
    assert steps(d)[0] == ("returning", "unknown_rep") and d["rule"] == "german"


def test_accounts_csv_matches_the_lead_to_its_owner(files):
    accounts = files("accounts.csv", "id,name,domains,country,owner\n"
                                     "acme,Acme Freight Inc.,acme-freight.example,US,olivia\n"
                                     "globex,Globex Logistics GmbH,,DE,cy\n")
    lead = dict(GERMAN_LEAD, email="jo@eu.acme-freight.example")
    d = decision(files, lead, "--accounts", accounts, now="2026-11-24T15:00:00Z")
    assert (d["rep"], d["rule"]) == ("olivia", "accounts")
    assert d["account"]["id"] == "acme" and d["account"]["owner"] == "olivia"
    assert d["account"]["match"]["kind"] == "parent_domain"
    assert d["account"]["match"]["via"] == "email_domain"
    # a free-mail address says nothing; the company name does (exact once
    # normalised, with the country as a supporting signal)
    lead = dict(GERMAN_LEAD, email="jo@gmail.com", company="GLOBEX LOGISTICS")
    d = decision(files, lead, "--accounts", accounts)
    assert (d["rep"], d["account"]["id"], d["account"]["match"]["kind"]) == \
        ("cy", "globex", "name_exact")
    # a near miss: two edits in 16 characters is below the 0.90 threshold
    lead = dict(GERMAN_LEAD, email="jo@gmail.com", company="Globex Logistik")
    d = decision(files, lead, "--accounts", accounts)
    assert "account" not in d and steps(d)[1] == ("accounts", "no_account")
    # an account owned by nobody in the config
    accounts = files("accounts.csv", "name,domains,owner\nInitech,initech.example,not.a.rep\n")
    d = decision(files, dict(GERMAN_LEAD, email="x@initech.example"), "--accounts", accounts)
    assert steps(d)[1] == ("accounts", "unknown_rep") and d["account"]["id"] == "initech.example"
    # a bad row is an error naming its line
    accounts = files("accounts.csv", "id,name,country\nacme,Acme,Narnia\n")
    r = route(files, GERMAN_LEAD, "--accounts", accounts)
    assert r.returncode == 1 and r.stdout == ""
    assert "accounts.csv: line 2" in r.stderr and "Narnia" in r.stderr


def test_a_lead_that_does_not_qualify_is_not_routed(files):
    small = dict(GERMAN_LEAD, employees=20)
    r = route(files, small)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["result"] == "not_routed"
    assert out["message"] == "not routed: the lead is new, only mql leads are routed"
    assert out["lead"]["stage"] == "new" and out["lead"]["score"]["total"] == 0
    assert out["qualification"]["change"] is False
    assert "not routed: the lead is new, only mql leads are routed" in r.stderr
    assert "rules" not in out and "candidates" not in out


def test_force_routes_a_lead_that_does_not_qualify(files):
    small = dict(GERMAN_LEAD, employees=20)
    d = decision(files, small, "--force")
    assert d["result"] == "assigned" and d["rep"] == "ana"
    assert d["forced"] is True and d["stage"] == "new"
    # a disqualified stage too
    d = decision(files, {"lead": small, "stage": "disqualified"}, "--force")
    assert d["forced"] is True and d["stage"] == "disqualified"


@pytest.mark.parametrize("state, message", [
    ({"reps": {"zoe": {}}}, "no rep 'zoe'"),
    ({"pools": {"tokyo": None}}, "no pool 'tokyo'"),
    ({"exclude": ["zoe"]}, "exclude[0]: no rep 'zoe'"),
    ({"exclude": "ana"}, "exclude: expected a list"),
    ({"teams": {}}, "unknown key 'teams'"),
    ({"reps": {"ana": {"status": "on_leave"}}}, "reps.ana.status: expected available, away"),
    ({"reps": {"ana": {"open": "3"}}}, "reps.ana.open: expected a whole number"),
    ({"reps": {"ana": {"today": -1}}}, "reps.ana.today: expected a whole number"),
    ({"reps": {"ana": {"today": 3, "this_week": 2}}}, "reps.ana.this_week"),
    ({"reps": {"ana": {"until": "2026-12-01T00:00:00Z"}}}, "reps.ana.until: applies to away"),
    ({"reps": {"ana": {"status": "away", "until": "tomorrow"}}}, "reps.ana.until: expected an RFC"),
    ({"reps": {"ana": {"time_off": [{"from": "2026-11-24T00:00:00Z"}]}}},
     "reps.ana.time_off[0]: time off needs from and to"),
    ({"reps": {"ana": {"time_off": [{"from": "2026-11-25T00:00:00Z",
                                     "to": "2026-11-24T00:00:00Z"}]}}},
     "reps.ana.time_off[0]: to must be after from"),
    ({"reps": {"ana": {"shift": "early"}}}, "reps.ana.shift: unknown key"),
    ({"reps": {"ana": 3}}, "reps.ana: expected an object"),
    ({"pools": {"berlin": {"strategy": "fair_share"}}}, "pools.berlin: pool state"),
    ([], "expected an object"),
])
def test_bad_state_files_are_errors_naming_the_problem(files, state, message):
    r = route(files, GERMAN_LEAD, "--state", files("state.json", state))
    assert r.returncode == 1, r.stdout
    assert r.stdout == ""
    assert message in r.stderr, r.stderr
    assert r.stderr.startswith("baton route: ") and "state.json" in r.stderr


def test_malformed_state_file(files):
    r = route(files, GERMAN_LEAD, "--state", files("state.json", '{"reps": '))
    assert r.returncode == 1 and "malformed JSON at line 1" in r.stderr
    r = route(files, GERMAN_LEAD, "--state", str(files.dir / "missing.json"))
    assert r.returncode == 1 and "cannot open" in r.stderr
    # a pool state that parses but is not consistent
    member = {"rep": "ana", "pointer": 0, "credit": 0, "assigned": 1}
    pool = {"strategy": "fair_share", "last_rep": None, "window_start": 0, "updated_at": 0,
            "decisions": 2, "members": [member, member]}
    r = route(files, GERMAN_LEAD, "--state", files("state.json", {"pools": {"berlin": pool}}))
    assert r.returncode == 1 and r.stdout == ""
    assert "cannot route the lead" in r.stderr and "ana" in r.stderr


@pytest.mark.parametrize("text, message", [
    ('{"email": ', "malformed JSON"),
    ('{"email": 5}', "email"),
    ('{"email": "jana@"}', "email"),
    ('{"lead": {"email": "a@b.example"}, "score": 5}', "unknown key 'score'"),
    ('{"lead": {"email": "a@b.example"}, "stage": "hot"}', "stage"),
    ('{"lead": {"email": "a@b.example"}, "owner": "Not A Rep"}', "owner"),
    ('{"lead": {"email": "a@b.example"}, "activities": [{"occurred_at": "2026-01-01T00:00:00Z"}]}',
     "type"),
])
def test_bad_lead_json_is_an_error(files, text, message):
    r = subprocess.run([BATON_BIN, "route", "--config", files.config, "--now", NOW, "-"],
                       input=text, capture_output=True, text=True, timeout=10)
    assert r.returncode == 1, r.stdout
    assert r.stdout == "" and message in r.stderr, r.stderr


def test_routing_off_is_an_error(files):
    off = files("off.yaml", "version: 1\nqualification:\n  mql_when: score >= 0\n")
    r = route(files, GERMAN_LEAD, config=off)
    assert r.returncode == 1 and r.stdout == ""
    assert "routing is off" in r.stderr and "off.yaml" in r.stderr


def test_command_line(files):
    r = run_baton("route", "--help")
    assert r.returncode == 0
    assert "usage: baton route --config FILE" in r.stdout and "Example" in r.stdout
    assert "--state" in r.stdout and "--accounts" in r.stdout and "--force" in r.stdout
    r = run_baton("route", files("lead.json", GERMAN_LEAD))
    assert r.returncode == 2 and "usage" in r.stderr
    r = route(files, GERMAN_LEAD, "--now", "yesterday", now=None)
    assert r.returncode == 2 and "RFC 3339" in r.stderr
    r = run_baton("route", "--config", files.config, "a.json", "b.json")
    assert r.returncode == 2
    r = run_baton("help")
    assert "route" in r.stdout
    # without --now: the current time; the output is still a decision
    r = route(files, GERMAN_LEAD, now=None)
    assert r.returncode == 0 and json.loads(r.stdout)["result"] in ("assigned", "held")


def test_the_daemon_stores_the_same_record(baton_factory, files):
    b = baton_factory(config=CONFIG, started=False)
    b.start(extra_args=("--manual-clock", NOW))

    def served_decision(lead):
        st, _, body = b.post_lead(lead)
        assert st == 201, body
        st, _, rec = b.get("/v1/leads/%d/decision" % body["lead"]["id"])
        assert st == 200, rec
        assert rec.pop("id") > 0 and rec.pop("lead") == body["lead"]["id"]
        return rec

    assert decision(files, GERMAN_LEAD) == served_decision(GERMAN_LEAD)
    # the second lead, with the state the first left, read from the API
    st, _, pool = b.get("/v1/pools/berlin")
    assert st == 200 and pool["state"]["decisions"] == 1, pool
    st, _, ana = b.get("/v1/reps/ana")
    assert st == 200 and ana["open"] == 1, ana
    state = files("state.json", {
        "pools": {"berlin": pool["state"]},
        "reps": {"ana": {"open": ana["open"], "today": ana["today"],
                         "this_week": ana["this_week"]}}})
    second = dict(GERMAN_LEAD, email="piet@spedition.example")
    dry = decision(files, second, "--state", state)
    assert dry["rep"] == "cy"
    assert dry == served_decision(second)



def test_the_daemon_matches_the_same_account(baton_factory, files):
    b = baton_factory(config=CONFIG, started=False)
    b.start(extra_args=("--manual-clock", "2026-11-24T15:00:00Z"))
    st, _, body = b.request("POST", "/v1/accounts", body={
        "id": "acme", "name": "Acme Freight Inc.", "domains": ["acme-freight.example"],
        "country": "US", "owner": "olivia"})
    assert st in (200, 201), body
    accounts = files("accounts.csv", "id,name,domains,country,owner\n"
                                     "acme,Acme Freight Inc.,acme-freight.example,US,olivia\n")
    lead = dict(GERMAN_LEAD, email="jo@eu.acme-freight.example")
    st, _, body = b.post_lead(lead)
    assert st == 201, body
    st, _, served = b.get("/v1/leads/%d/decision" % body["lead"]["id"])
    assert st == 200, served
    del served["id"], served["lead"]
    dry = decision(files, lead, "--accounts", accounts, now="2026-11-24T15:00:00Z")
    assert dry["account"]["id"] == "acme" and dry["rep"] == "olivia"
    assert dry == served

"""`baton simulate --db PATH --config CANDIDATE.yaml`: what-if on history.

One database is made for the whole file by running the real daemon on a
configuration and posting 200 leads to it. Each test then runs `baton
simulate` on that database with a candidate configuration and checks that
the output names exactly the leads the candidate changes (worked out here
from the leads themselves), that an identical configuration changes nothing,
that the file is left exactly as it was (bytes, mtime, rows), that it works
while the daemon runs, and that bad input is a clear error.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile

import pytest

from conftest import Baton, run_baton

BASE = """\
version: 1
scoring:
  fit:
    - {name: Enterprise, when: "employees >= 1000", points: 50}
    - {name: Mid-market, when: "employees >= 100", points: 20}
qualification:
  mql_when: score >= 20
reps:
  - {id: ana}
  - {id: ben}
  - {id: cy}
  - {id: dee}
pools:
  - {id: emea, strategy: round_robin, members: [ana, ben]}
  - {id: amer, strategy: round_robin, members: [cy, dee]}
routing:
  rules:
    - {name: german, when: 'country == "DE"', to: 'pool:emea'}
    - {name: default, to: 'pool:amer'}
sla:
  policies:
    - {name: hot, when: employees >= 1000, accept_within: 5m}
    - {name: normal, accept_within: 1h}
"""

N = 200
SIZES = [10, 150, 400, 1500, 6000]
COUNTRIES = ["DE", "US", "FR", "DE", "CA", "US", "DE"]


def lead_body(i):
    return {
        "email": "buyer%d@firm%d.example" % (i, i),
        "country": COUNTRIES[i % len(COUNTRIES)],
        "employees": SIZES[(i * 7) % len(SIZES)],
    }


@pytest.fixture(scope="module")
def history():
    """A database the daemon wrote: 200 leads routed under BASE. Yields
    (baton, {lead id: body}); the daemon is stopped before the tests read
    the file, except where a test starts it again."""
    b = Baton(config=BASE)
    try:
        b.start()
        leads = {}
        for i in range(N):
            st, _, body = b.post_lead(lead_body(i))
            assert st == 201, body
            leads[body["lead"]["id"]] = lead_body(i)
        assert b.stop() == 0
        yield b, leads
    finally:
        b.finish()


def simulate(b, config_text=None, *args, config_path=None):
    path = config_path
    if config_text is not None:
        path = os.path.join(b.dir, "candidate.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(config_text)
    return run_baton("simulate", "--db", b.db, "--config", path, *args, timeout=60)


def report(b, config_text, *args):
    r = simulate(b, config_text, "--json", "--limit", "1000", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def qualifies(body):
    return body["employees"] >= 100


def differing(rep, what):
    return {l["lead"] for l in rep["leads"] if what in l["changed"]}


def test_identical_config_changes_nothing(history):
    b, leads = history
    rep = report(b, BASE)
    assert rep["replayed"] == N
    assert rep["differing"] == 0, rep["leads"][:3]
    assert all(v == 0 for v in rep["changed"].values()), rep["changed"]
    # the stored side is what the daemon decided: every qualified lead assigned
    want = sum(1 for body in leads.values() if qualifies(body))
    assert rep["load"]["before"]["assigned"] == want
    assert rep["load"]["after"]["assigned"] == want
    assert rep["load"]["before"]["reps"] == rep["load"]["after"]["reps"]
    assert rep["baseline"] == {"from": "store"}
    # and the same against the configuration itself as a baseline
    base = os.path.join(b.dir, "base.yaml")
    with open(base, "w", encoding="utf-8") as f:
        f.write(BASE)
    rep = report(b, BASE, "--baseline", base)
    assert rep["differing"] == 0
    assert rep["baseline"]["config"] == base
    # the text form says so too
    r = simulate(b, BASE)
    assert r.returncode == 0, r.stderr
    assert "replayed %d leads" % N in r.stdout
    assert "differing: 0 leads" in r.stdout
    assert "leads/s" in r.stdout


def test_raised_threshold_names_the_leads_that_no_longer_qualify(history):
    b, leads = history
    rep = report(b, BASE.replace("mql_when: score >= 20", "mql_when: score >= 50"))
    mid = {i for i, body in leads.items() if 100 <= body["employees"] < 1000}
    assert mid, "the history has mid-market leads"
    assert differing(rep, "stage") == mid
    assert rep["changed"]["stage"] == len(mid)
    assert rep["changed"]["qualified"] == len(mid)
    assert rep["changed"]["score"] == 0  # the scoring did not change
    for l in rep["leads"]:
        if l["lead"] in mid:
            assert l["before"]["qualified"] and not l["after"]["qualified"]
            assert l["before"]["owner"] is not None and l["after"]["owner"] is None
            assert l["after"]["stage"] == "new"
    assert rep["load"]["after"]["assigned"] == rep["load"]["before"]["assigned"] - len(mid)


def test_changed_pool_moves_exactly_the_german_leads(history):
    b, leads = history
    rep = report(b, BASE.replace("to: 'pool:emea'", "to: 'pool:amer'"))
    german = {i for i, body in leads.items() if body["country"] == "DE" and qualifies(body)}
    assert differing(rep, "pool") == german
    for l in rep["leads"]:
        if l["lead"] in german:
            assert (l["before"]["pool"], l["after"]["pool"]) == ("emea", "amer")
            assert l["before"]["rule"] == l["after"]["rule"] == "german"
            assert l["after"]["owner"] in ("cy", "dee")
            assert "round_robin chose" in l["after"]["summary"]
    # ana and ben get nothing any more; cy and dee share everything evenly
    after = {r["rep"]: r for r in rep["load"]["after"]["reps"]}
    assert after["ana"]["count"] == after["ben"]["count"] == 0
    total = rep["load"]["after"]["assigned"]
    assert after["cy"]["count"] + after["dee"]["count"] == total
    assert abs(after["cy"]["count"] - after["dee"]["count"]) <= 1
    assert rep["load"]["after"]["max_deviation"] == pytest.approx(1.0)  # ana: -100 %
    # the text form lists the first ones with before -> after
    r = simulate(b, BASE.replace("to: 'pool:emea'", "to: 'pool:amer'"), "--limit", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("pool emea -> amer") <= 2
    assert "first 2 differing leads" in r.stdout


def test_sla_policy_and_holds(history):
    b, leads = history
    cfg = BASE.replace("when: employees >= 1000, accept_within: 5m",
                       "when: employees >= 5000, accept_within: 5m")
    cfg = cfg.replace("  - {id: cy}\n  - {id: dee}\n",
                      "  - {id: cy, active: false}\n  - {id: dee, active: false}\n")
    rep = report(b, cfg)
    amer = {i for i, body in leads.items() if body["country"] != "DE" and qualifies(body)}
    # nobody in amer can take a lead: they are all held
    assert differing(rep, "hold") == amer
    assert rep["holds"]["before"]["total"] == 0
    assert rep["holds"]["after"] == {"total": len(amer),
                                     "reasons": {"no_eligible_member": len(amer)}}
    # the german leads still assigned: hot only from 5,000 employees now
    moved = {i for i, body in leads.items()
             if body["country"] == "DE" and 1000 <= body["employees"] < 5000}
    assert moved
    assert differing(rep, "sla_policy") - amer == moved
    for l in rep["leads"]:
        if l["lead"] in moved:
            assert (l["before"]["sla_policy"], l["after"]["sla_policy"]) == ("hot", "normal")


def test_since_until_select_the_range(history):
    b, leads = history
    con = sqlite3.connect("file:%s?mode=ro" % b.db, uri=True)
    try:
        stamps = sorted(r[0] for r in con.execute("SELECT created_at FROM leads"))
    finally:
        con.close()
    mid = stamps[N // 2]
    since = "%s" % iso(mid)
    want = sum(1 for s in stamps if s >= mid)
    rep = report(b, BASE, "--since", since)
    assert rep["replayed"] == want
    rep = report(b, BASE, "--until", since)
    assert rep["replayed"] == N - want
    rep = report(b, BASE, "--since", "2099-01-01")
    assert rep["replayed"] == 0
    assert rep["range"]["since"].startswith("2099-01-01T00:00:00")


def iso(ms):
    import datetime
    t = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def fingerprint(path):
    with open(path, "rb") as f:
        data = f.read()
    st = os.stat(path)
    return hashlib.sha256(data).hexdigest(), st.st_mtime_ns, st.st_size


def row_counts(path):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return {t: con.execute("SELECT count(*) FROM %s" % t).fetchone()[0]
                for t in ("leads", "decisions", "assignments", "lead_events", "pool_state", "holds")}
    finally:
        con.close()


def test_writes_nothing(history):
    b, _ = history
    before = fingerprint(b.db)
    counts = row_counts(b.db)
    rep = report(b, BASE.replace("to: 'pool:emea'", "to: 'pool:amer'"))
    assert rep["differing"] > 0
    assert fingerprint(b.db) == before
    assert row_counts(b.db) == counts


def test_works_while_the_daemon_runs(history):
    b, leads = history
    b.start()
    try:
        rep = report(b, BASE)
        assert rep["replayed"] == N
        assert rep["differing"] == 0
        # the daemon still takes leads afterwards (no lock was left behind)
        st, _, body = b.post_lead({"email": "late@later.example", "employees": 5})
        assert st == 201, body
    finally:
        assert b.stop() == 0
    con = sqlite3.connect("file:%s?mode=ro" % b.db, uri=True)
    try:
        assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == N + 1
    finally:
        con.close()


def test_bad_candidate_config_names_the_place(history):
    b, _ = history
    r = simulate(b, BASE.replace("strategy: round_robin, members: [ana, ben]",
                                 "strategy: round_robin, members: [ana, nobody]"))
    assert r.returncode == 1
    assert "candidate.yaml:" in r.stderr
    first = r.stderr.strip().splitlines()[0]
    place = first.split(": ")[0].split(":")
    assert place[-2].isdigit() and place[-1].isdigit(), r.stderr  # FILE:LINE:COL
    assert "nobody" in r.stderr
    assert r.stdout == ""
    # a missing config file
    r = simulate(b, None, config_path=os.path.join(b.dir, "missing.yaml"))
    assert r.returncode == 1
    assert "missing.yaml" in r.stderr


def test_unknown_db_is_a_clear_error(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(BASE)
    db = tmp_path / "nowhere.db"
    r = run_baton("simulate", "--db", str(db), "--config", str(cfg))
    assert r.returncode == 1
    assert "no database at %s" % db in r.stderr
    assert not db.exists()  # not created by the attempt


def test_command_line_errors(history):
    b, _ = history
    path = os.path.join(b.dir, "base.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(BASE)
    cases = [
        (["--since", "yesterday"], "--since needs an RFC 3339 time"),
        (["--until", "2026-13-40"], "--until needs an RFC 3339 time"),
        (["--since", "2026-11-24", "--until", "2026-11-23"], "--until must be after --since"),
        (["--limit", "-1"], "--limit needs a whole number"),
        (["--limit", "many"], "--limit needs a whole number"),
        (["extra"], "unexpected argument"),
    ]
    for args, message in cases:
        r = run_baton("simulate", "--db", b.db, "--config", path, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr, (args, r.stderr)
    r = run_baton("simulate", "--db", b.db)
    assert r.returncode == 2
    assert "--config CANDIDATE.yaml are required" in r.stderr
    r = run_baton("simulate", "--db", b.db, "--config", path, "--help")
    assert r.returncode == 0
    assert "What-if on history" in r.stdout

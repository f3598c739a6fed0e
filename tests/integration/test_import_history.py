"""
`baton import leads|activities`: history from CSV, through the real binary,
while `baton serve` runs on the same database. The UCI bank and Maven CRM
data of ../shared/data import with the maps of examples/history/; history is
checked whole first, is idempotent, and routes nothing.
"""
import csv
import os
import re
import sqlite3
import subprocess
import time

import pytest

from conftest import BATON_BIN, run_baton

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MAPS = os.path.join(REPO, "examples", "history")
DATA = os.environ.get("BATON_DATA", os.path.join(REPO, "..", "shared", "data"))
if not os.path.isdir(DATA):
    DATA = "/work/shared/data"
UCI = os.path.join(DATA, "uci_bank_marketing", "bank-additional-full.csv")
MAVEN = os.path.join(DATA, "maven_crm_sales_opportunities")

SUMMARY_RE = re.compile(r"imported (\d+) leads?: (\d+) created, (\d+) matched, (\d+) unchanged, "
                        r"(\d+) outcomes, (\d+) skipped, (\d+) invalid, in [0-9.]+ s")
ACT_RE = re.compile(r"imported (\d+) activit(?:y|ies): (\d+) created, (\d+) unchanged, "
                    r"(\d+) invalid")


def import_history(b, kind, path, *extra, timeout=300):
    args = [BATON_BIN, "import", kind, path, "--db", b.db, *extra]
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def summary(r):
    m = SUMMARY_RE.search(r.stdout)
    assert m, (r.stdout, r.stderr)
    return tuple(int(x) for x in m.groups())


def db_rows(b, sql, *args):
    con = sqlite3.connect(b.db, timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def nothing_routed(b):
    for table in ("assignments", "decisions", "holds", "outbox", "tasks"):
        assert db_rows(b, "SELECT count(*) FROM %s" % table)[0][0] == 0, table


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


@pytest.mark.skipif(not os.path.exists(UCI), reason="the UCI bank data is not there")
def test_uci_bank_import_while_the_daemon_runs(baton):
    r = import_history(baton, "leads", UCI, "--map", os.path.join(MAPS, "uci-bank.map.yaml"))
    assert r.returncode == 0, r.stderr
    assert summary(r) == (41188, 41188, 0, 0, 41188, 0, 0)
    assert r.stderr == ""  # no progress bar when stderr is not a terminal
    total, won = db_rows(baton, "SELECT count(*), sum(stage = 'won') FROM leads")[0]
    assert total == 41188 and won == 4640
    assert round(100.0 * won / total, 2) == 11.27
    # the funnel (reports, the training history) sees each lead's qualification and outcome
    mql, won_at, lost_at = db_rows(
        baton, "SELECT count(mql_at), count(won_at), count(lost_at) FROM lead_funnel")[0]
    assert (mql, won_at, lost_at) == (41188, 4640, 41188 - 4640)
    # dates as the map generates them: row i at 2008-05-05 + i * 30 min
    first, last = db_rows(baton, "SELECT min(created_at), max(created_at) FROM leads")[0]
    assert first == 1209945600000 and last == first + 41187 * 30 * 60000
    # duration (known only after the call) is dropped; typed fields are numbers
    st, _, body = baton.get("/v1/leads?limit=1")
    assert st == 200, body
    lead = body["leads"][0] if "leads" in body else body["data"][0]
    assert lead["external_id"] == "uci-41188"
    assert "duration" not in lead["fields"]
    assert lead["fields"]["age"] == 74 and isinstance(lead["fields"]["euribor3m"], float)
    events = baton.events(lead["id"])
    types = [e["type"] for e in events]
    assert types == ["lead.imported", "lead.stage_changed", "lead.stage_changed"], types
    # nothing is routed, even while the daemon runs
    time.sleep(1.0)
    nothing_routed(baton)
    assert db_rows(baton, "SELECT count(*) FROM outcomes")[0][0] == 41188

    # the same file again writes nothing
    r = import_history(baton, "leads", UCI, "--map", os.path.join(MAPS, "uci-bank.map.yaml"))
    assert r.returncode == 0, r.stderr
    assert summary(r) == (41188, 0, 0, 41188, 0, 0, 0)
    assert db_rows(baton, "SELECT count(*) FROM lead_events")[0][0] == 3 * 41188


@pytest.mark.skipif(not os.path.isdir(MAVEN), reason="the Maven CRM data is not there")
def test_maven_pipeline_prejoined_with_accounts(baton, tmp_path):
    # Baton does not join files: join the accounts onto the deals first
    with open(os.path.join(MAVEN, "accounts.csv"), encoding="utf-8") as f:
        accounts = {row["account"]: row for row in csv.DictReader(f)}
    joined = tmp_path / "pipeline.csv"
    with open(os.path.join(MAVEN, "sales_pipeline.csv"), encoding="utf-8") as f, \
            open(joined, "w", encoding="utf-8", newline="") as out:
        rd = csv.DictReader(f)
        cols = rd.fieldnames + ["sector", "employees", "revenue"]
        w = csv.DictWriter(out, cols)
        w.writeheader()
        for row in rd:
            acc = accounts.get(row["account"], {})
            row.update({k: acc.get(k, "") for k in ("sector", "employees", "revenue")})
            w.writerow(row)
    r = import_history(baton, "leads", str(joined), "--map",
                       os.path.join(MAPS, "maven-pipeline.map.yaml"))
    assert r.returncode == 0, r.stderr
    # 500 deals still prospecting have no engage date: skipped, and said so
    assert summary(r) == (8300, 8300, 0, 0, 8300, 500, 0)
    stages = dict(db_rows(baton, "SELECT stage, count(*) FROM leads GROUP BY 1"))
    assert stages == {"won": 4238, "lost": 2473, "opportunity": 1589}
    owners = db_rows(baton, "SELECT count(DISTINCT owner) FROM leads")[0][0]
    assert owners == 30
    row = db_rows(baton, "SELECT owner, company, employees_band, fields, created_at "
                         "FROM leads WHERE external_id = '1C1I7A6R'")[0]
    assert row[0] == "moses-frase" and row[1] == "Cancity"
    assert row[2] == "1001-5000"  # Cancity: 2,822 employees
    assert '"sector":"retail"' in row[3] and '"product":"GTX Plus Basic"' in row[3]
    value, at = db_rows(baton, "SELECT value, at FROM outcomes o JOIN leads l ON l.id = o.lead_id "
                               "WHERE l.external_id = '1C1I7A6R'")[0]
    assert value == 1054 and at == 1488326400000  # 2017-03-01
    won_at = db_rows(baton, "SELECT won_at FROM lead_funnel f JOIN leads l ON l.id = f.lead_id "
                            "WHERE l.external_id = '1C1I7A6R'")[0][0]
    assert won_at == at
    nothing_routed(baton)


def test_a_bad_row_imports_nothing(baton, tmp_path):
    path = tmp_path / "leads.csv"
    write(path, "external_id,email,created_at,converted\n"
                "a1,a1@acme.com,2024-01-02,yes\n"
                "a2,a2@acme.com,2024-13-02,no\n"
                "a3,a3@acme.com,2024-01-04,perhaps\n"
                "a4,a4@acme.com,2024-01-05,no\n")
    before = baton.lead_count()
    r = import_history(baton, "leads", str(path))
    assert r.returncode == 1
    assert "line 3: created_at: '2024-13-02' is not a date" in r.stderr, r.stderr
    assert "line 4: converted: 'perhaps' is not yes/no" in r.stderr, r.stderr
    assert "2 of 4 rows are invalid; nothing imported" in r.stderr
    assert baton.lead_count() == before
    r = import_history(baton, "leads", str(path), "--skip-invalid")
    assert r.returncode == 0, r.stderr
    assert summary(r) == (2, 2, 0, 0, 2, 0, 2)
    assert baton.lead_count() == before + 2
    nothing_routed(baton)


def test_a_known_email_is_that_lead(baton, tmp_path):
    st, _, body = baton.post_lead({"email": "known@acme.com", "company": "Acme"})
    assert st == 201, body
    count = baton.lead_count()
    path = tmp_path / "leads.csv"
    write(path, "email,created_at,stage\nKnown@Acme.com,2023-05-01,won\nnew@acme.com,2023-05-02,\n")
    r = import_history(baton, "leads", str(path))
    assert r.returncode == 0, r.stderr
    assert summary(r) == (2, 1, 1, 0, 0, 0, 0)
    assert baton.lead_count() == count + 1
    stage = db_rows(baton, "SELECT stage FROM leads WHERE email = 'new@acme.com'")[0][0]
    assert stage == "mql"  # no outcome yet


def test_activities(baton, tmp_path):
    leads = tmp_path / "leads.csv"
    write(leads, "external_id,email,created_at\nh1,h1@acme.com,2024-02-01\n"
                 "h2,h2@acme.com,2024-02-02\n")
    assert import_history(baton, "leads", str(leads)).returncode == 0
    acts = tmp_path / "acts.csv"
    write(acts, "lead,kind,when,page\nh1,page_view,2024-02-01T10:00:00Z,/pricing\n"
                "h2,demo_request,2024-02-03,\nnobody,page_view,2024-02-03,\n")
    m = tmp_path / "acts.map.yaml"
    write(m, "columns:\n  lead: lead_external_id\n  kind: type\n  when: occurred_at\n")
    r = import_history(baton, "activities", str(acts), "--map", str(m))
    assert r.returncode == 1
    assert "line 4: no lead has external_id 'nobody'" in r.stderr, r.stderr
    assert db_rows(baton, "SELECT count(*) FROM activities")[0][0] == 0
    write(acts, "lead,kind,when,page\nh1,page_view,2024-02-01T10:00:00Z,/pricing\n"
                "h2,demo_request,2024-02-03,\n")
    r = import_history(baton, "activities", str(acts), "--map", str(m))
    assert r.returncode == 0, r.stderr
    assert ACT_RE.search(r.stdout).groups() == ("2", "2", "0", "0"), r.stdout
    row = db_rows(baton, "SELECT a.type, a.occurred_at, a.properties FROM activities a "
                         "JOIN leads l ON l.id = a.lead_id WHERE l.external_id = 'h1'")[0]
    assert row == ("page_view", 1706781600000, '{"page":"/pricing"}')
    r = import_history(baton, "activities", str(acts), "--map", str(m))
    assert ACT_RE.search(r.stdout).groups() == ("2", "0", "2", "0"), r.stdout
    nothing_routed(baton)


def test_bad_files_and_maps(baton, tmp_path):
    cases = [
        ("", None, "the file is empty"),
        ("email,converted\na@x.com,yes\n", None, "no column gives the leads' created_at"),
        ("email,created_at\na@x.com,2024-01-01\n", "columns:\n  y: converted\n",
         "the map names column 'y', which the header does not have"),
        ("email,created_at\n", "columns:\n  email: emial\n",
         "m.yaml:2:10: columns.email: 'emial' is not a target"),
        ("email,created_at\n", "delimiter: ';;'\n", "m.yaml:1:13: delimiter: one character"),
        ("email,created_at\n\"a@x.com,2024-01-01\n", None, "never closed"),
        ("email,created_at\na@x.com,2024-01-01\n\xff@x.com,2024-01-01\n", None,
         "line 3: email: not valid UTF-8"),
    ]
    before = baton.lead_count()
    for i, (text, mapping, want) in enumerate(cases):
        path = tmp_path / ("f%d.csv" % i)
        with open(path, "wb") as f:
            f.write(text.encode("utf-8", "surrogateescape") if "\xff" not in text
                    else text.encode("latin-1"))
        extra = []
        if mapping is not None:
            mp = tmp_path / "m.yaml"
            write(mp, mapping)
            extra = ["--map", str(mp)]
        r = import_history(baton, "leads", str(path), *extra)
        assert r.returncode == 1, (i, r.stdout, r.stderr)
        assert want in r.stderr, (i, r.stderr)
    assert baton.lead_count() == before
    r = run_baton("import", "leads")
    assert r.returncode == 2 and "baton import leads FILE.csv" in r.stderr
    r = run_baton("import", "--help")
    assert r.returncode == 0
    for kind in ("accounts", "leads", "activities"):
        assert "baton import %s FILE.csv" % kind in r.stdout
    r = run_baton("import", "activities", str(tmp_path / "f0.csv"), "--config", "x.yaml")
    assert r.returncode == 2


# ---- POST /v1/import/leads|activities ----

def test_api_batches(baton):
    rows = [{"external_id": "api-%d" % i, "email": "p%d@acme.example" % i,
             "created_at": "2024-02-%02dT09:00:00Z" % (i + 1), "stage": "Won" if i % 2 else "lost",
             "outcome_at": "2024-03-01", "value": 100 * i, "plan": "pro", "seats": i,
             "trial": i % 2 == 0, "note": None}
            for i in range(10)]
    st, _, body = baton.request("POST", "/v1/import/leads", body={"name": "crm", "rows": rows})
    assert st == 201, body
    assert (body["created"], body["matched"], body["unchanged"]) == (10, 0, 0)
    st, _, page = baton.get("/v1/leads?limit=1")
    lead = page["data"][0]
    assert lead["external_id"] == "api-9" and lead["stage"] == "won"
    assert lead["fields"] == {"plan": "pro", "seats": "9", "trial": "false"}
    assert lead["created_at"] == "2024-02-10T09:00:00.000Z"
    assert db_rows(baton, "SELECT count(*), sum(value) FROM outcomes") == [(10, 4500.0)]
    nothing_routed(baton)
    st, _, body = baton.request("POST", "/v1/import/activities", body={"rows": [
        {"lead_email": "P3@acme.example", "type": "demo_request", "occurred_at": "2024-02-04"}]})
    assert st == 201 and body["created"] == 1, body


def test_api_bad_input_writes_nothing(baton):
    good = {"email": "g@acme.example", "created_at": "2024-01-01"}
    cases = [
        ([], 422, "rows"),
        ({"rows": []}, 422, "rows"),
        ({"rows": [good] * 1001}, 422, "rows"),
        ({"rows": [good], "extra": 1}, 422, "rows"),
        ({"rows": "x"}, 422, "rows"),
        ({"rows": [good, 5]}, 422, "rows[1]"),
        ({"rows": [good, {"email": "x@acme.example", "created_at": {"y": 1}}]}, 422,
         "rows[1].created_at"),
        ({"rows": [good, {"email": "x@acme.example", "created_at": "soon"}]}, 422,
         "rows[1].created_at"),
        ({"rows": [good, {"email": "x@acme.example", "created_at": "2024-01-01",
                          "converted": "maybe"}]}, 422, "rows[1].converted"),
        ({"rows": [good, {"company": "Acme", "created_at": "2024-01-01"}]}, 422, "rows[1].email"),
        ({"rows": [good, {"email": "x@acme.example"}]}, 422, "rows[1].created_at"),
        ({"name": "", "rows": [good]}, 422, "name"),
    ]
    for body, want, field in cases:
        st, _, resp = baton.request("POST", "/v1/import/leads", body=body)
        assert st == want and resp["error"]["field"] == field, (body if len(str(body)) < 300
                                                                  else field, st, resp)
    for raw in (b'{"rows": [', b'{"rows": [{"email": "\xff@a.com", "created_at": "2024-01-01"}]}'):
        st, _, resp = baton.request("POST", "/v1/import/leads", body=raw,
                                    content_type="application/json")
        assert st == 400, (raw, st, resp)
    st, _, resp = baton.request("POST", "/v1/import/activities", body={"rows": [
        {"lead_external_id": "nobody", "type": "page_view", "occurred_at": "2024-01-01"}]})
    assert st == 422 and resp["error"]["field"] == "rows[0].lead_external_id", resp
    assert baton.lead_count() == 0
    assert db_rows(baton, "SELECT count(*) FROM activities")[0][0] == 0


def test_progress_bar_on_a_terminal(baton, tmp_path):
    import pty
    path = tmp_path / "leads.csv"
    write(path, "external_id,created_at,converted\n" +
          "".join("t%d,2024-01-01,%s\n" % (i, "yes" if i % 3 else "no") for i in range(6000)))
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([BATON_BIN, "import", "leads", str(path), "--db", baton.db],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = None
        out, _ = proc.communicate(timeout=120)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0, seen
    assert re.search(rb"importing +\[[#.]*\] +100%  6000/6000 rows", seen), seen
    assert summary(subprocess.CompletedProcess([], 0, out.decode(), "")) == (
        6000, 6000, 0, 0, 6000, 0, 0)

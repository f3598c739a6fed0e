"""Accounts: the HTTP API (POST, GET, list), its validation, and
`baton import accounts` from CSV (all or nothing, --skip-invalid, standard
input, owner warnings), also while the server runs on the same database."""

import csv
import io
import os
import re
import subprocess

from conftest import BATON_BIN, assert_error, run_baton

SUMMARY_RE = re.compile(
    r"imported (\d+) accounts?: (\d+) created, (\d+) updated, (\d+) unchanged, (\d+) invalid, "
    r"in [\d.]+ s")

ACME = {"name": "Acme Inc.", "domains": ["https://www.acme.com/about", "acme.de"],
        "website": "acme.com", "country": "Germany", "owner": "alice",
        "fields": {"tier": "gold", "seats": 40}}


def all_accounts(b, key=None, limit=500):
    """Every account, walking the pages."""
    out, after = [], None
    for _ in range(10000):
        q = "?limit=%d" % limit + ("&after=" + after if after else "")
        kw = {} if key is None else {"key": key}
        st, _, body = b.get("/v1/accounts" + q, **kw)
        assert st == 200, (st, body)
        out.extend(body["data"])
        after = body["next_cursor"]
        if after is None:
            return out
    raise AssertionError("paging did not end")


def write_csv(path, rows, header=("id", "name", "domains", "website", "country", "owner", "tier")):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow(r)


def generated_rows(n, start=0):
    countries = ["DE", "US", "France", "GB", "Japan"]
    return [("acc-%05d" % i, "Company %d, Ltd." % i, "company%d.com;company%d.de" % (i, i),
             "https://www.company%d.com/" % i, countries[i % 5], "rep%d" % (i % 7),
             "gold" if i % 2 else "")
            for i in range(start, start + n)]


def import_accounts(b, path, *extra, input_text=None):
    args = [BATON_BIN, "import", "accounts", path, "--db", b.db, *extra]
    return subprocess.run(args, input=input_text, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=120,
                          stdin=None if input_text is not None else subprocess.DEVNULL)


def summary(r):
    m = SUMMARY_RE.search(r.stdout)
    assert m, (r.stdout, r.stderr)
    return tuple(int(x) for x in m.groups())


# ---- HTTP ----

def test_post_get_update_one_account(baton):
    st, h, body = baton.request("POST", "/v1/accounts", body=ACME)
    assert st == 201, body
    assert body["outcome"] == "created"
    acc = body["account"]
    assert acc["id"] == "acme.com"  # derived from the first domain
    assert h["location"] == "/v1/accounts/acme.com"
    assert acc["domains"] == ["acme.com", "acme.de"]
    assert acc["country"] == "DE" and acc["owner"] == "alice"
    assert acc["website"] == "acme.com"
    assert acc["fields"] == {"seats": 40, "tier": "gold"}
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", acc["created_at"])

    st, _, got = baton.get("/v1/accounts/acme.com")
    assert st == 200 and got == acc

    st, _, body = baton.request("POST", "/v1/accounts", body=ACME)
    assert st == 200 and body["outcome"] == "unchanged"
    assert body["account"]["updated_at"] == acc["updated_at"]

    changed = dict(ACME, id="acme.com", owner="bob", fields=None)
    st, _, body = baton.request("POST", "/v1/accounts", body=changed)
    assert st == 200 and body["outcome"] == "updated", body
    assert body["account"]["owner"] == "bob"
    assert body["account"]["fields"] == {}
    assert body["account"]["created_at"] == acc["created_at"]
    st, _, got = baton.get("/v1/accounts/acme.com")
    assert got["owner"] == "bob"


def test_batch_and_paging(baton):
    items = [{"id": "c-%02d" % i, "name": "Company %d" % i} for i in range(25)]
    st, _, body = baton.request("POST", "/v1/accounts", body={"accounts": items})
    assert st == 201, body
    assert (body["created"], body["updated"], body["unchanged"]) == (25, 0, 0)
    assert [r["outcome"] for r in body["results"]] == ["created"] * 25
    items[3]["name"] = "Renamed"
    st, _, body = baton.request("POST", "/v1/accounts", body={"accounts": items})
    assert st == 200, body
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 24)
    ids = [a["id"] for a in all_accounts(baton, limit=7)]
    assert ids == sorted("c-%02d" % i for i in range(25))
    st, _, body = baton.get("/v1/accounts?limit=2&after=c-22")
    assert [a["id"] for a in body["data"]] == ["c-23", "c-24"]
    assert body["next_cursor"] is None


def test_bad_input_changes_nothing(baton):
    st, _, _ = baton.request("POST", "/v1/accounts", body={"id": "keep", "name": "Keep"})
    assert st == 201
    before = all_accounts(baton)

    st, _, body = baton.request("POST", "/v1/accounts", body="{not json")
    assert_error(st, body, 400, "malformed")
    cases = [
        ({"name": "X", "colour": "red"}, "colour"),
        ({"name": "X", "domains": "x.com"}, "domains"),
        ({"name": "X", "domains": ["acme..com"]}, "domains"),
        ({"name": "X", "domains": ["co.uk"]}, "domains"),
        ({"name": "X", "country": "Atlantis"}, "country"),
        ({"name": "X", "owner": "Jane Doe"}, "owner"),
        ({"id": "a/b", "name": "X"}, "id"),
        ({"id": "x"}, "name"),
        ({"name": "X", "fields": {"a": [1]}}, "fields"),
        ({"name": "X", "created_at": "2026-01-01T00:00:00Z"}, "created_at"),
        ({"name": "X" * 300}, "name"),
        ({"name": "X", "domains": ["d%d.com" % i for i in range(65)]}, "domains"),
        ({"accounts": [{"id": "new-1", "name": "A"}, {"name": "B", "country": "Nowhere"}]},
         "accounts[1].country"),
        ({"accounts": [{"id": "dup", "name": "A"}, {"id": "dup", "name": "B"}]}, "accounts[1].id"),
        ({"accounts": [{"id": "ok", "name": "A"}, "text"]}, "accounts[1]"),
        ({"accounts": []}, "accounts"),
        ({"accounts": [{"name": "A%d" % i} for i in range(1001)]}, "accounts"),
        ({"accounts": [{"name": "A"}], "name": "B"}, "accounts"),
    ]
    for body_in, field in cases:
        st, _, body = baton.request("POST", "/v1/accounts", body=body_in)
        assert_error(st, body, 422, "invalid", field)
        assert body["error"]["message"].startswith(field) or field == "accounts", body
    st, _, body = baton.request("POST", "/v1/accounts", body=[1, 2])
    assert_error(st, body, 422, "invalid")
    assert all_accounts(baton) == before


def test_get_unknown_and_bad_list_parameters(baton):
    st, _, body = baton.get("/v1/accounts/nobody.com")
    assert_error(st, body, 404, "not_found", "id")
    st, _, body = baton.get("/v1/accounts?limit=0")
    assert_error(st, body, 400, "invalid", "limit")
    st, _, body = baton.get("/v1/accounts?page=2")
    assert_error(st, body, 400, "invalid", "page")


def test_roles(baton):
    rep = baton.create_key("rep", rep="alice")
    ingest = baton.create_key("ingest")
    st, _, body = baton.request("POST", "/v1/accounts", body=ACME, key=rep)
    assert_error(st, body, 403, "forbidden")
    st, _, body = baton.request("POST", "/v1/accounts", body=ACME, key=ingest)
    assert_error(st, body, 403, "forbidden")
    st, _, _ = baton.request("POST", "/v1/accounts", body=ACME)
    assert st == 201
    st, _, body = baton.get("/v1/accounts/acme.com", key=rep)
    assert st == 200 and body["name"] == "Acme Inc."
    assert [a["id"] for a in all_accounts(baton, key=rep)] == ["acme.com"]
    st, _, body = baton.get("/v1/accounts/acme.com", key=ingest)
    assert_error(st, body, 403, "forbidden")
    st, _, body = baton.get("/v1/accounts/acme.com", key=None)
    assert_error(st, body, 401, "unauthorized")


# ---- baton import accounts ----

def test_import_while_the_server_runs(baton):
    path = os.path.join(baton.dir, "accounts.csv")
    write_csv(path, generated_rows(3000))
    r = import_accounts(baton, path)
    assert r.returncode == 0, r.stderr
    assert summary(r) == (3000, 3000, 0, 0, 0)
    assert r.stderr == ""  # no progress bar when stderr is not a terminal

    st, _, acc = baton.get("/v1/accounts/acc-01234")
    assert st == 200, acc
    assert acc["name"] == "Company 1234, Ltd."
    assert acc["domains"] == ["company1234.com", "company1234.de"]
    assert acc["website"] == "https://www.company1234.com/"
    assert acc["country"] == "JP" and acc["owner"] == "rep2"
    assert acc["fields"] == {}
    st, _, acc = baton.get("/v1/accounts/acc-01235")
    assert acc["fields"] == {"tier": "gold"}
    assert len(all_accounts(baton)) == 3000

    # the running server matches new leads against what was imported
    st, _, body = baton.post_lead({"email": "jo@sales.company77.de", "company": "Other"})
    assert st == 201, body
    assert body["lead"]["account"]["id"] == "acc-00077", body["lead"]

    # the same file again writes nothing; a changed row is an update
    r = import_accounts(baton, path, "--quiet")
    assert r.returncode == 0 and r.stdout == "", (r.stdout, r.stderr)
    rows = generated_rows(3000)
    rows[77] = rows[77][:5] + ("rep6", "platinum")
    write_csv(path, rows)
    r = import_accounts(baton, path)
    assert summary(r) == (3000, 0, 1, 2999, 0)
    st, _, acc = baton.get("/v1/accounts/acc-00077")
    assert acc["owner"] == "rep6" and acc["fields"] == {"tier": "platinum"}


def test_import_is_all_or_nothing(baton):
    rows = generated_rows(2000)
    rows[1499] = ("acc-bad", "Bad", "not a domain..x", "", "DE", "", "")
    rows[1700] = ("acc-bad2", "Bad", "", "", "Atlantis", "", "")
    path = os.path.join(baton.dir, "bad.csv")
    write_csv(path, rows)
    r = import_accounts(baton, path)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout == ""
    # the header is line 1, so row i is on line i + 2
    assert "bad.csv: line 1501: domains: 'not' is not a domain name" in r.stderr, r.stderr
    assert "bad.csv: line 1702: country: unknown country 'Atlantis'" in r.stderr
    assert "2 of 2000 rows are invalid; nothing imported" in r.stderr
    st, _, body = baton.get("/v1/accounts/acc-00001")
    assert_error(st, body, 404, "not_found")
    assert all_accounts(baton) == []

    r = import_accounts(baton, path, "--skip-invalid")
    assert r.returncode == 0, r.stderr
    assert summary(r) == (1998, 1998, 0, 0, 2)
    assert "line 1501" in r.stderr
    st, _, _ = baton.get("/v1/accounts/acc-bad")
    assert st == 404
    st, _, _ = baton.get("/v1/accounts/acc-01999")
    assert st == 200


def test_import_reports_many_errors_and_fatal_ones(baton):
    rows = [("x%d" % i, "N%d" % i, "", "", "Nowhere", "", "") for i in range(30)]
    path = os.path.join(baton.dir, "many.csv")
    write_csv(path, rows)
    r = import_accounts(baton, path)
    assert r.returncode == 1
    assert len(re.findall(r"unknown country", r.stderr)) == 20
    assert "... and 10 more invalid rows" in r.stderr

    with open(path, "w") as f:
        f.write("name,note\nAcme,x\nBeta,\"never closed\nGamma,y\n")
    r = import_accounts(baton, path)
    assert r.returncode == 1
    assert "line 3: a quoted cell is never closed" in r.stderr and "nothing imported" in r.stderr

    with open(path, "w") as f:
        f.write("country,owner\nDE,bob\n")
    r = import_accounts(baton, path)
    assert r.returncode == 1 and "line 1: the header needs a name, domains or website" in r.stderr
    assert all_accounts(baton) == []


def test_import_from_stdin_with_bom_crlf_and_owner_warnings(baton_factory):
    b = baton_factory(config="version: 1\nreps:\n  - id: alice\n    name: Alice\n")
    text = ("\ufeffName,Domains,Owner,Segment\r\n"
            "Acme,acme.com,alice,smb\r\n"
            "\"Beta, \"\"the\"\" Co\",beta.io,zed,\"multi\r\nline\"\r\n"
            "Gamma,gamma.io,zed,\r\n")
    r = import_accounts(b, "-", "--config", b.config_path, input_text=text)
    assert r.returncode == 0, r.stderr
    assert summary(r) == (3, 3, 0, 0, 0)
    assert ("baton import: warning: 2 accounts name an owner that is not a rep in %s: "
            "zed (2 accounts)\n" % b.config_path) in r.stderr
    st, _, acc = b.get("/v1/accounts/beta.io")
    assert st == 200
    assert acc["name"] == 'Beta, "the" Co'
    assert acc["fields"] == {"Segment": "multi\r\nline"}


def test_the_owners_warning_is_a_sentence(baton_factory):
    b = baton_factory(config="version: 1\nreps:\n  - id: alice\n    name: Alice\n")

    def warning(rows):
        path = os.path.join(b.dir, "owners.csv")
        write_csv(path, rows, header=("name", "domains", "owner"))
        r = import_accounts(b, path, "--config", b.config_path, "--quiet")
        assert r.returncode == 0, r.stderr
        lines = [l for l in r.stderr.splitlines() if "warning" in l]
        assert len(lines) == 1, r.stderr
        return lines[0]

    prefix = "baton import: warning: "
    assert warning([("One", "one.example", "nobody"), ("Two", "two.example", "alice")]) == (
        prefix + "1 account names an owner that is not a rep in %s: nobody (1 account)"
        % b.config_path)
    assert warning([("A", "a.example", "zed"), ("B", "b.example", "nobody"),
                    ("C", "c.example", "zed")]) == (
        prefix + "3 accounts name 2 owners that are not reps in %s: zed (2 accounts), "
        "nobody (1 account)" % b.config_path)
    many = [("C%d" % i, "c%d.example" % i, "rep%02d" % i) for i in range(21)]
    line = warning(many)
    assert line.startswith(prefix + "21 accounts name 21 owners that are not reps in %s: "
                           "rep00 (1 account), rep01 (1 account)," % b.config_path), line
    assert line.endswith("rep19 (1 account), and others"), line
    # reps of the configuration, and no owner, give no warning
    path = os.path.join(b.dir, "fine.csv")
    write_csv(path, [("Fine", "fine.example", "alice"), ("Free", "free.example", "")],
              header=("name", "domains", "owner"))
    r = import_accounts(b, path, "--config", b.config_path, "--quiet")
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr


def test_import_usage(baton):
    r = run_baton("import", "--help")
    assert r.returncode == 0 and "baton import accounts FILE.csv" in r.stdout
    r = run_baton("import", "accounts")
    assert r.returncode == 2
    r = run_baton("import", "accounts", os.path.join(baton.dir, "missing.csv"), "--db", baton.db)
    assert r.returncode == 1 and "cannot open" in r.stderr
    r = run_baton("--help")
    assert "import" in r.stdout


def test_import_shows_a_progress_bar_on_a_terminal(baton, tmp_path):
    import pty
    path = os.path.join(baton.dir, "accounts.csv")
    write_csv(path, generated_rows(2000))
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([BATON_BIN, "import", "accounts", path, "--db", baton.db],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = None
        out, _ = proc.communicate(timeout=120)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal is closed once the importer exits
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0, seen
    assert re.search(rb"importing +\[[#= .-]*\] +100%", seen), seen
    assert b"\r" in seen
    assert SUMMARY_RE.search(out.decode()), out

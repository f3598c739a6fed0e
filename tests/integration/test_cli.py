"""The commands besides `serve`'s HTTP API: what they refuse and what they
leave behind. A mistake (a mistyped path, an unknown rep, a port in use)
is a clear error on stderr, and nothing is created or written."""

import os
import re
import socket
import subprocess
import time

import pytest

from conftest import BATON_BIN, run_baton


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# ---- only serve (or an explicit --create) makes a database ----

def test_commands_refuse_a_missing_database_and_create_nothing(tmp_path):
    typo = str(tmp_path / "typo.db")
    csv = str(tmp_path / "accounts.csv")
    write(csv, "name,domains\nAcme,acme.com\n")
    for args, hint in [
        (["keys", "list", "--db", typo], "baton serve creates it"),
        (["keys", "revoke", "--db", typo, "1"], "baton serve creates it"),
        (["keys", "create", "--db", typo, "--role", "admin"],
         "baton serve creates it, or pass --create"),
        (["import", "accounts", csv, "--db", typo, "--quiet"],
         "baton serve creates it, or pass --create"),
    ]:
        r = run_baton(*args)
        assert r.returncode == 1, (args, r.stderr)
        assert "no database at %s; %s" % (typo, hint) in r.stderr, (args, r.stderr)
        assert r.stdout == "", args
        assert sorted(os.listdir(tmp_path)) == ["accounts.csv"], args


def test_the_default_database_is_not_created_either(tmp_path):
    r = run_baton("keys", "list", cwd=str(tmp_path))
    assert r.returncode == 1
    assert "no database at ./baton.db; baton serve creates it" in r.stderr
    write(str(tmp_path / "a.csv"), "name,domains\nAcme,acme.com\n")
    r = run_baton("import", "accounts", "a.csv", "--quiet", cwd=str(tmp_path))
    assert r.returncode == 1
    assert "no database at ./baton.db" in r.stderr
    assert os.listdir(tmp_path) == ["a.csv"]


def test_create_makes_a_new_database_for_keys_and_import(tmp_path):
    db = str(tmp_path / "new.db")
    r = run_baton("keys", "create", "--db", db, "--create", "--role", "ingest", "--name", "web")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("bt_")
    r = run_baton("keys", "list", "--db", db)
    assert r.returncode == 0 and " web " in r.stdout

    db2 = str(tmp_path / "accounts.db")
    csv = str(tmp_path / "accounts.csv")
    write(csv, "name,domains\nAcme,acme.com\n")
    r = run_baton("import", "accounts", csv, "--db", db2, "--create")
    assert r.returncode == 0, r.stderr
    assert "imported 1 account: 1 created" in r.stdout
    # the database exists now: the next import needs no --create
    r = run_baton("import", "accounts", csv, "--db", db2)
    assert r.returncode == 0, r.stderr
    assert "1 unchanged" in r.stdout


def test_create_is_only_for_keys_create(tmp_path):
    db = str(tmp_path / "x.db")
    r = run_baton("keys", "list", "--db", db, "--create")
    assert r.returncode == 2
    assert "--create is only for 'keys create'" in r.stderr
    assert os.listdir(tmp_path) == []


# ---- keys create --rep: the rep is checked against a configuration ----

REPS_CONFIG = "version: 1\nreps:\n  - id: alice\n    name: Alice\n"


def test_a_rep_key_for_a_rep_not_in_the_config_is_refused(baton_factory):
    b = baton_factory(config=REPS_CONFIG)
    r = b.keys("create", "--db", b.db, "--role", "rep", "--rep", "ghost",
               "--config", b.config_path)
    assert r.returncode == 1
    assert r.stdout == ""
    assert "no rep 'ghost' in %s; no key created" % b.config_path in r.stderr
    assert len(b.key_list()) == 1  # the admin key only

    r = b.keys("create", "--db", b.db, "--role", "rep", "--rep", "alice",
               "--config", b.config_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("bt_")
    assert "unchecked" not in r.stderr
    assert [k["rep"] for k in b.key_list()] == ["-", "alice"]


def test_a_rep_key_without_a_config_says_the_rep_is_unchecked(baton):
    r = baton.keys("create", "--db", baton.db, "--role", "rep", "--rep", "ghost")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("bt_")
    assert "warning: rep id 'ghost' is unchecked: pass --config FILE" in r.stderr
    assert [k["rep"] for k in baton.key_list()] == ["-", "ghost"]


def test_keys_create_config_errors(baton, tmp_path):
    missing = str(tmp_path / "nope.yaml")
    r = baton.keys("create", "--db", baton.db, "--role", "rep", "--rep", "alice",
                   "--config", missing)
    assert r.returncode == 1 and missing in r.stderr
    r = baton.keys("create", "--db", baton.db, "--role", "admin", "--config", baton.config_path)
    assert r.returncode == 2 and "only for --role rep" in r.stderr
    r = baton.keys("list", "--db", baton.db, "--config", baton.config_path)
    assert r.returncode == 2 and "--config is only for 'keys create'" in r.stderr
    assert len(baton.key_list()) == 1


# ---- serve binds before it creates anything ----

def test_serve_on_a_port_in_use_fails_before_creating_anything(baton, tmp_path):
    db = str(tmp_path / "second.db")
    r = run_baton("serve", "--config", baton.config_path, "--db", db,
                  "--listen", "127.0.0.1:%d" % baton.port)
    assert r.returncode == 1
    assert "cannot listen on 127.0.0.1:%d: Address already in use" % baton.port in r.stderr
    assert "listening on" not in r.stderr
    assert os.listdir(tmp_path) == []  # no database, no -wal, no admin key file
    # the first server is untouched
    st, _, _ = baton.get("/readyz", key=None)
    assert st == 200


def test_serve_listens_on_ipv6_loopback_with_port_0(baton_factory):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    b = baton_factory(started=False)
    proc = subprocess.Popen(
        [BATON_BIN, "serve", "--config", b.config_path, "--db", b.db,
         "--listen", "[::1]:0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        while line and "listening on" not in line:
            line = proc.stderr.readline()
        m = re.search(r"listening on http://\[::1\]:(\d+)", line)
        assert m, line
        port = int(m.group(1))
        assert port > 0
        conn = socket.create_connection(("::1", port), timeout=5)
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
        conn.close()
        assert reply.startswith(b"HTTP/1.1 200"), reply[:100]
    finally:
        proc.terminate()
        proc.wait(timeout=15)


# ---- usage, help and README agree ----

README = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "README.md")


def usage_of(*cmd):
    r = run_baton(*cmd, "--help")
    assert r.returncode == 0, r.stderr
    text = r.stdout
    return text[:text.index("\n\n")], text


def test_db_is_optional_in_usage_help_and_readme():
    with open(README, encoding="utf-8") as f:
        readme = f.read()
    block = readme[readme.index("## The `baton` command"):]
    block = block[:block.index("\n```\n", block.index("```") + 3)]
    for cmd in (("keys",), ("import",), ("serve",)):
        usage, text = usage_of(*cmd)
        # every --db in the usage lines is optional, and the help gives the default
        assert "--db PATH" in usage, usage
        assert usage.count("--db PATH") == usage.count("[--db PATH]"), usage
        assert "(default ./baton.db)" in text, text
        lines = [l for l in block.splitlines() if l.startswith("baton %-6s" % cmd[0])]
        assert lines, cmd
        for l in lines:
            assert "--db PATH" in l and l.count("--db PATH") == l.count("[--db PATH]"), l
    usage, _ = usage_of("keys")
    assert "[--create]" in usage and "[--config FILE]" in usage
    usage, _ = usage_of("import")
    assert "[--create]" in usage


# ---- the dry runs name what is missing ----

def test_score_and_route_without_config_say_so(tmp_path):
    lead = str(tmp_path / "lead.json")
    write(lead, '{"email": "a@example.com"}')
    for cmd in ("score", "route"):
        r = run_baton(cmd, lead)
        assert r.returncode == 2
        assert r.stdout == ""
        assert r.stderr.startswith("baton %s: --config FILE is required\n" % cmd), r.stderr
        assert "usage: baton %s --config FILE" % cmd in r.stderr
        r = run_baton(cmd, "--config", lead, lead, lead)
        assert r.returncode == 2
        assert "one lead at a time" in r.stderr and "usage:" in r.stderr


# ---- the shutdown line counts the clients' commands apart from the timers' ----

SHUTDOWN_RE = re.compile(r"engine: (\d+) commands? and (\d+) timer sweeps? in (\d+) commits? "
                         r"\((\d+) failed\)")


def test_an_idle_daemon_reports_no_commands(baton):
    assert baton.stop() == 0
    m = SHUTDOWN_RE.search(baton.stderr_text())
    assert m, baton.stderr_text()
    commands, sweeps, commits, failed = map(int, m.groups())
    assert commands == 0
    assert sweeps >= 1  # the timers ran at start
    assert commits >= 1 and failed == 0


def test_client_commands_are_counted(baton):
    for i in range(3):
        st, _, body = baton.post_lead({"email": "c%d@example.com" % i})
        assert st == 201, body
    assert baton.stop() == 0
    m = SHUTDOWN_RE.search(baton.stderr_text())
    assert m, baton.stderr_text()
    assert int(m.group(1)) == 3


# ---- make run takes another address, database and configuration ----

def make_run_command(*overrides, env=None):
    repo = os.path.dirname(README)
    # not the flags and variables of a make that runs this suite (make test)
    clean = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "-s", "-n", "-C", repo, "run", *overrides], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60,
                       env=dict(clean, **(env or {})))
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if "baton serve" in l]
    assert len(lines) == 1, r.stdout
    return lines[0]


def test_make_run_takes_listen_db_and_config():
    line = make_run_command()
    assert line.endswith("serve --config 'examples/baton.yaml' --db './baton.db' "
                         "--listen '127.0.0.1:8080'"), line
    line = make_run_command("LISTEN=127.0.0.1:9090", "DB=/tmp/x.db", "CONFIG=my.yaml")
    assert line.endswith("serve --config 'my.yaml' --db '/tmp/x.db' --listen '127.0.0.1:9090'"), line
    line = make_run_command("CLOCK=2026-12-01T09:00:00Z")
    assert line.endswith("--listen '127.0.0.1:8080' --manual-clock '2026-12-01T09:00:00Z'"), line
    # a CONFIG in the environment is not taken for make run's
    line = make_run_command(env={"CONFIG": "/etc/elsewhere.yaml", "DB": "/nope.db"})
    assert "--config 'examples/baton.yaml' --db './baton.db'" in line, line

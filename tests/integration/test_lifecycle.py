import pytest
"""Process lifecycle: reload, graceful shutdown, durability, CLI, first start."""

import http.client
import json
import os
import re
import signal
import socket
import threading
import time

from conftest import REPO_ROOT, assert_error, run_baton

SMALL = "version: 1\nserver:\n  max_body_bytes: 2048\n"
LARGE = "version: 1\nserver:\n  max_body_bytes: 8192\n"
# unknown key on line 3, column 3
UNKNOWN_KEY = "version: 1\nserver:\n  max_body_bytez: 8192\n"
SYNTAX_ERROR = "version: 1\nserver:\n  max_body_bytes: [1, 2\n"


def big_lead(email):
    lead = {"email": email, "fields": {"pad": "p" * 3000}}
    assert 3000 < len(json.dumps(lead)) < 8192
    return lead


def ready_version(b):
    st, _, body = b.request("GET", "/readyz", key=None)
    assert st == 200, body
    return body["config_version"]


def wait_version_change(b, old, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = ready_version(b)
        if v != old:
            return v
        time.sleep(0.01)
    return old


def loc_re(path, line=None, col=None):
    return re.escape(path) + ":%s:%s:" % (line or r"\d+", col or r"\d+")


# ---- SIGHUP ----

def test_reload_good_config(baton_factory):
    b = baton_factory(SMALL)
    v1 = ready_version(b)
    assert isinstance(v1, str) and v1
    st, _, body = b.post_lead(big_lead("big@example.com"))
    assert_error(st, body, 413, "too_large")
    assert b.lead_count() == 0

    b.write_config(LARGE)
    b.signal(signal.SIGHUP)
    v2 = wait_version_change(b, v1)
    assert v2 != v1, "config_version did not change after SIGHUP with a new file"
    st, _, body = b.post_lead(big_lead("big@example.com"))
    assert st == 201, body
    assert b.lead_count() == 1
    assert b.running()


def _broken_reload(b, text, where):
    v1 = ready_version(b)
    b.write_config(text)
    b.signal(signal.SIGHUP)
    m = b.wait_stderr(where)
    assert m, "stderr does not name the failure as FILE:LINE:COL:\n" + b.stderr_text()
    # the old configuration keeps running
    assert ready_version(b) == v1
    assert b.running()
    st, _, body = b.post_lead(big_lead("still-small@example.com"))
    assert_error(st, body, 413, "too_large")
    st, _, body = b.post_lead({"email": "ok@example.com"})
    assert st in (200, 201), body
    st, _, body = b.request("GET", "/healthz", key=None)
    assert st == 200
    return v1


def test_reload_unknown_key(baton_factory):
    b = baton_factory(SMALL)
    _broken_reload(b, UNKNOWN_KEY, loc_re(b.config_path, 3, 3))
    assert "max_body_bytez" in b.stderr_text()


def test_reload_syntax_error_then_good(baton_factory):
    b = baton_factory(SMALL)
    v1 = _broken_reload(b, SYNTAX_ERROR, loc_re(b.config_path))
    # a later good file is taken
    b.write_config(LARGE)
    b.signal(signal.SIGHUP)
    v2 = wait_version_change(b, v1)
    assert v2 != v1
    st, _, body = b.post_lead(big_lead("big2@example.com"))
    assert st == 201, body


def test_reload_missing_file(baton_factory):
    b = baton_factory(SMALL)
    v1 = ready_version(b)
    os.unlink(b.config_path)
    b.signal(signal.SIGHUP)
    assert b.wait_stderr(re.escape(b.config_path)), b.stderr_text()
    assert ready_version(b) == v1
    assert b.running()


def test_reload_same_file_keeps_version(baton_factory):
    b = baton_factory(SMALL)
    v1 = ready_version(b)
    b.write_config(SMALL)
    b.signal(signal.SIGHUP)
    time.sleep(0.2)
    assert ready_version(b) == v1
    assert b.running()


# ---- graceful shutdown ----

def _read_until(sock, marker, timeout):
    sock.settimeout(timeout)
    buf = b""
    while marker not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


def _read_response(sock, timeout):
    """Reads one full response (Content-Length framed); returns (status, body)."""
    sock.settimeout(timeout)
    buf = b""
    while True:
        if b"\r\n\r\n" in buf:
            head, _, rest = buf.partition(b"\r\n\r\n")
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if m and len(rest) >= int(m.group(1)):
                status = int(head.split(b" ", 2)[1])
                return status, json.loads(rest[:int(m.group(1))])
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed mid-response: %r" % buf[:300])
        buf += chunk


def test_graceful_shutdown_finishes_in_flight(baton_factory):
    b = baton_factory()
    key = b.admin_key
    n = 4
    socks = []
    bodies = []
    # Each request sends its headers with Expect: 100-continue; the server's
    # "100 Continue" proves it has taken the request, then SIGTERM arrives
    # before the body is sent.
    for i in range(n):
        body = json.dumps({"email": "inflight%d@example.com" % i, "company": "F"}).encode()
        s = socket.create_connection(("127.0.0.1", b.port), timeout=10)
        s.sendall(("POST /v1/leads HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
                   % (key, len(body))).encode())
        got = _read_until(s, b"\r\n\r\n", 10)
        assert got.startswith(b"HTTP/1.1 100"), got
        socks.append(s)
        bodies.append(body)
    try:
        b.signal(signal.SIGTERM)
        time.sleep(0.2)
        # the listener is closed (or answers 503) while the in-flight ones finish
        try:
            st, _, resp = b.request("GET", "/healthz", key=None)
            assert st == 503, (st, resp)
        except (ConnectionError, OSError, http.client.HTTPException):
            pass
        results = [None] * n

        def finish(i):
            try:
                half = len(bodies[i]) // 2
                socks[i].sendall(bodies[i][:half])
                time.sleep(0.05)
                socks[i].sendall(bodies[i][half:])
                results[i] = _read_response(socks[i], 10)
            except Exception as e:  # noqa: BLE001 - asserted below
                results[i] = e

        threads = [threading.Thread(target=finish, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        for s in socks:
            s.close()
    for i, r in enumerate(results):
        assert isinstance(r, tuple), "request %d: %r" % (i, r)
        st, body = r
        assert st == 201, body
        assert body["lead"]["email"] == "inflight%d@example.com" % i
    assert b.wait() == 0, b.stderr_text()

    # durability: a restart on the same database has them all
    b.start()
    emails = sorted(l["email"] for l in b.list_leads())
    assert emails == sorted("inflight%d@example.com" % i for i in range(n))


def test_shutdown_under_load_is_durable(baton_factory):
    b = baton_factory()
    key = b.admin_key
    stop = threading.Event()
    lock = threading.Lock()
    ok = []  # emails whose POST got a 2xx
    bad = []  # complete responses that are neither 2xx nor 503, or 2xx for another lead
    # Workers record; only the main thread asserts (a failed assert in a
    # thread would end that thread and let the test pass).

    def worker(w):
        i = 0
        while not stop.is_set():
            email = "load-%d-%d@example.com" % (w, i)
            i += 1
            try:
                st, _, body = b.post_lead({"email": email}, key=key)
            except (ConnectionError, OSError, http.client.HTTPException):
                # refused / closed before a reply: not started, or the
                # listener is gone
                if not b.running():
                    return
                time.sleep(0.005)
                continue
            with lock:
                if 200 <= st < 300 and body["lead"]["email"] == email:
                    ok.append(email)
                elif st != 503:
                    bad.append((st, body))
            if st == 503:
                return

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(ok) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    b.signal(signal.SIGTERM)
    rc = b.wait()
    stop.set()
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads)
    assert rc == 0, b.stderr_text()
    assert not bad, bad
    assert len(ok) >= 30
    b.start()
    stored = {l["email"] for l in b.list_leads()}
    missing = [e for e in ok if e not in stored]
    assert not missing, "acknowledged leads lost after restart: %r" % missing[:10]
    assert len(stored) >= len(set(ok))


def test_sigint_is_graceful(baton_factory):
    b = baton_factory()
    st, _, _ = b.post_lead({"email": "int@example.com"})
    assert st == 201
    b.signal(signal.SIGINT)
    assert b.wait() == 0
    b.start()
    assert [l["email"] for l in b.list_leads()] == ["int@example.com"]


def test_sigterm_idle_exits_zero(baton):
    assert baton.stop() == 0


# ---- first start and keys ----

def test_first_start_creates_key_once(baton_factory):
    b = baton_factory()
    first_err = b.stderr_text()
    assert b.key_file in first_err
    key = b.admin_key
    assert b.stop() == 0
    with open(b.key_file) as f:
        assert f.read().strip() == key

    b.start()
    second_err = b.stderr_text(since_start=True)
    assert "listening on" in second_err
    assert b.key_file not in second_err
    assert "admin-key" not in second_err
    with open(b.key_file) as f:
        assert f.read().strip() == key
    rows = b.key_list()
    assert len(rows) == 1
    st, _, _ = b.request("GET", "/v1/leads", key=key)
    assert st == 200


def test_no_new_key_when_file_removed(baton_factory):
    b = baton_factory()
    key = b.admin_key
    assert b.stop() == 0
    os.unlink(b.key_file)
    b.start()
    assert not os.path.exists(b.key_file)
    assert len(b.key_list()) == 1
    st, _, _ = b.request("GET", "/v1/leads", key=key)
    assert st == 200


def test_no_new_key_after_revoking_all(baton_factory):
    b = baton_factory()
    key = b.admin_key
    assert b.stop() == 0
    r = b.keys("revoke", "--db", b.db, str(b.key_id(key)))
    assert r.returncode == 0, r.stderr
    os.unlink(b.key_file)
    b.start()
    assert not os.path.exists(b.key_file)  # revoked keys count: no silent new admin key
    st, _, _ = b.request("GET", "/v1/leads", key=key)
    assert st == 401


def test_existing_key_file_is_never_overwritten(baton_factory, tmp_path):
    b = baton_factory(started=False)
    with open(b.key_file, "w") as f:
        f.write("precious\n")
    with pytest.raises(RuntimeError):
        b.start(timeout=3)
    assert "--admin-key-file" in b.stderr_text()
    with open(b.key_file) as f:
        assert f.read() == "precious\n"
    assert b.key_list() == []  # no key stored without being written down


def test_keys_created_before_first_start(baton_factory):
    b = baton_factory(started=False)
    # before the first start there is no database: keys create needs --create
    r = b.keys("create", "--db", b.db, "--role", "ingest")
    assert r.returncode == 1 and "pass --create" in r.stderr
    key = b.create_key("ingest", name="pre", create=True)
    b.start()
    # a key existed: no admin key was created
    assert not os.path.exists(b.key_file)
    assert len(b.key_list()) == 1
    st, _, body = b.post_lead({"email": "pre@example.com"}, key=key)
    assert st == 202, body


# ---- CLI ----

def test_check_example_config():
    path = os.path.join(REPO_ROOT, "examples", "baton.yaml")
    assert os.path.exists(path), "examples/baton.yaml is missing"
    r = run_baton("check", path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3 and ": ok (config version " in lines[0]
    assert lines[1] == "routing: 8 rules, 4 pools"
    assert lines[2] == "delivery: no channels (nothing is sent), 1 template"


def test_check_minimal_config(tmp_path):
    p = tmp_path / "ok.yaml"
    p.write_text("version: 1\n")
    r = run_baton("check", str(p))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("routing: off")


def test_check_broken_configs(tmp_path):
    cases = [
        (UNKNOWN_KEY, 3, 3),
        (SYNTAX_ERROR, None, None),
        ("version: 2\n", 1, None),
        ("version: 1\nserver:\n  max_body_bytes: 10\n", 3, None),
        ("server:\n  listen: 127.0.0.1:8080\n", None, None),  # no version
    ]
    for i, (text, line, col) in enumerate(cases):
        p = tmp_path / ("bad%d.yaml" % i)
        p.write_text(text)
        r = run_baton("check", str(p))
        assert r.returncode == 1, (text, r.stdout, r.stderr)
        assert re.search("(?m)^" + loc_re(str(p), line, col), r.stderr), (text, r.stderr)


def test_check_missing_file(tmp_path):
    r = run_baton("check", str(tmp_path / "nope.yaml"))
    assert r.returncode == 1
    assert "nope.yaml" in r.stderr


def test_version_and_help():
    r = run_baton("--version")
    assert r.returncode == 0
    assert re.fullmatch(r"baton \d+\.\d+\.\d+\S*\n?", r.stdout), r.stdout
    for cmd in ("serve", "keys", "check", "reload"):
        r = run_baton(cmd, "--help")
        assert r.returncode == 0, (cmd, r.stderr)
        assert ("usage: baton " + cmd) in r.stdout
    r = run_baton("--help")
    assert r.returncode == 0 and "usage: baton" in r.stdout


def test_unknown_command_and_option():
    r = run_baton("frobnicate")
    assert r.returncode != 0
    assert r.stderr
    r = run_baton("serve", "--no-such-option")
    assert r.returncode != 0
    assert "usage" in r.stderr


def test_serve_broken_config(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(UNKNOWN_KEY)
    db = tmp_path / "baton.db"
    r = run_baton("serve", "--config", str(cfg), "--db", str(db), "--listen", "127.0.0.1:0")
    assert r.returncode == 1, r.stderr
    assert re.search(loc_re(str(cfg), 3, 3), r.stderr), r.stderr
    assert "listening on" not in r.stderr
    assert not os.path.exists(str(db) + ".admin-key")


def test_serve_missing_config(tmp_path):
    r = run_baton("serve", "--config", str(tmp_path / "none.yaml"), "--db",
                  str(tmp_path / "baton.db"), "--listen", "127.0.0.1:0")
    assert r.returncode == 1
    assert "none.yaml" in r.stderr


def test_serve_listen_conflict(baton_factory, tmp_path):
    b = baton_factory()
    cfg = tmp_path / "c.yaml"
    cfg.write_text("version: 1\n")
    r = run_baton("serve", "--config", str(cfg), "--db", str(tmp_path / "b.db"),
                  "--listen", "127.0.0.1:%d" % b.port)
    assert r.returncode == 1, r.stderr
    assert "listening on" not in r.stderr
    assert b.running()


def test_reload_changes_redirect_hosts(baton_factory):
    b = baton_factory("version: 1\n")
    form = [("email", "rh@example.com"), ("_redirect", "https://www.example.com/thanks")]
    st, _, body = b.request("POST", "/v1/leads", form=form)
    assert_error(st, body, 422, "invalid", "_redirect")
    v1 = ready_version(b)
    b.write_config("version: 1\nserver:\n  form_redirect_hosts: [www.example.com]\n")
    b.signal(signal.SIGHUP)
    assert wait_version_change(b, v1) != v1
    st, hdrs, _ = b.request("POST", "/v1/leads", form=form)
    assert st == 303
    assert hdrs["location"] == "https://www.example.com/thanks"
    assert b.lead_count() == 1


def test_state_survives_restart(baton_factory):
    b = baton_factory()
    hdr = {"Idempotency-Key": "restart-1"}
    st, _, first = b.post_lead({"email": "rs@example.com", "external_id": "rs-1"}, headers=hdr)
    assert st == 201
    lead = first["lead"]
    events = b.events(lead["id"])
    assert b.stop() == 0
    b.start()
    st, _, got = b.get("/v1/leads/%d" % lead["id"])
    assert st == 200 and got == lead
    assert b.events(lead["id"]) == events
    # the idempotency key, external id and email are still known
    st, _, again = b.post_lead({"email": "rs@example.com", "external_id": "rs-1"}, headers=hdr)
    assert st == 200 and again["outcome"] == "repeated", again
    st, _, body = b.post_lead({"email": "other@example.com"}, headers=hdr)
    assert_error(st, body, 409, "conflict", "Idempotency-Key")
    st, _, again = b.post_lead({"external_id": "rs-1", "email": "zz@example.com"})
    assert st == 200 and again["outcome"] == "repeated", again
    st, _, again = b.post_lead({"email": "RS@example.com"})
    assert st == 200 and again["outcome"] == "unchanged", again
    assert b.lead_count() == 1
    # new ids continue after the old ones
    st, _, new = b.post_lead({"email": "new@example.com"})
    assert st == 201 and new["lead"]["id"] > lead["id"]

"""Fixtures for the Baton integration tests.

Every test talks HTTP to the real `baton serve` binary, started on an
ephemeral loopback port with its own temporary directory (config, database,
admin key file, captured stderr). BATON_BIN names the binary; it defaults to
build/baton in the repository.
"""

import http.client
import json
import os
import re
import shutil
import signal as _signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from contract import check as check_contract

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BATON_BIN = os.path.abspath(os.environ.get("BATON_BIN") or os.path.join(REPO_ROOT, "build", "baton"))

# Generous so that the suite also passes under ASan/UBSan builds.
START_TIMEOUT = 10.0
STOP_TIMEOUT = 15.0
HTTP_TIMEOUT = 10.0

DEFAULT_CONFIG = "version: 1\n"
LISTEN_RE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")

_ADMIN = object()  # sentinel: "use the admin key"
_AUTO = object()  # sentinel: "pick the content type from the body"


def run_baton(*args, timeout=STOP_TIMEOUT, **kw):
    """Runs BATON_BIN with args; returns the CompletedProcess (text mode)."""
    return subprocess.run(
        [BATON_BIN, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        **kw,
    )


class Baton:
    """One `baton serve` process and its temporary directory."""

    def __init__(self, config=DEFAULT_CONFIG, workdir=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="baton-it-")
        self.config_path = os.path.join(self.dir, "baton.yaml")
        self.db = os.path.join(self.dir, "baton.db")
        self.key_file = self.db + ".admin-key"
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.proc = None
        self.port = None
        self._stderr_file = None
        self._stderr_offset = 0
        self._admin_key = None
        if config is not None:
            self.write_config(config)

    # ---- process control ----

    def write_config(self, text):
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(text)

    def start(self, timeout=START_TIMEOUT, extra_args=()):
        """Starts the server and waits until it prints its port."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self._stderr_offset = os.path.getsize(self.stderr_path) if os.path.exists(self.stderr_path) else 0
        self._stderr_file = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [BATON_BIN, "serve", "--config", self.config_path, "--db", self.db,
             "--listen", "127.0.0.1:0", *extra_args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr_file,
        )
        deadline = time.monotonic() + timeout
        while True:
            m = LISTEN_RE.search(self.stderr_text(since_start=True))
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "baton serve exited with %s before listening; stderr:\n%s"
                    % (self.proc.returncode, self.stderr_text(since_start=True)))
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("baton serve did not print its port within %.0f s; stderr:\n%s"
                                   % (timeout, self.stderr_text(since_start=True)))
            time.sleep(0.005)
        self._admin_key = None
        return self

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait (bounded); returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(_signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("baton serve did not exit within %.0f s of SIGTERM" % timeout)
        self._close_stderr()
        return rc

    def wait(self, timeout=STOP_TIMEOUT):
        rc = self.proc.wait(timeout=timeout)
        self._close_stderr()
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        self._close_stderr()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _close_stderr(self):
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None

    def stderr_text(self, since_start=False):
        try:
            with open(self.stderr_path, "rb") as f:
                if since_start:
                    f.seek(self._stderr_offset)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_stderr(self, pattern, timeout=START_TIMEOUT, since_start=True):
        """Waits until stderr matches the regex; returns the match or None."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = rx.search(self.stderr_text(since_start=since_start))
            if m:
                return m
            time.sleep(0.01)
        return None

    def sanitizer_reports(self):
        """AddressSanitizer/UBSan/LeakSanitizer reports in stderr (for
        sanitizer builds; empty otherwise)."""
        text = self.stderr_text()
        return [l for l in text.splitlines()
                if ("Sanitizer" in l and "ERROR" in l) or "runtime error:" in l]

    def finish(self):
        """Teardown: a graceful stop (so that leak checks run), then the
        directory is removed. Fails the test if a sanitizer reported."""
        try:
            if self.running():
                try:
                    self.stop()
                except AssertionError:
                    pass
            self.kill()
            reports = self.sanitizer_reports()
            if reports:
                pytest.fail("sanitizer reports in baton's stderr:\n%s\n--- full stderr:\n%s"
                            % ("\n".join(reports), self.stderr_text()[-8000:]), pytrace=False)
        finally:
            self.cleanup()

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- keys ----

    @property
    def admin_key(self):
        if self._admin_key is None:
            with open(self.key_file, encoding="utf-8") as f:
                self._admin_key = f.read().strip()
        return self._admin_key

    def keys(self, *args):
        return run_baton("keys", *args)

    def create_key(self, role, rep=None, name=None, create=False):
        args = ["create", "--db", self.db, "--role", role] + (["--create"] if create else [])
        if rep is not None:
            args += ["--rep", rep]
        if name is not None:
            args += ["--name", name]
        r = self.keys(*args)
        assert r.returncode == 0, "keys create failed: %s" % r.stderr
        key = r.stdout.strip()
        assert key, "keys create printed no key"
        return key

    def key_list(self):
        """`keys list` parsed into dicts: id, name, role, rep, prefix, status."""
        r = self.keys("list", "--db", self.db)
        assert r.returncode == 0, r.stderr
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        assert lines and lines[0].split()[0] == "ID", r.stdout
        header = lines[0]
        cols = ["ID", "NAME", "ROLE", "REP", "PREFIX", "CREATED", "STATUS"]
        starts = [header.index(c) for c in cols]
        out = []
        for line in lines[1:]:
            fields = []
            for i, s in enumerate(starts):
                e = starts[i + 1] if i + 1 < len(starts) else len(line)
                fields.append(line[s:e].strip())
            out.append(dict(zip([c.lower() for c in cols], fields)))
        return out

    def key_id(self, key):
        """The id of a key, found by its prefix in `keys list`."""
        for row in self.key_list():
            if row["prefix"] and key.startswith(row["prefix"]):
                return int(row["id"])
        raise AssertionError("key not in keys list")

    # ---- HTTP ----

    def connect(self, timeout=HTTP_TIMEOUT):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, key=_ADMIN, content_type=_AUTO,
                form=None, contract=True):
        """Sends one request on a new connection.

        body: dict/list (sent as JSON), str or bytes (sent as is), or None.
        form: a dict or list of pairs, sent url-encoded as a form.
        key: the API key (default: the admin key); None sends no Authorization.
        content_type: overrides the Content-Type; None sends none.
        contract: check the reply against docs/openapi.yaml (contract.py);
        False only for replies the description documents as exceptions.
        Returns (status, headers with lower-case names, parsed JSON or raw bytes).
        """
        hdrs = {}
        data = None
        ct = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            ct = "application/x-www-form-urlencoded"
        elif isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            ct = "application/json"
        elif isinstance(body, str):
            data = body.encode()
            ct = "application/json"
        elif isinstance(body, bytes):
            data = body
            ct = "application/json"
        if content_type is not _AUTO:
            ct = content_type
        if ct is not None:
            hdrs["Content-Type"] = ct
        if key is _ADMIN:
            key = self.admin_key
        if key is not None:
            hdrs["Authorization"] = "Bearer " + key
        if headers:
            hdrs.update(headers)
        conn = self.connect()
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
            rh = {k.lower(): v for k, v in resp.getheaders()}
            parsed = parse_body(rh, raw)
            if contract:
                check_contract(method, path, resp.status, rh, parsed)
            return resp.status, rh, parsed
        finally:
            conn.close()

    def post_lead(self, lead, **kw):
        return self.request("POST", "/v1/leads", body=lead, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def list_leads(self, query="", key=_ADMIN):
        """All leads matching the query string, walking every page."""
        leads = []
        cursor = None
        for _ in range(10000):
            q = query
            if cursor is not None:
                q = (q + "&" if q else "") + "cursor=" + urllib.parse.quote(cursor)
            st, _, body = self.get("/v1/leads" + ("?" + q if q else ""), key=key)
            assert st == 200, (st, body)
            leads.extend(body["data"])
            cursor = body["next_cursor"]
            if cursor is None:
                return leads
        raise AssertionError("pagination did not end")

    def lead_count(self):
        return len(self.list_leads("limit=500"))

    def events(self, lead_id):
        st, _, body = self.get("/v1/leads/%d/events?limit=500" % lead_id)
        assert st == 200, (st, body)
        return body["data"]


def parse_body(headers, raw):
    if headers.get("content-type", "").split(";")[0].strip() == "application/json":
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            return raw
    return raw


def raw_http(port, data, timeout=HTTP_TIMEOUT, chunks=None):
    """Sends raw bytes on a new socket (optionally in several writes) and
    returns (status, headers, body bytes) of the reply. Send errors after the
    server already answered (it may close early) are ignored."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            for part in (chunks if chunks is not None else [data]):
                s.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        buf = b""
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            buf += b
            if b"\r\n\r\n" in buf:
                head, _, rest = buf.partition(b"\r\n\r\n")
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m and len(rest) >= int(m.group(1)):
                    break
    finally:
        s.close()
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines and lines[0].startswith("HTTP/1."), "no HTTP reply: %r" % buf[:200]
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, parse_body(hdrs, rest)


@pytest.fixture
def baton_factory():
    """Returns start(config=..., workdir=None) -> a started Baton; every
    server is killed and its directory removed at teardown."""
    made = []

    def start(config=DEFAULT_CONFIG, workdir=None, started=True):
        b = Baton(config=config, workdir=workdir)
        made.append(b)
        if started:
            b.start()
        return b

    yield start
    failures = []
    for b in made:
        try:
            b.finish()
        except BaseException as e:  # noqa: BLE001 - reported after all are cleaned
            failures.append(e)
    if failures:
        raise failures[0]


@pytest.fixture
def baton(baton_factory):
    """A fresh server with the minimal config."""
    return baton_factory()


def assert_error(status, body, want_status, code, field=_AUTO):
    """The error shape: {"error": {"code", "message", "field"}}."""
    assert status == want_status, (status, body)
    assert isinstance(body, dict) and set(body) == {"error"}, body
    err = body["error"]
    assert err["code"] == code, body
    assert isinstance(err["message"], str) and err["message"], body
    assert "field" in err, body
    if field is not _AUTO:
        assert err["field"] == field, body

"""Test-side servers that receive what Baton's delivery module sends.

Imported by tests (not a test file itself):

- WebhookReceiver: a threaded HTTP/1.1 server on 127.0.0.1 (ephemeral port)
  that records every request and answers per path as told (fail the first n,
  always a status, Retry-After, redirect, hang). With secrets configured it
  checks each request's Standard Webhooks signature.
- sign / verify / check_signature / sign_headers: Standard Webhooks
  (https://www.standardwebhooks.com/) written independently here with
  hmac + hashlib + base64.
- SmtpReceiver: Debian's python3-aiosmtpd on 127.0.0.1 (ephemeral port) that
  records every message (envelope, raw bytes, parsed EmailMessage), with
  optional AUTH LOGIN/PLAIN and scripted 451/550 answers. STARTTLS is not
  offered and not tested here.
- parts(msg), links(text), ics_unfold(text): helpers for asserting on mail.

Everything binds 127.0.0.1 only, every wait has a timeout, and close()
returns within a few seconds even while a handler is hanging; use the
servers as context managers so that nothing outlives the test.
"""

import base64
import binascii
import email.parser
import email.policy
import hashlib
import hmac
import html
import http.server
import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Mapping

__all__ = [
    "CIDict", "Request", "WebhookReceiver", "sign", "sign_headers", "verify",
    "check_signature", "SmtpReceiver", "Mail", "AuthAttempt", "parts", "links",
    "ics_unfold",
]

DEFAULT_WAIT = 5.0
# How long close() waits for handler threads after it has woken them.
CLOSE_JOIN_TIMEOUT = 3.0
# Socket timeout for one connection of the webhook receiver (idle keep-alive,
# slow bodies): a client that stops talking is dropped after this long.
CONNECTION_TIMEOUT = 10.0


# ---------------------------------------------------------------- headers

class CIDict(Mapping):
    """A read-only case-insensitive mapping of header names to values.

    Repeated headers are joined with ", " (RFC 9110 5.3); the original
    (name, value) pairs, in order, are in .items_raw."""

    def __init__(self, pairs=()):
        if isinstance(pairs, Mapping):
            pairs = list(pairs.items())
        self.items_raw = [(str(k), str(v)) for k, v in pairs]
        self._d = {}
        for k, v in self.items_raw:
            lk = k.lower()
            if lk in self._d:
                name, old = self._d[lk]
                self._d[lk] = (name, old + ", " + v)
            else:
                self._d[lk] = (k, v)

    def __getitem__(self, key):
        return self._d[key.lower()][1]

    def __contains__(self, key):
        return isinstance(key, str) and key.lower() in self._d

    def __iter__(self):
        return (name for name, _ in self._d.values())

    def __len__(self):
        return len(self._d)

    def get_all(self, key):
        """Every value of a header, in order (not joined)."""
        lk = key.lower()
        return [v for k, v in self.items_raw if k.lower() == lk]

    def __repr__(self):
        return "CIDict(%r)" % (dict((n, v) for n, v in self._d.values()),)


def _lower_headers(headers):
    if headers is None:
        return {}
    if isinstance(headers, CIDict):
        return {k.lower(): headers[k] for k in headers}
    items = headers.items() if hasattr(headers, "items") else headers
    return {str(k).lower(): str(v) for k, v in items}


# ------------------------------------------------------- Standard Webhooks

def _secret_key(secret):
    """The HMAC key of a secret: bytes are the key itself; a str is
    base64, with or without the "whsec_" prefix."""
    if isinstance(secret, (bytes, bytearray)):
        return bytes(secret)
    s = secret.strip()
    if s.startswith("whsec_"):
        s = s[len("whsec_"):]
    return base64.b64decode(s, validate=True)


def _as_bytes(body):
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body)


def sign(secret, msg_id, timestamp, body):
    """The Standard Webhooks signature entry "v1,<base64 HMAC-SHA256>" of
    id + "." + timestamp + "." + body under the secret."""
    content = ("%s.%s." % (msg_id, timestamp)).encode("utf-8") + _as_bytes(body)
    mac = hmac.new(_secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def sign_headers(secret, msg_id, timestamp, body):
    """The three headers a Standard Webhooks sender adds (for self-tests and
    for replaying a delivery by hand)."""
    return {
        "webhook-id": str(msg_id),
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def check_signature(secrets, headers, body, now=None, tolerance=300):
    """Like verify() but returns (ok, reason); reason says why it failed
    ("ok" when it did not)."""
    if isinstance(secrets, (str, bytes, bytearray)):
        secrets = [secrets]
    h = _lower_headers(headers)
    msg_id = h.get("webhook-id")
    ts = h.get("webhook-timestamp")
    sig = h.get("webhook-signature")
    if not msg_id:
        return False, "no webhook-id header"
    if not ts:
        return False, "no webhook-timestamp header"
    if not sig:
        return False, "no webhook-signature header"
    ts = ts.strip()
    if not re.fullmatch(r"[0-9]{1,19}", ts):
        return False, "webhook-timestamp %r is not an integer" % ts
    if tolerance is not None:
        if now is None:
            now = time.time()
        if int(ts) < now - tolerance:
            return False, "webhook-timestamp %s is more than %s s before now (%s)" % (ts, tolerance, now)
        if int(ts) > now + tolerance:
            return False, "webhook-timestamp %s is more than %s s after now (%s)" % (ts, tolerance, now)
    given = []
    for entry in sig.split():
        version, sep, value = entry.partition(",")
        if sep and version == "v1":
            try:
                given.append(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                continue
    if not given:
        return False, "no v1 signature in %r" % sig
    content = ("%s.%s." % (msg_id, ts)).encode("utf-8") + _as_bytes(body)
    for secret in secrets:
        expected = hmac.new(_secret_key(secret), content, hashlib.sha256).digest()
        for g in given:
            if hmac.compare_digest(expected, g):
                return True, "ok"
    return False, "no signature matches any of %d secret(s)" % len(secrets)


def verify(secrets, headers, body, now=None, tolerance=300):
    """True if the headers (webhook-id, webhook-timestamp,
    webhook-signature; any mapping, names in any case) carry a valid
    Standard Webhooks signature of body under one of secrets (one secret or
    a list: rotation). Any one of the space-separated "v1,..." entries may
    match. The timestamp must be within tolerance seconds of now (default
    time.time(); pass Baton's manual clock when it runs one);
    tolerance=None skips the time check."""
    return check_signature(secrets, headers, body, now=now, tolerance=tolerance)[0]


# ------------------------------------------------------------ HTTP requests

class Request:
    """One request the WebhookReceiver received.

    method, target (the request-target as sent), path (without the query),
    query (the raw query string), headers (CIDict), body (bytes), time
    (time.monotonic() at arrival, after the body was read), client
    ((host, port)), signature_ok (None when the receiver has no secret,
    else bool) and signature_reason, status (the status answered, set just
    before the answer is written; None while a hanging handler sleeps, or
    when close() dropped it)."""

    def __init__(self, method, target, headers, body, arrived, client):
        self.method = method
        self.target = target
        parts_ = urllib.parse.urlsplit(target)
        self.path = parts_.path
        self.query = parts_.query
        self.headers = headers
        self.body = body
        self.time = arrived
        self.client = client
        self.signature_ok = None
        self.signature_reason = None
        self.status = None

    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def form(self):
        """The body parsed as application/x-www-form-urlencoded into a dict
        (the last value wins if a name repeats; form_list() keeps all)."""
        return dict(self.form_list())

    def form_list(self):
        return urllib.parse.parse_qsl(self.body.decode("utf-8"), keep_blank_values=True,
                                      strict_parsing=False)

    def query_params(self):
        return dict(urllib.parse.parse_qsl(self.query, keep_blank_values=True))

    def basic_auth(self):
        """(user, password) from an Authorization: Basic header, or None."""
        value = self.headers.get("authorization")
        if not value:
            return None
        scheme, _, cred = value.strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(cred.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        user, sep, password = decoded.partition(":")
        if not sep:
            return None
        return user, password

    def __repr__(self):
        body = self.body if len(self.body) <= 200 else self.body[:200] + b"..."
        return "<Request %s %s status=%s sig=%s body=%r>" % (
            self.method, self.target, self.status, self.signature_ok, body)


class _Answer:
    __slots__ = ("status", "body", "headers", "delay")

    def __init__(self, status=200, body=b"", headers=None, delay=0.0):
        self.status = int(status)
        ctype = None
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
            ctype = "application/json"
        elif isinstance(body, str):
            body = body.encode("utf-8")
            ctype = "text/plain; charset=utf-8"
        elif body is None:
            body = b""
        self.body = bytes(body)
        hdrs = list((headers or {}).items())
        if ctype and self.body and not any(k.lower() == "content-type" for k, _ in hdrs):
            hdrs.append(("Content-Type", ctype))
        self.headers = hdrs
        self.delay = float(delay)


class _Route:
    def __init__(self):
        self.steady = None  # _Answer or None: use the default route's
        self.script = []  # [[remaining, _Answer]], used first, in order


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "baton-test-receiver/1"
    sys_version = ""
    timeout = CONNECTION_TIMEOUT

    def log_message(self, format, *args):  # noqa: A002 - the base's name
        pass

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(65537)
                        if not t or t in (b"\r\n", b"\n"):
                            break
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline(3)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _serve(self):
        srv = self.server
        body = self._read_body()
        req = Request(self.command, self.path, CIDict(self.headers.items()), body,
                      time.monotonic(), self.client_address)
        if srv.secrets:
            now = srv.now() if callable(srv.now) else srv.now
            req.signature_ok, req.signature_reason = check_signature(
                srv.secrets, req.headers, body, now=now, tolerance=srv.tolerance)
        answer = srv._arrive(req)
        if answer.delay > 0 and srv._stopping.wait(answer.delay):
            # Closing: drop the connection without an answer.
            self.close_connection = True
            return
        with srv._cond:
            req.status = answer.status
            srv._cond.notify_all()
        self.send_response(answer.status)
        for k, v in answer.headers:
            self.send_header(k, v)
        if answer.status >= 200 and answer.status not in (204, 304):
            self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD" and answer.status >= 200 and answer.status not in (204, 304):
            self.wfile.write(answer.body)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class WebhookReceiver(http.server.ThreadingHTTPServer):
    """Records every request; answers per path as told (thread-safe, may be
    changed while requests arrive).

        with WebhookReceiver(secrets="whsec_...") as rx:
            rx.fail_first("/hook", 2, status=503)
            ... point Baton at rx.url + "/hook" ...
            reqs = rx.wait_for(3, timeout=10, path="/hook")

    Answers: each path has a steady answer (default 200, empty body) and a
    script of one-shot answers used first, in the order they were added
    (fail_first, and retry_after/redirect/hang with n given). Methods that
    set the steady answer (respond, always, redirect/hang with n=None,
    retry_after with n=None) keep the script. path=None configures the
    default for paths that have no steady answer of their own.
    reset(path) forgets a path's configuration.

    secrets: one or a list of "whsec_..." secrets; each request then gets
    signature_ok/signature_reason. now: a number or a callable giving the
    current Unix time for the tolerance check (default time.time);
    tolerance: seconds, or None to skip the time check.
    """

    daemon_threads = True
    # the default backlog of 5 drops connections under bursts; a dropped SYN
    # comes back a second later and would show up as a slow sender
    request_queue_size = 128
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, secrets=None, now=None, tolerance=300):
        super().__init__(("127.0.0.1", 0), _Handler)
        if isinstance(secrets, (str, bytes)):
            secrets = [secrets]
        self.secrets = list(secrets or [])
        self.now = now if now is not None else time.time
        self.tolerance = tolerance
        self._cond = threading.Condition()
        self._routes = {None: _Route()}
        self._routes[None].steady = _Answer(200)
        self._reqs = []
        self._stopping = threading.Event()
        self._conns = {}  # socket -> thread
        self._serve_thread = None
        self._closed = False
        self.port = self.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port

    # ---- lifecycle ----

    def start(self):
        if self._serve_thread is None:
            self._serve_thread = threading.Thread(
                target=self.serve_forever, kwargs={"poll_interval": 0.05},
                name="webhook-receiver:%d" % self.port, daemon=True)
            self._serve_thread.start()
        return self

    def close(self):
        """Stops accepting, wakes hanging handlers (their connections are
        dropped unanswered), shuts every open connection and waits (bounded)
        for the handler threads."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        if self._serve_thread is not None:
            self.shutdown()
            self._serve_thread.join(CLOSE_JOIN_TIMEOUT)
        self.server_close()
        with self._cond:
            conns = list(self._conns.items())
        for sock, _ in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + CLOSE_JOIN_TIMEOUT
        for _, t in conns:
            t.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    def alive_threads(self):
        """Handler threads still running (for tests of close())."""
        with self._cond:
            return [t for t in self._conns.values() if t.is_alive()]

    # socketserver hooks: own thread handling so that close() never joins
    # a hanging handler without a bound.
    def process_request(self, request, client_address):
        t = threading.Thread(target=self.process_request_thread,
                             args=(request, client_address), daemon=True)
        with self._cond:
            self._conns[request] = t
        t.start()

    def shutdown_request(self, request):
        with self._cond:
            self._conns.pop(request, None)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        pass  # clients that hang up, or close() shutting sockets

    # ---- behaviour ----

    def url_for(self, path):
        return self.url + path

    def _route(self, path):
        r = self._routes.get(path)
        if r is None:
            r = self._routes[path] = _Route()
        return r

    def _set_steady(self, path, answer):
        with self._cond:
            self._route(path).steady = answer

    def _add_script(self, path, n, answer):
        if n <= 0:
            return
        with self._cond:
            self._route(path).script.append([int(n), answer])

    def respond(self, path, status=200, body=b"", headers=None):
        """The steady answer of path: status with optional body (bytes, str,
        or dict/list sent as JSON) and headers."""
        self._set_steady(path, _Answer(status, body, headers))

    def always(self, path, status, body=b"", headers=None):
        """Same as respond (reads better for 410, 400, ...)."""
        self.respond(path, status, body, headers)

    def fail_first(self, path, n, status=500, body=b"", headers=None):
        """The next n requests on path get status; then the steady answer."""
        self._add_script(path, n, _Answer(status, body, headers))

    def retry_after(self, path, seconds, status=429, n=1, body=b"", headers=None):
        """The next n requests (n=None: every request) get status with
        Retry-After: seconds (an int, or a str such as an HTTP date)."""
        h = {"Retry-After": str(seconds)}
        h.update(headers or {})
        a = _Answer(status, body, h)
        if n is None:
            self._set_steady(path, a)
        else:
            self._add_script(path, n, a)

    def redirect(self, path, to, status=302, n=None):
        """Answers status (302) with Location: to (as given; pass an
        absolute URL, e.g. rx.url_for("/other"), for a full one). n=None:
        every request; else the next n."""
        a = _Answer(status, b"", {"Location": to})
        if n is None:
            self._set_steady(path, a)
        else:
            self._add_script(path, n, a)

    def hang(self, path, seconds, status=200, n=None, body=b"", headers=None):
        """Sleeps seconds before answering (other requests go on; close()
        cuts the sleep short and drops the connection). n=None: every
        request; else the next n."""
        a = _Answer(status, body, headers, delay=seconds)
        if n is None:
            self._set_steady(path, a)
        else:
            self._add_script(path, n, a)

    def reset(self, path=None):
        """Forgets the configuration of path (None: of every path)."""
        with self._cond:
            if path is None:
                self._routes = {None: _Route()}
                self._routes[None].steady = _Answer(200)
            else:
                self._routes.pop(path, None)

    def _arrive(self, req):
        with self._cond:
            route = self._routes.get(req.path)
            answer = None
            if route is not None:
                while route.script and route.script[0][0] <= 0:
                    route.script.pop(0)
                if route.script:
                    route.script[0][0] -= 1
                    answer = route.script[0][1]
                elif route.steady is not None:
                    answer = route.steady
            if answer is None:
                answer = self._routes[None].steady
            self._reqs.append(req)
            self._cond.notify_all()
            return answer

    # ---- records ----

    def requests(self, path=None):
        """The requests received so far (on path, or all), in arrival order."""
        with self._cond:
            return [r for r in self._reqs if path is None or r.path == path]

    def clear(self):
        """Forgets the recorded requests (not the behaviour)."""
        with self._cond:
            self._reqs = []

    def wait_for(self, n=1, timeout=DEFAULT_WAIT, path=None):
        """The requests on path (None: any) once at least n have arrived
        (a request counts on arrival, before it is answered); raises
        AssertionError listing what did arrive after timeout seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [r for r in self._reqs if path is None or r.path == path]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        "expected %d request(s) on %s within %.1f s, got %d: %r (all paths: %r)"
                        % (n, path or "any path", timeout, len(got), got,
                           [(r.method, r.target, r.status) for r in self._reqs]))
                self._cond.wait(left)


# ------------------------------------------------------------------- SMTP

class AuthAttempt:
    """One AUTH command: mechanism, user (str), ok (bool)."""

    def __init__(self, mechanism, user, ok):
        self.mechanism = mechanism
        self.user = user
        self.ok = ok

    def __repr__(self):
        return "<AuthAttempt %s %r ok=%s>" % (self.mechanism, self.user, self.ok)


class Mail:
    """One message the SmtpReceiver received (accepted or not).

    mail_from, rcpt_tos (list), mail_options (e.g. ["SMTPUTF8",
    "BODY=8BITMIME"]), raw (bytes as received, dot-unstuffed), msg (an
    email.message.EmailMessage parsed with policy.default), authenticated
    (bool), auth_user (str or None), peer, time (monotonic), reply (the
    SMTP reply line it got), accepted (bool)."""

    def __init__(self, envelope, session, reply):
        self.mail_from = envelope.mail_from
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.mail_options = list(envelope.mail_options or [])
        self.raw = bytes(envelope.original_content or b"")
        self.msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(self.raw)
        self.authenticated = bool(session.authenticated)
        login = getattr(session.auth_data, "login", None)
        self.auth_user = login.decode("utf-8", "replace") if isinstance(login, bytes) else login
        self.peer = session.peer
        self.time = time.monotonic()
        self.reply = reply
        self.accepted = reply.startswith("250")

    def __repr__(self):
        return "<Mail from=%r to=%r subject=%r reply=%r auth=%s>" % (
            self.mail_from, self.rcpt_tos, self.msg.get("Subject"), self.reply, self.auth_user)


class _SmtpHandler:
    def __init__(self, owner):
        self.owner = owner

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # auth_required is enforced here rather than by aiosmtpd, whose own
        # check warns on every session when TLS is not required.
        if self.owner._auth_required and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return self.owner._arrive(envelope, session)


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1 (a free port picked first: aiosmtpd 1.4's
    Controller needs one). Records every message.

        with SmtpReceiver(auth=("baton", "s3cret")) as smtp:
            ... point Baton at smtp.host, smtp.port ...
            [mail] = smtp.wait_for(1, timeout=10)
            assert mail.authenticated and mail.auth_user == "baton"

    auth: (user, password) enables AUTH LOGIN and PLAIN without TLS
    (auth_require_tls=False); other credentials are rejected with 535.
    auth_required: MAIL before a successful AUTH gets 530. Without auth,
    AUTH is not advertised. STARTTLS is not offered and not tested here.
    """

    def __init__(self, auth=None, auth_required=False, hostname="baton-test-smtp"):
        self.host = "127.0.0.1"
        self.port = None
        self._auth = None
        if auth is not None:
            self._auth = (str(auth[0]), str(auth[1]))
        self._auth_required = auth_required
        self._hostname = hostname
        self._cond = threading.Condition()
        self._mails = []
        self._auths = []
        self._script = []  # [[remaining, reply]]
        self._steady = "250 OK"
        self._controller = None

    # ---- lifecycle ----

    def _authenticator(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword
        user = None
        ok = False
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            ok = self._auth is not None and hmac.compare_digest(
                (user + "\0" + password).encode(), (self._auth[0] + "\0" + self._auth[1]).encode())
        with self._cond:
            self._auths.append(AuthAttempt(mechanism, user, ok))
            self._cond.notify_all()
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    def start(self):
        from aiosmtpd.controller import Controller
        kw = {"server_hostname": self._hostname, "ready_timeout": 5.0}
        if self._auth is not None:
            kw.update(authenticator=self._authenticator, auth_require_tls=False)
        last = None
        for _ in range(5):
            port = _free_port()
            c = Controller(_SmtpHandler(self), hostname=self.host, port=port, **kw)
            try:
                c.start()
            except Exception as e:  # noqa: BLE001 - port taken in the meantime: retry
                last = e
                try:
                    c.stop(no_assert=True)
                except Exception:  # noqa: BLE001
                    pass
                continue
            self._controller = c
            self.port = port
            return self
        raise RuntimeError("SmtpReceiver could not start: %r" % (last,))

    def close(self):
        c, self._controller = self._controller, None
        if c is not None:
            c.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    # ---- behaviour ----

    def fail_first(self, n, code=451, text="4.3.0 Temporary failure, try again later"):
        """The next n messages get "code text" at the end of DATA (not
        recorded as accepted); then the steady answer."""
        if n > 0:
            with self._cond:
                self._script.append([int(n), "%d %s" % (code, text)])

    def always(self, code=550, text="5.7.1 Message rejected"):
        """Every message (after the fail_first script) gets "code text"."""
        with self._cond:
            self._steady = "%d %s" % (code, text)

    def reset(self):
        with self._cond:
            self._script = []
            self._steady = "250 OK"

    def _arrive(self, envelope, session):
        with self._cond:
            while self._script and self._script[0][0] <= 0:
                self._script.pop(0)
            if self._script:
                self._script[0][0] -= 1
                reply = self._script[0][1]
            else:
                reply = self._steady
            self._mails.append(Mail(envelope, session, reply))
            self._cond.notify_all()
            return reply

    # ---- records ----

    def messages(self, include_rejected=False):
        """The accepted messages (or every attempt that reached the end of
        DATA), in order."""
        with self._cond:
            return [m for m in self._mails if include_rejected or m.accepted]

    def attempts(self):
        return self.messages(include_rejected=True)

    def auth_attempts(self):
        with self._cond:
            return list(self._auths)

    def clear(self):
        with self._cond:
            self._mails = []
            self._auths = []

    def wait_for(self, n=1, timeout=DEFAULT_WAIT, include_rejected=False):
        """The messages once at least n have been accepted (or, with
        include_rejected, have reached the end of DATA); AssertionError
        with what did arrive after timeout seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [m for m in self._mails if include_rejected or m.accepted]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        "expected %d %smessage(s) within %.1f s, got %d; all attempts: %r; auth: %r"
                        % (n, "" if include_rejected else "accepted ", timeout, len(got),
                           self._mails, self._auths))
                self._cond.wait(left)


# ---------------------------------------------------------------- helpers

_PART_TYPES = ("text/plain", "text/html", "text/calendar")


def parts(msg):
    """{content type: decoded text} of the message's text/plain, text/html
    and text/calendar parts (attachments included; the first of each type
    wins)."""
    out = {}
    for part in msg.walk():
        if part.is_multipart():
            continue
        ct = part.get_content_type()
        if ct in _PART_TYPES and ct not in out:
            out[ct] = part.get_content()
    return out


def ics_unfold(text):
    """iCalendar content lines unfolded (RFC 5545 3.1: CRLF + space/tab)."""
    return re.sub(r"\r?\n[ \t]", "", text)


_URL_RE = re.compile(r"""https?://[^\s<>"'`]+""", re.IGNORECASE)
_TAG_RE = re.compile(r"<[A-Za-z!/]")


def links(text):
    """The http(s) URLs in text, in order (duplicates kept). Trailing
    punctuation (.,;:!? and unbalanced closing brackets) is dropped; when
    the text looks like HTML, entities such as &amp; are decoded."""
    is_html = bool(_TAG_RE.search(text))
    out = []
    for m in _URL_RE.finditer(text):
        u = m.group(0)
        while u and u[-1] in ".,;:!?)]}":
            closer = u[-1]
            opener = {")": "(", "]": "[", "}": "{"}.get(closer)
            if opener and u.count(opener) >= u.count(closer):
                break
            u = u[:-1]
        if is_html:
            u = html.unescape(u)
        out.append(u)
    return out

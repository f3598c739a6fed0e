"""The adversarial probe's catalogue of malformed requests, each sent raw
(byte for byte, on its own connection) to the real binary: each gets the
answer listed, nothing is written, and the server keeps serving.

Most answers are Baton's JSON error object. A few requests are refused by
libmicrohttpd itself before Baton sees them, with its own short reply and
the connection closed (docs/api.md, "Requests the HTTP library refuses"):
for those the catalogue checks the status and that the server goes on."""

import pytest

from conftest import Baton, assert_error, raw_http

CONFIG = "version: 1\n"
SEED = {"email": "probe-seed@example.com", "company": "Seed Co"}


@pytest.fixture(scope="module")
def srv():
    b = Baton(config=CONFIG)
    b.start()
    st, _, body = b.post_lead(SEED)
    assert st == 201, body
    b.seed = body["lead"]
    yield b
    b.finish()


def req(b, head, body=b"", key=True):
    auth = ("Authorization: Bearer %s\r\n" % b.admin_key).encode() if key else b""
    data = head.replace(b"{AUTH}", auth)
    return raw_http(b.port, data + body)


@pytest.fixture(autouse=True)
def baseline(request):
    """Each test compares with the state before it, so that one failure
    does not cascade into the others."""
    if "srv" in request.fixturenames:
        b = request.getfixturevalue("srv")
        b.base_leads = b.list_leads()
        b.base_events = b.events(b.seed["id"])


def unchanged(b):
    assert b.list_leads() == b.base_leads
    assert b.events(b.seed["id"]) == b.base_events
    st, _, body = b.request("GET", "/healthz", key=None)
    assert st == 200 and body == {"status": "ok"}


LEAD = b'{"email": "probe@example.com"}'


# (name, raw request head, body, status, JSON error code or None for a library reply, field)
CATALOGUE = [
    ("NUL escaped in the path",
     b"GET /v1/leads/1%00/x HTTP/1.1\r\nHost: x\r\n{AUTH}Connection: close\r\n\r\n",
     b"", 400, "malformed", None),
    ("NUL escaped in a query value",
     b"GET /v1/leads?email=a%00b HTTP/1.1\r\nHost: x\r\n{AUTH}Connection: close\r\n\r\n",
     b"", 400, "malformed", None),
    ("TAB in the Idempotency-Key",
     b"POST /v1/leads HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Type: application/json\r\n"
     b"Idempotency-Key: a\tb\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(LEAD),
     LEAD, 400, "invalid", "Idempotency-Key"),
    ("a query parameter twice",
     b"GET /v1/leads?limit=1&limit=2 HTTP/1.1\r\nHost: x\r\n{AUTH}Connection: close\r\n\r\n",
     b"", 400, "invalid", "limit"),
    ("a query parameter twice on a write",
     b"POST /v1/leads?key=a&key=b HTTP/1.1\r\nHost: x\r\n{AUTH}"
     b"Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
     % len(LEAD), LEAD, 400, "invalid", "key"),
    ("too many query parameters",
     b"GET /v1/leads?" + b"&".join(b"p%d=1" % i for i in range(40)) +
     b" HTTP/1.1\r\nHost: x\r\n{AUTH}Connection: close\r\n\r\n",
     b"", 400, "invalid", None),
    ("Content-Length: -1 (the library's reply)",
     b"POST /v1/leads HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Type: application/json\r\n"
     b"Content-Length: -1\r\nConnection: close\r\n\r\n", LEAD, 400, None, None),
    ("a bad chunk size (the library's reply)",
     b"POST /v1/leads HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Type: application/json\r\n"
     b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n", b"zz\r\n{}\r\n0\r\n\r\n",
     400, None, None),
    ("a 64 KiB header (the library's reply)",
     b"GET /v1/leads HTTP/1.1\r\nHost: x\r\n{AUTH}X-Big: " + b"a" * 65536 +
     b"\r\nConnection: close\r\n\r\n", b"", (400, 413, 431), None, None),
    ("a 100 KiB URL (the library's reply)",
     b"GET /v1/leads?email=" + b"a" * 102400 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     b"", (400, 413, 414), None, None),
]


@pytest.mark.parametrize("name, head, body, status, code, field", CATALOGUE,
                         ids=[c[0] for c in CATALOGUE])
def test_catalogue(srv, name, head, body, status, code, field):
    st, headers, reply = req(srv, head, body)
    want = status if isinstance(status, tuple) else (status,)
    assert st in want, (name, st, reply)
    if code is not None:
        assert headers.get("content-type") == "application/json", (name, headers)
        assert_error(st, reply, st, code, field)
    unchanged(srv)


def test_ten_thousand_headers_are_refused(srv):
    head = (b"GET /v1/leads HTTP/1.1\r\nHost: x\r\n" +
            b"".join(b"X-H%d: v\r\n" % i for i in range(10000)) + b"Connection: close\r\n\r\n")
    st, _, _ = raw_http(srv.port, head)
    assert st in (400, 413, 431)
    unchanged(srv)


def test_http_0_9_is_not_served(srv):
    import socket
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(b"GET /v1/leads\r\n")
    s.settimeout(5)
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    assert b'"data"' not in data  # never a listing
    assert data == b"" or data.startswith(b"HTTP/1.1 4"), data[:100]
    unchanged(srv)


def test_a_raw_nul_never_widens_access(srv):
    """libmicrohttpd cuts the path or a header at a raw NUL byte (documented);
    the cut text is what every check reads, so it reaches nothing the key
    could not reach anyway: a rep key is still a rep key, a bad key after
    a NUL is still refused."""
    rep_key = srv.create_key("rep", rep="nobody")
    data = (b"GET /v1/leads/%d\x00/../../v1/admin HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer %s\r\nConnection: close\r\n\r\n"
            % (srv.seed["id"], rep_key.encode()))
    st, _, body = raw_http(srv.port, data)
    assert st in (400, 404), body
    data = (b"GET /v1/leads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bt_nope\x00%s\r\n"
            b"Connection: close\r\n\r\n" % srv.admin_key.encode())
    st, _, body = raw_http(srv.port, data)
    assert_error(st, body, 401, "unauthorized")
    unchanged(srv)

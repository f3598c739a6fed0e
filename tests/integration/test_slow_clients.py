"""Slow and greedy clients against the real binary: a request must be in by
its deadline however slowly it trickles, one address cannot take every
connection, and at the limit the server answers 503 with Retry-After while
its probes keep working. Attackers connect from other loopback addresses
(127.0.0.2 and up) than the honest client (127.0.0.1)."""

import json
import socket
import time

from conftest import assert_error

CONFIG = """\
version: 1
server:
  max_connections: 8
  header_timeout: 2s
  body_timeout: 2s
  max_connections_per_address: 4
  limit_loopback: true
"""


def connect(b, source="127.0.0.2"):
    s = socket.create_connection(("127.0.0.1", b.port), timeout=10, source_address=(source, 0))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_by_server(s, timeout=8.0, trickle=None):
    """True when the server closes the connection within `timeout` seconds,
    while `trickle` (bytes, one byte every 0.3 s) keeps being sent."""
    s.settimeout(0.3)
    deadline = time.monotonic() + timeout
    sent = 0
    while time.monotonic() < deadline:
        try:
            data = s.recv(4096)
            if data == b"":
                return True
            if b"HTTP/1.1 " in data:
                return True  # answered (and closed): not held open
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError):
            return True
        if trickle is not None and sent < len(trickle):
            try:
                s.send(trickle[sent:sent + 1])
                sent += 1
            except (BrokenPipeError, ConnectionResetError):
                return True
    return False


def read_reply(s, timeout=10):
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    want = int(headers.get("content-length", "0"))
    while len(body) < want:
        chunk = s.recv(4096)
        if not chunk:
            break
        body += chunk
    return status, headers, json.loads(body) if body else None


def test_trickled_headers_are_cut_at_the_deadline(baton_factory):
    b = baton_factory(config=CONFIG)
    slow = [connect(b) for _ in range(4)]
    for s in slow:
        s.sendall(b"POST /v1/leads HTTP/1.1\r\nHost: x\r\n")
    trickle = b"X-Slow: " + b"a" * 200
    start = time.monotonic()
    # the honest client is served meanwhile
    st, _, body = b.post_lead({"email": "honest@example.com"})
    assert st == 201, body
    assert all(closed_by_server(s, trickle=trickle) for s in slow)
    assert time.monotonic() - start < 8
    for s in slow:
        s.close()
    st, _, _ = b.request("GET", "/healthz", key=None)
    assert st == 200
    assert b.running()


def test_a_trickled_body_is_cut_at_its_deadline(baton_factory):
    b = baton_factory(config=CONFIG)
    s = connect(b)
    s.sendall(("POST /v1/leads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"
               % b.admin_key).encode())
    assert closed_by_server(s, trickle=b'"email": "slow@example.com"' + b" " * 150)
    s.close()
    assert b.lead_count() == 0
    assert b.running()


def test_one_address_cannot_take_every_connection(baton_factory):
    b = baton_factory(config=CONFIG)
    held = [connect(b, "127.0.0.3") for _ in range(4)]
    for s in held:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    time.sleep(0.3)
    extra = connect(b, "127.0.0.3")
    extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    st, headers, body = read_reply(extra)
    assert_error(st, body, 503, "unavailable")
    assert headers.get("retry-after") == "1" and "address" in body["error"]["message"]
    extra.close()
    # another address is served
    other = connect(b, "127.0.0.4")
    other.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    st, _, body = read_reply(other)
    assert st == 200 and body == {"status": "ok"}
    other.close()
    for s in held:
        s.close()


def test_at_the_limit_requests_get_503_and_probes_still_answer(baton_factory):
    b = baton_factory(config=CONFIG)
    # eight connections (the limit) from four addresses, two each
    held = [connect(b, "127.0.1.%d" % (i // 2 + 1)) for i in range(8)]
    for s in held:
        s.sendall(b"GET /v1/leads HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.3)
    st, headers, body = b.post_lead({"email": "late@example.com"})
    assert_error(st, body, 503, "unavailable")
    assert headers.get("retry-after") == "1"
    st, _, body = b.request("GET", "/healthz", key=None)
    assert st == 200 and body == {"status": "ok"}
    st, _, body = b.request("GET", "/readyz", key=None)
    assert st == 200, body
    # the held connections miss their deadline; then everyone is served again
    assert all(closed_by_server(s) for s in held)
    for s in held:
        s.close()
    deadline = time.monotonic() + 5
    while True:
        st, _, body = b.post_lead({"email": "late@example.com"})
        if st == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert st == 201, body
    assert b.lead_count() == 1


def test_timeouts_are_validated(baton_factory):
    from conftest import run_baton
    import os
    import tempfile
    d = tempfile.mkdtemp(prefix="baton-slow-")
    for bad, word in (("header_timeout: 0s", "header_timeout"),
                      ("body_timeout: forever", "body_timeout"),
                      ("max_connections_per_address: -1", "max_connections_per_address"),
                      ("limit_loopback: maybe", "limit_loopback")):
        path = os.path.join(d, "bad.yaml")
        with open(path, "w") as f:
            f.write("version: 1\nserver:\n  %s\n" % bad)
        r = run_baton("check", path)
        assert r.returncode != 0 and word in r.stderr and "bad.yaml:3:" in r.stderr, r.stderr

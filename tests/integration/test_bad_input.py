"""Bad requests: each gets the right status and error, and writes nothing.

One server for the module (max_body_bytes: 2048) holding one seeded lead.
Bad bodies carry the seeded lead's email plus a change, so that a request
that wrongly wrote something would show up as a merge, not only as a new lead.
"""

import json

import pytest

from conftest import Baton, assert_error, raw_http

CONFIG = (
    "version: 1\n"
    "server:\n"
    "  max_body_bytes: 2048\n"
    "  form_redirect_hosts: [www.example.com]\n"
)
SEED = {"email": "seed@example.com", "company": "Seed Co", "title": "Boss"}


@pytest.fixture(scope="module")
def srv():
    b = Baton(config=CONFIG)
    b.start()
    st, _, body = b.post_lead(SEED)
    assert st == 201, body
    b.seed = body["lead"]
    yield b
    b.finish()


@pytest.fixture(autouse=True)
def baseline(request):
    """Each test compares against the state before it ran, so that one
    failure does not cascade into the tests after it."""
    if "srv" in request.fixturenames:
        b = request.getfixturevalue("srv")
        b.base_leads = b.list_leads()
        b.base_events = b.events(b.seed["id"])


def nothing_written(b):
    leads = b.list_leads()
    assert leads == b.base_leads
    assert b.seed in leads
    assert b.events(b.seed["id"]) == b.base_events
    st, _, body = b.request("GET", "/healthz", key=None)
    assert st == 200 and body == {"status": "ok"}


def post(b, body, **kw):
    return b.request("POST", "/v1/leads", body=body, **kw)


# ---- body syntax ----

@pytest.mark.parametrize("raw", [
    b'{"email": "seed@example.com", "title": "X"',
    b'{"email": "seed@example.com", "title": "X"} trailing',
    b"not json at all",
    b"",
    b"{'email': 'seed@example.com'}",
    b'{"email": "seed@example.com", "title": "X",}',
])
def test_malformed_json(srv, raw):
    st, _, body = post(srv, raw)
    assert_error(st, body, 400, "malformed")
    nothing_written(srv)


def test_json_array_body(srv):
    st, _, body = post(srv, [{"email": "seed@example.com", "title": "X"}])
    assert_error(st, body, 422, "invalid")
    nothing_written(srv)


@pytest.mark.parametrize("value", ["scalar", 5, None])
def test_json_non_object_body(srv, value):
    st, _, body = post(srv, json.dumps(value))
    assert_error(st, body, 422, "invalid")
    nothing_written(srv)


def test_invalid_utf8_json(srv):
    st, _, body = post(srv, b'{"email":"a\xff@x.com"}')
    assert_error(st, body, 400, "malformed")
    nothing_written(srv)
    st, _, body = post(srv, b'{"email":"seed@example.com","title":"Bo\xc3\x28ss"}')
    assert_error(st, body, 400, "malformed")
    nothing_written(srv)
    for bad in (b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"):
        st, _, body = post(srv, b'{"email":"seed@example.com","title":"' + bad + b'"}')
        assert_error(st, body, 400, "malformed")
        nothing_written(srv)


def test_invalid_utf8_form(srv):
    st, _, body = srv.request("POST", "/v1/leads", body=b"email=seed%40example.com&title=%FF",
                              content_type="application/x-www-form-urlencoded")
    assert_error(st, body, 400, "malformed")
    nothing_written(srv)
    st, _, body = srv.request("POST", "/v1/leads", body=b"email=a%FF%40x.com",
                              content_type="application/x-www-form-urlencoded")
    assert_error(st, body, 400, "malformed")
    nothing_written(srv)
    st, _, body = srv.request("POST", "/v1/leads", body=b"email=seed%40example.com&title=\xff",
                              content_type="application/x-www-form-urlencoded")
    assert_error(st, body, 400, "malformed")
    nothing_written(srv)


# ---- field validation ----

@pytest.mark.parametrize("lead, field", [
    ({"email": 5}, "email"),
    ({"email": "seed@example.com", "title": 5}, "title"),
    ({"email": "seed@example.com", "title": ["CTO"]}, "title"),
    ({"email": "seed@example.com", "company": {"name": "x"}}, "company"),
    ({"email": "seed@example.com", "employees": True}, "employees"),
    ({"email": "seed@example.com", "emial": "x"}, "emial"),
    ({"email": "seed@example.com", "title": "X", "Company": "x"}, "Company"),
    ({"company": "No Contact GmbH"}, "email"),
    ({"email": None, "phone": None, "company": "Nulls"}, "email"),
    ({"email": "   ", "company": "Blank"}, "email"),
    ({}, "email"),
    ({"email": "jane@"}, "email"),
    ({"email": "jane"}, "email"),
    ({"email": "@example.com"}, "email"),
    ({"email": "seed@example.com", "phone": "12"}, "phone"),
    ({"email": "seed@example.com", "phone": "call me maybe"}, "phone"),
    ({"email": "seed@example.com", "phone": "1" * 25}, "phone"),
    ({"email": "seed@example.com", "company": "C" * 257}, "company"),
    ({"email": "seed@example.com", "fields": {"a": {"nested": 1}}}, "fields"),
    ({"email": "seed@example.com", "fields": {"a": [1, 2]}}, "fields"),
    ({"email": "seed@example.com", "fields": "budget=10k"}, "fields"),
    ({"email": "seed@example.com", "fields": {"k%d" % i: i for i in range(65)}}, "fields"),
    ({"email": "seed@example.com", "fields": {"": "x"}}, "fields"),
    ({"email": "seed@example.com", "external_id": 123}, "external_id"),
    ({"email": "x" * 250 + "@example.com"}, "email"),
    ({"email": "seed@example.com", "website": "http://not a host/"}, "website"),
    ({"email": "seed@example.com", "_redirect": "https://www.example.com/"}, "_redirect"),
])
def test_invalid_field(srv, lead, field):
    st, _, body = post(srv, lead)
    assert_error(st, body, 422, "invalid", field)
    nothing_written(srv)


def test_invalid_email_message(srv):
    st, _, body = post(srv, {"email": "jane@"})
    assert_error(st, body, 422, "invalid", "email")
    assert "email" in body["error"]["message"].lower()
    nothing_written(srv)


def test_invalid_form_field(srv):
    st, _, body = srv.request("POST", "/v1/leads", form={"email": "jane@"})
    assert_error(st, body, 422, "invalid", "email")
    nothing_written(srv)
    st, _, body = srv.request("POST", "/v1/leads", form={"company": "no contact"})
    assert_error(st, body, 422, "invalid", "email")
    nothing_written(srv)
    st, _, body = srv.request("POST", "/v1/leads", body=b"",
                              content_type="application/x-www-form-urlencoded")
    assert_error(st, body, 422, "invalid", "email")
    nothing_written(srv)
    st, _, body = srv.request("POST", "/v1/leads", form=[("email", "seed@example.com")] +
                              [("extra%d" % i, "v") for i in range(65)])
    assert_error(st, body, 422, "invalid", "fields")
    nothing_written(srv)


def test_nul_character(srv):
    st, _, body = post(srv, b'{"email": "seed@example.com", "title": "a\\u0000b"}')
    assert st in (400, 422), body
    assert body["error"]["code"] == ("malformed" if st == 400 else "invalid")
    nothing_written(srv)


@pytest.mark.parametrize("value", ["", "x" * 1000, "bad\x01key"])
def test_bad_idempotency_key(srv, value):
    st, _, body = post(srv, {"email": "seed@example.com", "title": "X"},
                       headers={"Idempotency-Key": value})
    assert st in (400, 422), body
    assert body["error"]["field"] == "Idempotency-Key"
    nothing_written(srv)


def test_custom_fields_over_16k(baton):
    lead = {"email": "f16@example.com", "fields": {"k%d" % i: "v" * 300 for i in range(60)}}
    st, _, body = baton.post_lead(lead)
    assert_error(st, body, 422, "invalid", "fields")
    assert baton.lead_count() == 0


# ---- size limits ----

def test_body_over_limit(srv):
    big = json.dumps({"email": "seed@example.com", "title": "X",
                      "fields": {"pad": "p" * 4000}}).encode()
    assert len(big) > 4000
    st, _, body = post(srv, big)
    assert_error(st, body, 413, "too_large")
    nothing_written(srv)


def test_form_over_limit(srv):
    st, _, body = srv.request("POST", "/v1/leads",
                              form={"email": "seed@example.com", "pad": "p" * 4096})
    assert_error(st, body, 413, "too_large")
    nothing_written(srv)


def test_chunked_body_over_limit(srv):
    # a valid lead of ~3.5 KB sent chunked, with no Content-Length
    lead = {"email": "chunked@example.com",
            "fields": {"f%02d" % i: "v" * 100 for i in range(30)}}
    payload = json.dumps(lead).encode()
    assert 3000 < len(payload) < 16384
    head = ("POST /v1/leads HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\n"
            "Authorization: Bearer %s\r\n"
            "Content-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n" % srv.admin_key).encode()
    chunks = [head]
    for i in range(0, len(payload), 512):
        part = payload[i:i + 512]
        chunks.append(b"%x\r\n%s\r\n" % (len(part), part))
    chunks.append(b"0\r\n\r\n")
    st, _, body = raw_http(srv.port, None, chunks=chunks)
    assert_error(st, body, 413, "too_large")
    nothing_written(srv)


def test_chunked_body_under_limit_is_accepted(baton_factory):
    # the control for the test above: the same framing under the limit works
    b = baton_factory(CONFIG)
    payload = json.dumps({"email": "chunked-ok@example.com", "company": "Chunk"}).encode()
    head = ("POST /v1/leads HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\n"
            "Authorization: Bearer %s\r\n"
            "Content-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n" % b.admin_key).encode()
    half = len(payload) // 2
    chunks = [head,
              b"%x\r\n%s\r\n" % (half, payload[:half]),
              b"%x\r\n%s\r\n" % (len(payload) - half, payload[half:]),
              b"0\r\n\r\n"]
    st, _, body = raw_http(b.port, None, chunks=chunks)
    assert st == 201, body
    assert body["lead"]["email"] == "chunked-ok@example.com"
    assert b.lead_count() == 1


def test_body_just_under_limit_is_accepted(baton_factory):
    b = baton_factory(CONFIG)
    lead = {"email": "fits@example.com", "fields": {"pad": ""}}
    base = len(json.dumps(lead).encode())
    lead["fields"]["pad"] = "p" * (2048 - base)
    assert len(json.dumps(lead).encode()) == 2048
    st, _, body = b.post_lead(lead)
    assert st == 201, body
    assert b.lead_count() == 1


# ---- routing, methods, media types ----

@pytest.mark.parametrize("method, path", [
    ("GET", "/v1/nothing"),
    ("GET", "/"),
    ("POST", "/v1/lead"),
    ("GET", "/v2/leads"),
    ("GET", "/v1/leads/1/nothing"),
])
def test_unknown_route(srv, method, path):
    body = {"email": "seed@example.com", "title": "X"} if method == "POST" else None
    st, _, resp = srv.request(method, path, body=body)
    assert_error(st, resp, 404, "not_found")
    nothing_written(srv)


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/v1/leads", {"GET", "POST"}),
    ("PUT", "/v1/leads", {"GET", "POST"}),
    ("POST", "/v1/leads/1", {"GET"}),
    ("DELETE", "/v1/leads/1", {"GET"}),
    ("POST", "/healthz", {"GET"}),
])
def test_wrong_method(srv, method, path, allowed):
    body = {"email": "seed@example.com", "title": "X"} if method in ("POST", "PUT") else None
    st, hdrs, resp = srv.request(method, path, body=body)
    assert_error(st, resp, 405, "method_not_allowed")
    allow = {m.strip() for m in hdrs.get("allow", "").split(",") if m.strip()}
    assert allowed <= allow, hdrs
    assert method not in allow
    nothing_written(srv)


@pytest.mark.parametrize("ctype", ["text/plain", "application/xml", "multipart/form-data", None])
def test_unsupported_content_type(srv, ctype):
    st, _, body = srv.request("POST", "/v1/leads",
                              body=b'{"email": "seed@example.com", "title": "X"}',
                              content_type=ctype)
    assert_error(st, body, 415, "unsupported_media_type")
    nothing_written(srv)


def test_json_content_type_with_charset(srv):
    # the control: parameters on the media type are fine (422 from validation, not 415)
    st, _, body = srv.request("POST", "/v1/leads", body=b'{"email": "jane@"}',
                              content_type="application/json; charset=utf-8")
    assert_error(st, body, 422, "invalid", "email")
    nothing_written(srv)


# ---- ids and query parameters ----

@pytest.mark.parametrize("path", [
    "/v1/leads/999999", "/v1/leads/999999/events", "/v1/leads/abc", "/v1/leads/0",
    "/v1/leads/-1", "/v1/leads/1abc", "/v1/leads/abc/events", "/v1/leads/99999999999999999999999",
])
def test_unknown_id(srv, path):
    st, _, body = srv.get(path)
    assert_error(st, body, 404, "not_found")
    nothing_written(srv)


@pytest.mark.parametrize("query, param", [
    ("limit=0", "limit"),
    ("limit=abc", "limit"),
    ("limit=501", "limit"),
    ("limit=-1", "limit"),
    ("limit=3x", "limit"),
    ("colour=blue", "colour"),
    ("limit=5&bogus=1", "bogus"),
    ("created_after=yesterday", "created_after"),
    ("created_before=2026-13-45T00:00:00Z", "created_before"),
    ("cursor=not-a-cursor", "cursor"),
])
def test_bad_list_query(srv, query, param):
    st, _, body = srv.get("/v1/leads?" + query)
    assert_error(st, body, 400, "invalid", param)
    assert param in body["error"]["message"]
    nothing_written(srv)


@pytest.mark.parametrize("query, param", [
    ("limit=0", "limit"),
    ("limit=abc", "limit"),
    ("limit=501", "limit"),
    ("after=x", "after"),
    ("after=-1", "after"),
])
def test_bad_events_query(srv, query, param):
    st, _, body = srv.get("/v1/leads/%d/events?%s" % (srv.seed["id"], query))
    assert_error(st, body, 400, "invalid", param)
    nothing_written(srv)


def test_bad_post_query(srv):
    # a JSON post with an unexpected query parameter is not silently accepted
    st, _, body = srv.request("POST", "/v1/leads?key=" + srv.admin_key,
                              body={"email": "seed@example.com", "title": "X"}, key=None)
    assert_error(st, body, 401, "unauthorized")
    nothing_written(srv)


def test_server_still_healthy(srv):
    st, _, body = srv.request("GET", "/healthz", key=None)
    assert st == 200 and body == {"status": "ok"}
    st, _, body = srv.request("GET", "/readyz", key=None)
    assert st == 200 and body["status"] == "ready"
    assert srv.running()
    # and it still takes good leads
    st, _, body = srv.post_lead({"email": "after@example.com"})
    assert st == 201, body


def test_non_utf8_in_path_header_query_and_keys_never_crash(baton_factory):
    """Error messages quote the client's input; invalid UTF-8 there must not
    make the reply unencodable (it used to abort the server)."""
    from conftest import raw_http
    b = baton_factory()
    key = b.admin_key
    cases = [
        b"GET /v1/\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: text/\xff\r\n"
        b"Content-Length: 1\r\nConnection: close\r\n\r\nx",
        b"GET /v1/leads?%FF=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key.encode()
        + b"\r\nConnection: close\r\n\r\n",
    ]
    for raw in cases:
        st, _, body = raw_http(b.port, raw)
        assert 400 <= st < 500, (st, body)
        assert "error" in body and "\ufffd" not in body["error"]["message"]
    # a field name cut in the middle of a character by the message's length limit
    name = "a" + "\u00e9" * 40
    st, _, body = b.post_lead({name: 1})
    assert st == 422 and body["error"]["code"] == "invalid"
    st, _, body = b.get("/healthz", key=None)
    assert st == 200 and body == {"status": "ok"}

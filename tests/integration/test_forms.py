"""Website intake over HTTP: CORS on the intake endpoints
(intake.allowed_origins), the defined forms of POST /v1/forms/{id} with
their per-input errors, the spam checks (honeypot, fill-time token) that
answer as if accepted and count instead of storing, the disposable-mail
flag, and the per-form and per-address rate limits. The same in a real
browser: test_forms_browser.py."""

import re
import time

import pytest

from conftest import run_baton

SITE = "https://www.example.com"
OTHER = "https://evil.example"

CONFIG = """version: 1
server:
  form_redirect_hosts: [www.example.com]
intake:
  allowed_origins: [%s, "http://127.0.0.1:8000"]
  disposable: {add: [junk.example]}
forms:
  - id: demo
    source: website-demo-form
    fields:
      - {name: email, label: Work email, required: true}
      - {name: company, label: Company, required: true}
      - {name: phone}
      - {name: size, to: employees}
      - {name: budget, to: fields.budget}
    hidden: {fields.campaign: q4-launch}
    success_message: Thanks, we will call you today.
    min_fill_time: 1s
    rate_limit: off
  - id: plain
    fields: [{name: email, required: true}]
    redirect: https://www.example.com/thanks
    rate_limit: off
  - id: strict
    fields: [{name: email, required: true}]
    require_token: true
    min_fill_time: 1s
    rate_limit: off
  - id: limited
    fields: [{name: email, required: true}]
    rate_limit: {per_form: 100/m, per_address: 2/m burst 2}
""" % SITE


@pytest.fixture
def srv(baton_factory):
    return baton_factory(CONFIG)


def preflight(b, path, origin=SITE, method="POST", headers="content-type"):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        h["Access-Control-Request-Headers"] = headers
    return b.request("OPTIONS", path, key=None, headers=h)


def submit(b, form_id, body=None, form=None, origin=SITE, **kw):
    headers = {"Origin": origin} if origin else {}
    return b.request("POST", "/v1/forms/" + form_id, body=body, form=form, key=None,
                     headers=headers, **kw)


def counts(b, form_id):
    st, _, body = b.get("/v1/forms")
    assert st == 200, body
    return {f["id"]: f["submissions"] for f in body["data"]}[form_id]


def script_token(b, form_id):
    st, hdrs, body = b.request("GET", "/v1/forms/%s.js" % form_id, key=None)
    assert st == 200 and hdrs["content-type"].startswith("text/javascript"), (st, hdrs)
    assert hdrs["cache-control"] == "no-store"
    m = re.search(rb'"token":"([0-9.a-f]+)"', body)
    assert m, body[-400:]
    return m.group(1).decode()


# ---- CORS ----

@pytest.mark.parametrize("path", ["/v1/leads", "/v1/activities", "/v1/forms/demo"])
def test_preflight_of_an_allowed_origin(srv, path):
    st, h, _ = preflight(srv, path, headers="content-type,authorization,idempotency-key")
    assert st == 204
    assert h["access-control-allow-origin"] == SITE
    assert h["access-control-allow-methods"] == "POST"
    assert {x.strip().lower() for x in h["access-control-allow-headers"].split(",")} == \
        {"content-type", "authorization", "idempotency-key"}
    assert int(h["access-control-max-age"]) > 0
    assert h["vary"] == "Origin"


@pytest.mark.parametrize("origin, method, headers, field", [
    (OTHER, "POST", "content-type", "Origin"),
    ("null", "POST", None, "Origin"),
    ("http://www.example.com", "POST", None, "Origin"),  # another scheme
    (SITE, "PUT", None, "Access-Control-Request-Method"),
    (SITE, "POST", "content-type, x-custom", "Access-Control-Request-Headers"),
])
def test_preflight_refused(srv, origin, method, headers, field):
    st, h, body = preflight(srv, "/v1/leads", origin, method, headers)
    assert st == 403 and body["error"]["code"] == "forbidden", body
    assert body["error"]["field"] == field
    assert "access-control-allow-methods" not in h
    if field == "Origin":
        assert "access-control-allow-origin" not in h
        assert "intake.allowed_origins" in body["error"]["message"]


def test_ingest_key_from_an_allowed_page(srv):
    key = srv.create_key("ingest")
    st, h, body = srv.post_lead({"email": "ana@acme.example"}, key=key, headers={"Origin": SITE})
    assert st == 202 and body["accepted"] is True
    assert h["access-control-allow-origin"] == SITE and h["vary"] == "Origin"
    # errors are readable by the page too
    st, h, body = srv.post_lead({"email": "nope"}, key=key, headers={"Origin": SITE})
    assert st == 422 and h["access-control-allow-origin"] == SITE
    st, h, body = srv.request("POST", "/v1/activities", key=key, headers={"Origin": SITE},
                              body={"email": "ana@acme.example", "type": "page_view"})
    assert st == 202 and h["access-control-allow-origin"] == SITE


def test_other_origins_and_private_keys_refused(srv):
    key = srv.create_key("ingest")
    st, h, body = srv.post_lead({"email": "ana@acme.example"}, key=key, headers={"Origin": OTHER})
    assert st == 403 and body["error"]["field"] == "Origin"
    assert "access-control-allow-origin" not in h and h["vary"] == "Origin"
    # an admin or rep key is refused from any page, even an allowed one
    st, h, body = srv.post_lead({"email": "ana@acme.example"}, headers={"Origin": SITE})
    assert st == 403 and "ingest key" in body["error"]["message"], body
    assert h["access-control-allow-origin"] == SITE
    assert srv.lead_count() == 0
    # without an Origin (a server, curl): as before, and no CORS headers
    st, h, body = srv.post_lead({"email": "ana@acme.example"})
    assert st == 201 and "access-control-allow-origin" not in h


def test_reads_send_no_cors_headers(srv):
    st, h, _ = srv.get("/v1/leads", headers={"Origin": SITE})
    assert st == 200
    assert not [k for k in h if k.startswith("access-control-")]
    st, h, _ = srv.request("OPTIONS", "/v1/leads/1", key=None, headers={"Origin": SITE})
    assert st == 405 and not [k for k in h if k.startswith("access-control-")]


def test_same_origin_is_not_cross_origin(baton_factory):
    b = baton_factory(CONFIG.replace("server:\n", "server:\n  public_url: http://baton.example:8080\n"))
    st, h, _ = b.post_lead({"email": "own@acme.example"}, headers={"Origin": "http://baton.example:8080"})
    assert st == 201 and "access-control-allow-origin" not in h


# ---- forms ----

def test_form_takes_a_lead(srv):
    st, h, body = submit(srv, "demo", {"email": " Jane@Acme.example ", "company": "Acme",
                                       "size": "1,200", "budget": "10k", "ignored": "x"})
    assert st == 202, body
    assert body == {"accepted": True, "message": "Thanks, we will call you today.", "warnings": []}
    assert h["access-control-allow-origin"] == SITE
    [lead] = srv.list_leads()
    assert lead["email"] == "jane@acme.example" and lead["company"] == "Acme"
    assert lead["source"] == "website-demo-form" and lead["employees"] == 1200
    assert lead["fields"] == {"budget": "10k", "campaign": "q4-launch"}
    ev = srv.events(lead["id"])[0]
    assert ev["actor"] == "form:demo", ev
    # the same person again merges (filling only what is empty)
    st, _, _ = submit(srv, "demo", form={"email": "jane@acme.example", "company": "Other",
                                         "phone": "+49 30 1234567"})
    assert st == 202
    [lead] = srv.list_leads()
    assert lead["company"] == "Acme" and lead["phone"] == "+49 30 1234567"
    assert counts(srv, "demo")["accepted"] == 2


def test_form_errors_name_each_input(srv):
    st, h, body = submit(srv, "demo", {"email": "jane@", "phone": "12", "company": "  "})
    assert st == 422, body
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) == {"email", "phone", "company"}, body
    assert fields["company"] == "Company is required"
    assert fields["email"].startswith("Work email")
    assert body["error"]["code"] == "invalid" and body["error"]["field"] == body["errors"][0]["field"]
    assert h["access-control-allow-origin"] == SITE
    assert srv.lead_count() == 0 and counts(srv, "demo")["invalid"] == 1


def test_form_origin_and_unknown_form(srv):
    st, _, body = submit(srv, "demo", {"email": "a@acme.example", "company": "A"}, origin=OTHER)
    assert st == 403 and body["error"]["field"] == "Origin"
    st, _, body = submit(srv, "nope", {"email": "a@acme.example"})
    assert st == 404 and body["error"]["code"] == "not_found"
    st, _, body = srv.request("GET", "/v1/forms/nope.js", key=None)
    assert st == 404
    assert srv.lead_count() == 0


def test_plain_post_redirects(srv):
    st, h, _ = submit(srv, "plain", form={"email": "p@acme.example"}, origin=None)
    assert st == 303 and h["location"] == "https://www.example.com/thanks"
    assert [l["email"] for l in srv.list_leads()] == ["p@acme.example"]


def test_honeypot_is_answered_as_accepted_and_counted(srv):
    st, _, body = submit(srv, "demo", {"email": "bot@acme.example", "company": "B",
                                       "website_url": "http://spam.example"})
    assert st == 202 and body["accepted"] is True
    st, h, _ = submit(srv, "plain", form={"email": "bot@acme.example", "website_url": "x"},
                      origin=None)
    assert st == 303 and h["location"] == "https://www.example.com/thanks"
    assert srv.lead_count() == 0
    assert counts(srv, "demo")["spam"]["honeypot"] == 1
    assert counts(srv, "plain")["spam"]["honeypot"] == 1
    assert srv.wait_stderr(r"form demo: spam \(honeypot\)")


def test_fill_time_token(srv):
    token = script_token(srv, "demo")
    lead = {"email": "fast@acme.example", "company": "F", "_baton_token": token}
    st, _, body = submit(srv, "demo", lead)  # at once: too fast
    assert st == 202 and body["accepted"] is True
    assert srv.lead_count() == 0 and counts(srv, "demo")["spam"]["too_fast"] == 1
    for bad, why in [("1.1795000000000.0123456789abcdef0123456789abcdef", "forged_token"),
                     ("garbage", "malformed_token")]:
        submit(srv, "demo", dict(lead, _baton_token=bad))
        assert counts(srv, "demo")["spam"][why] == 1
    # another form's token does not pass either
    submit(srv, "demo", dict(lead, _baton_token=script_token(srv, "strict")))
    assert counts(srv, "demo")["spam"]["forged_token"] == 2
    time.sleep(1.05)
    st, _, _ = submit(srv, "demo", lead)
    assert st == 202 and srv.lead_count() == 1
    # a form that requires the token: without one, spam
    submit(srv, "strict", {"email": "none@acme.example"})
    assert srv.lead_count() == 1 and counts(srv, "strict")["spam"]["no_token"] == 1


def test_disposable_mail_is_flagged(srv):
    submit(srv, "plain", form={"email": "x@mailinator.com"}, origin=None)
    srv.post_lead({"email": "y@junk.example"})
    srv.post_lead({"email": "z@acme.example"})
    flags = {l["email"]: l["fields"].get("email_disposable") for l in srv.list_leads()}
    assert flags == {"x@mailinator.com": True, "y@junk.example": True, "z@acme.example": None}


def test_rate_limit_per_address(srv):
    for i in range(2):
        st, _, _ = submit(srv, "limited", {"email": "r%d@acme.example" % i})
        assert st == 202
    st, h, body = submit(srv, "limited", {"email": "r9@acme.example"})
    assert st == 429 and body["error"]["code"] == "rate_limited"
    assert int(h["retry-after"]) >= 1 and h["access-control-allow-origin"] == SITE
    assert counts(srv, "limited")["rate_limited"] == 1 and srv.lead_count() == 2


def test_forms_config_errors_name_the_place(tmp_path):
    p = tmp_path / "bad.yaml"
    for text, want in [
        ("version: 1\nintake:\n  allowed_origins: ['*']\n", "'*' is not allowed"),
        ("version: 1\nintake:\n  allowed_origins: [https://x.example/a]\n", "is not an origin"),
        ("version: 1\nforms:\n  - id: a.js\n    fields: [{name: email}]\n", "is not a form id"),
        ("version: 1\nforms:\n  - id: a\n    fields: [{name: e, to: nowhere}]\n",
         "is not a lead attribute"),
        ("version: 1\nforms:\n  - id: a\n    fields: [{name: email}]\n    redirect: https://x.example/\n",
         "not in server.form_redirect_hosts"),
        ("version: 1\nforms:\n  - {id: a, fields: [{name: email}]}\n  - {id: a, fields: [{name: email}]}\n",
         "defined twice"),
    ]:
        p.write_text(text)
        r = run_baton("check", str(p))
        assert r.returncode != 0 and want in r.stderr, (text, r.stderr)
        assert re.search(r"bad\.yaml:\d+:\d+: ", r.stderr), r.stderr

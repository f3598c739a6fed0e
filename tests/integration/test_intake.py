"""POST /v1/leads: JSON and form intake, normalisation, redirects, reads."""

import re
import urllib.parse

import pytest

from conftest import assert_error

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

LEAD_KEYS = {
    "id", "external_id", "email", "first_name", "last_name", "company", "title", "phone",
    "website", "country", "state", "city", "industry", "source", "email_domain",
    "website_domain", "country_input", "employees_band", "stage", "owner", "email_free",
    "employees", "fields", "created_at", "updated_at", "score", "account",
}

REDIRECT_CONFIG = (
    "version: 1\n"
    "server:\n"
    "  form_redirect_hosts: [www.example.com]\n"
)


def test_json_intake_normalises(baton):
    st, hdrs, body = baton.post_lead({
        "email": "  Jane.Doe@GMAIL.com \n",
        "first_name": " Jane ",
        "company": "Example GmbH",
        "website": "https://www.example.com/x",
        "country": "Germany",
        "employees": "1,200",
        "fields": {"utm": "q4", "score": 7, "vip": True, "note": None},
    })
    assert st == 201, body
    assert hdrs["content-type"].startswith("application/json")
    assert body["outcome"] == "created"
    assert body["warnings"] == []
    lead = body["lead"]
    assert set(lead) == LEAD_KEYS
    assert isinstance(lead["id"], int) and lead["id"] > 0
    assert hdrs["location"] == "/v1/leads/%d" % lead["id"]
    assert lead["email"] == "jane.doe@gmail.com"
    assert lead["email_domain"] == "gmail.com"
    assert lead["email_free"] is True
    assert lead["first_name"] == "Jane"
    assert lead["last_name"] is None
    assert lead["company"] == "Example GmbH"
    assert lead["website"] == "https://www.example.com/x"
    assert lead["website_domain"] == "example.com"
    assert lead["country"] == "DE"
    assert lead["country_input"] is None
    assert lead["employees"] == 1200
    assert lead["employees_band"] == "1001-5000"
    assert lead["fields"]["utm"] == "q4"
    assert lead["fields"]["score"] == 7
    assert lead["fields"]["vip"] is True
    assert lead["stage"] == "new"
    assert lead["owner"] is None
    assert lead["external_id"] is None
    assert TS_RE.match(lead["created_at"]), lead["created_at"]
    assert lead["updated_at"] == lead["created_at"]


def test_business_email_is_not_free(baton):
    st, _, body = baton.post_lead({"email": "Bob@Acme-Corp.example", "country": "DEU"})
    assert st == 201, body
    assert body["lead"]["email"] == "bob@acme-corp.example"
    assert body["lead"]["email_domain"] == "acme-corp.example"
    assert body["lead"]["email_free"] is False
    assert body["lead"]["country"] == "DE"


def test_phone_only_lead(baton):
    st, _, body = baton.post_lead({"phone": "+49 (30) 123-456 x12"})
    assert st == 201, body
    assert body["lead"]["email"] is None
    assert body["lead"]["phone"] == "+49 (30) 123-456 x12"
    assert body["lead"]["email_domain"] is None


def test_get_lead_returns_same_object(baton):
    st, hdrs, body = baton.post_lead({"email": "get@example.org", "company": "Get Co",
                                      "fields": {"a": "b"}})
    assert st == 201
    st2, hdrs2, got = baton.get(hdrs["location"])
    assert st2 == 200, got
    assert got == body["lead"]


def test_events_show_lead_created(baton):
    ingest = baton.create_key("ingest", name="website-form")
    key_id = baton.key_id(ingest)
    st, _, body = baton.post_lead({"email": "ev@example.org"}, key=ingest)
    assert st == 202, body
    lead_id = baton.list_leads()[0]["id"]
    st, _, ev = baton.get("/v1/leads/%d/events" % lead_id)
    assert st == 200, ev
    assert ev["next_cursor"] is None
    assert len(ev["data"]) == 1
    e = ev["data"][0]
    assert e["type"] == "lead.created"
    assert e["lead_id"] == lead_id
    assert e["actor"] == "key:%d" % key_id
    assert e["data"]["key_name"] == "website-form"
    assert e["data"]["via"] == "api"
    assert TS_RE.match(e["at"])


def test_unknown_country_is_warning(baton):
    st, _, body = baton.post_lead({"email": "w@example.org", "country": "Atlantis"})
    assert st == 201, body
    assert body["outcome"] == "created"
    assert body["lead"]["country"] is None
    assert body["lead"]["country_input"] == "Atlantis"
    assert [w["field"] for w in body["warnings"]] == ["country"]
    assert body["warnings"][0]["message"]


def test_unparseable_employees_is_warning(baton):
    st, _, body = baton.post_lead({"email": "e@example.org", "employees": "lots"})
    assert st == 201, body
    assert body["lead"]["employees"] is None
    assert body["lead"]["employees_band"] is None
    assert [w["field"] for w in body["warnings"]] == ["employees"]


def test_employees_that_are_not_whole_are_rounded_with_a_warning(baton):
    st, _, body = baton.post_lead({"email": "half@example.org", "employees": 1.5})
    assert st == 201, body
    assert body["lead"]["employees"] == 2
    assert body["lead"]["employees_band"] == "1-10"
    assert body["warnings"] == [{"field": "employees",
                                 "message": "1.5 is not a whole number of employees; rounded to 2"}]
    # the warning is in the audit trail too
    ev = baton.events(body["lead"]["id"])[0]
    assert ev["data"]["warnings"] == body["warnings"]
    st, _, body = baton.post_lead({"email": "whole@example.org", "employees": 1200.0})
    assert st == 201 and body["lead"]["employees"] == 1200 and body["warnings"] == []


def test_unicode_round_trip(baton):
    company = "Caf\u00e9 M\u00fcller \U0001F600 \u65e5\u672c"
    st, _, body = baton.post_lead({"email": "uni@example.com", "company": company,
                                   "fields": {"n\u00f6te": "\u2713"}})
    assert st == 201, body
    assert body["lead"]["company"] == company
    assert body["lead"]["fields"] == {"n\u00f6te": "\u2713"}
    st, _, got = baton.get("/v1/leads/%d" % body["lead"]["id"])
    assert got == body["lead"]


def test_length_boundary(baton):
    st, _, body = baton.post_lead({"email": "len@example.com", "company": "C" * 256})
    assert st == 201, body
    assert body["lead"]["company"] == "C" * 256


def test_null_means_absent(baton):
    st, _, body = baton.post_lead({"email": "n@example.org", "company": None, "title": "  "})
    assert st == 201, body
    assert body["lead"]["company"] is None
    assert body["lead"]["title"] is None


# ---- form intake ----

def test_form_intake(baton):
    ingest = baton.create_key("ingest", name="form")
    raw = ("email=Form.User%40Example.COM&company=Caf%C3%A9+M%C3%BCller"
           "&fields%5Bbudget%5D=10k&fields.team_size=12&favourite_colour=blue"
           "&country=Deutschland&source=website-demo-form")
    st, hdrs, body = baton.request("POST", "/v1/leads?key=" + urllib.parse.quote(ingest),
                                   body=raw.encode(), key=None,
                                   content_type="application/x-www-form-urlencoded")
    # an ingest key is told only that its request was accepted: not whether
    # the person was known, nor the lead's id
    assert st == 202, body
    assert body == {"accepted": True, "warnings": []}
    assert "location" not in hdrs
    [lead] = baton.list_leads()
    assert lead["email"] == "form.user@example.com"
    assert lead["company"] == "Café Müller"
    assert lead["country"] == "DE"
    assert lead["source"] == "website-demo-form"
    assert lead["fields"] == {"budget": "10k", "team_size": "12", "favourite_colour": "blue"}


def test_form_intake_with_header_key(baton):
    st, _, body = baton.request("POST", "/v1/leads",
                                form=[("email", "hdr@example.com"), ("first_name", "A B")])
    assert st == 201, body
    assert body["lead"]["first_name"] == "A B"


def test_query_key_only_for_forms(baton):
    ingest = baton.create_key("ingest")
    st, _, body = baton.request("POST", "/v1/leads?key=" + ingest,
                                body={"email": "q@example.com"}, key=None)
    assert_error(st, body, 401, "unauthorized")
    assert baton.lead_count() == 0
    # the same key in a header works
    st, _, body = baton.request("POST", "/v1/leads", body={"email": "q@example.com"}, key=ingest)
    assert st == 202, body


def test_form_bad_query_key(baton):
    st, _, body = baton.request("POST", "/v1/leads?key=bt_nope", form={"email": "x@example.com"},
                                key=None)
    assert_error(st, body, 401, "unauthorized")
    assert baton.lead_count() == 0


def test_form_redirect_allowed(baton_factory):
    b = baton_factory(REDIRECT_CONFIG)
    ingest = b.create_key("ingest")
    st, hdrs, body = b.request("POST", "/v1/leads?key=" + ingest, key=None, form=[
        ("email", "redir@example.com"),
        ("_redirect", "https://www.example.com/thanks?x=1"),
    ])
    assert st == 303, body
    assert hdrs["location"] == "https://www.example.com/thanks?x=1"
    leads = b.list_leads()
    assert [l["email"] for l in leads] == ["redir@example.com"]
    # controls are not stored as custom fields
    assert leads[0]["fields"] == {}


def test_form_redirect_host_not_allowed(baton_factory):
    b = baton_factory(REDIRECT_CONFIG)
    ingest = b.create_key("ingest")
    for target in ("https://evil.example.net/thanks", "https://example.com/thanks",
                   "https://www.example.com.evil.net/", "https://www.example.com@evil.net/",
                   "javascript:alert(1)", "/thanks", "//evil.net/thanks",
                   "ftp://www.example.com/thanks", "www.example.com/thanks",
                   "https://www.example.com:443@evil.example/phish",
                   "https://www.example.com:@evil.example/", "https://www.example.com:8x/",
                   "https://www.example.com:/x"):
        st, hdrs, body = b.request("POST", "/v1/leads?key=" + ingest, key=None, form=[
            ("email", "redir2@example.com"),
            ("_redirect", target),
        ])
        assert_error(st, body, 422, "invalid", "_redirect")
        assert "location" not in hdrs
    assert b.lead_count() == 0


def test_form_redirect_variants_allowed(baton_factory):
    b = baton_factory(REDIRECT_CONFIG)
    for i, target in enumerate(("http://www.example.com/x", "https://WWW.EXAMPLE.COM/x",
                                "https://www.example.com/thanks#done",
                                "https://www.example.com:8443/thanks")):
        st, hdrs, body = b.request("POST", "/v1/leads", form=[
            ("email", "v%d@example.com" % i), ("_redirect", target)])
        assert st == 303, (target, body)
        assert hdrs["location"] == target
    assert b.lead_count() == 4


def test_form_redirect_with_control_characters(baton_factory):
    # a URL with CR/LF cannot be sent as a Location: it must be refused, not
    # answered with a 303 that has no Location (or a split header)
    b = baton_factory(REDIRECT_CONFIG)
    for target in ("https://www.example.com/\r\nSet-Cookie: x=1",
                   "https://www.example.com/\nx", "https://www.example.com/\rx"):
        st, hdrs, body = b.request("POST", "/v1/leads", form=[
            ("email", "ctl@example.com"), ("_redirect", target)])
        assert "set-cookie" not in hdrs
        assert st == 422, (target, st, hdrs, body)
        assert_error(st, body, 422, "invalid", "_redirect")
    assert b.lead_count() == 0


def test_form_redirect_not_taken_on_invalid_lead(baton_factory):
    b = baton_factory(REDIRECT_CONFIG)
    st, hdrs, body = b.request("POST", "/v1/leads", form=[
        ("email", "jane@"), ("_redirect", "https://www.example.com/thanks")])
    assert_error(st, body, 422, "invalid", "email")
    assert b.lead_count() == 0


def test_redirect_is_not_a_json_field(baton_factory):
    b = baton_factory(REDIRECT_CONFIG)
    st, _, body = b.post_lead({"email": "j@example.com",
                               "_redirect": "https://www.example.com/x"})
    assert_error(st, body, 422, "invalid", "_redirect")
    assert b.lead_count() == 0


def test_form_redirect_without_allowed_hosts(baton):
    st, _, body = baton.request("POST", "/v1/leads", form=[
        ("email", "redir3@example.com"), ("_redirect", "https://www.example.com/thanks")])
    assert_error(st, body, 422, "invalid", "_redirect")
    assert baton.lead_count() == 0


# ---- normalisation variants ----


@pytest.mark.parametrize("employees, number, band", [
    (1200, 1200, "1001-5000"),
    ("1,200", 1200, "1001-5000"),
    ("1k-5k", 3000, "1001-5000"),
    ("51-200", 125, "51-200"),
    ("5000+", 5000, "1001-5000"),
    ("10k+", 10000, "5001-10000"),
    (10, 10, "1-10"),
    ("11", 11, "11-50"),
    (10001, 10001, "10001+"),
])
def test_employees(baton, employees, number, band):
    st, _, body = baton.post_lead({"email": "emp@example.com", "employees": employees})
    assert st == 201, body
    assert body["lead"]["employees"] == number
    assert body["lead"]["employees_band"] == band
    assert body["warnings"] == []


@pytest.mark.parametrize("country, code", [
    ("Germany", "DE"), ("Deutschland", "DE"), ("DE", "DE"), ("DEU", "DE"), ("de", "DE"),
    ("  germany ", "DE"), ("USA", "US"), ("United Kingdom", "GB"), ("FRA", "FR"),
])
def test_countries(baton, country, code):
    st, _, body = baton.post_lead({"email": "c@example.com", "country": country})
    assert st == 201, body
    assert body["lead"]["country"] == code
    assert body["lead"]["country_input"] is None
    assert body["warnings"] == []


def test_email_and_website_forms(baton):
    st, _, body = baton.post_lead({
        "email": "\u00a0mailto:Mixed.Case@Sub.Example.ORG\t",
        "website": "  WWW.Example.COM:8080/path?q=1  ",
        "company": "\u00a0Nbsp Co\u00a0",
    })
    assert st == 201, body
    lead = body["lead"]
    assert lead["email"] == "mixed.case@sub.example.org"
    assert lead["email_domain"] == "sub.example.org"
    assert lead["website"] == "WWW.Example.COM:8080/path?q=1"
    assert lead["website_domain"] == "example.com"
    assert lead["company"] == "Nbsp Co"


def test_freemail_config_add(baton_factory):
    b = baton_factory("version: 1\nintake:\n  freemail:\n    add: [posteo.example]\n"
                      "    remove: [gmail.com]\n")
    st, _, body = b.post_lead({"email": "x@posteo.example"})
    assert st == 201, body
    assert body["lead"]["email_free"] is True
    st, _, body = b.post_lead({"email": "x@gmail.com"})
    assert st == 201, body
    assert body["lead"]["email_free"] is False
    st, _, body = b.post_lead({"email": "x@yahoo.com"})
    assert st == 201, body
    assert body["lead"]["email_free"] is True

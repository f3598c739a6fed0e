"""GET /v1/leads: filters, order and cursor pagination."""

import time
import urllib.parse

import pytest

from conftest import Baton

LEADS = [
    {"email": "anna@acme.example", "company": "ACME GmbH", "country": "Germany", "source": "webinar"},
    {"email": "ben@acme.example", "company": "Acme GmbH", "country": "DE", "source": "website"},
    {"email": "cleo@gmail.com", "company": "Cleo Consulting", "country": "France", "source": "webinar"},
    {"email": "dan@globex.example", "company": "Globex", "country": "United States", "source": "partner"},
    {"email": "eve@globex.example", "company": "Globex Inc", "country": "Deutschland", "source": "website"},
    {"phone": "+44 20 7946 0958", "company": "Phone Only Ltd", "country": "GB", "source": "webinar"},
    {"email": "Gus@Initech.example", "company": "Initech", "country": "FRA", "source": "trade-show"},
]


@pytest.fixture(scope="module")
def srv():
    b = Baton()
    b.start()
    b.leads = []
    for lead in LEADS:
        st, _, body = b.post_lead(lead)
        assert st == 201, body
        b.leads.append(body["lead"])
        time.sleep(0.003)  # distinct millisecond timestamps
    yield b
    b.finish()


def ids(leads):
    return [l["id"] for l in leads]


def newest_first(leads):
    return sorted(ids(leads), reverse=True)


def page(b, query):
    st, _, body = b.get("/v1/leads?" + query)
    assert st == 200, body
    assert set(body) == {"data", "next_cursor"}
    return body


def test_all_newest_first(srv):
    body = page(srv, "")
    assert body["next_cursor"] is None
    assert ids(body["data"]) == newest_first(srv.leads)
    # ids ascend with creation, and created_at does not go backwards
    stamps = [l["created_at"] for l in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    assert body["data"] == list(reversed(srv.leads))


@pytest.mark.parametrize("query, want", [
    ("email=ben@acme.example", [1]),
    ("email=BEN@ACME.EXAMPLE", [1]),
    ("email=gus@initech.example", [6]),
    ("email=nobody@acme.example", []),
    ("email_domain=acme.example", [0, 1]),
    ("domain=globex.example", [3, 4]),
    ("email_domain=gmail.com", [2]),
    ("email_domain=example", []),
    ("source=webinar", [0, 2, 5]),
    ("source=website", [1, 4]),
    ("source=Webinar", []),
    ("country=Germany", [0, 1, 4]),
    ("country=DE", [0, 1, 4]),
    ("country=Deutschland", [0, 1, 4]),
    ("country=France", [2, 6]),
    ("country=US", [3]),
    ("country=Japan", []),
    ("company=acme%20gmbh", [0, 1]),
    ("company=ACME+GMBH", [0, 1]),
    ("company=Globex", [3]),
    ("company=Acme", []),
    ("stage=new", [0, 1, 2, 3, 4, 5, 6]),
    ("stage=won", []),
    ("owner=alice", []),
    ("source=webinar&country=DE", [0]),
    ("source=website&email_domain=globex.example", [4]),
])
def test_filters(srv, query, want):
    body = page(srv, query)
    assert body["next_cursor"] is None
    assert ids(body["data"]) == newest_first([srv.leads[i] for i in want])


def test_created_after_before(srv):
    L = srv.leads
    q = urllib.parse.quote
    after = L[2]["created_at"]
    before = L[5]["created_at"]
    body = page(srv, "created_after=" + q(after))
    assert ids(body["data"]) == newest_first([l for l in L if l["created_at"] > after])
    assert L[2]["id"] not in ids(body["data"])  # exclusive
    assert L[3]["id"] in ids(body["data"])
    body = page(srv, "created_before=" + q(before))
    assert ids(body["data"]) == newest_first([l for l in L if l["created_at"] < before])
    assert L[5]["id"] not in ids(body["data"])
    assert L[4]["id"] in ids(body["data"])
    body = page(srv, "created_after=%s&created_before=%s" % (q(after), q(before)))
    assert ids(body["data"]) == newest_first([l for l in L if after < l["created_at"] < before])
    assert ids(body["data"]) == [L[4]["id"], L[3]["id"]]
    body = page(srv, "created_after=2000-01-01T00:00:00Z")
    assert len(body["data"]) == len(L)
    body = page(srv, "created_before=2000-01-01T00:00:00.000Z")
    assert body["data"] == []


def test_pagination_limit_3(srv):
    seen = []
    pages = []
    cursor = None
    for _ in range(10):
        query = "limit=3" + ("&cursor=" + urllib.parse.quote(cursor) if cursor else "")
        body = page(srv, query)
        assert len(body["data"]) <= 3
        pages.append(len(body["data"]))
        seen += ids(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str) and cursor
    assert cursor is None
    assert seen == newest_first(srv.leads)  # each exactly once, newest first
    assert pages == [3, 3, 1]


def test_pagination_with_filter(srv):
    seen = []
    cursor = None
    for _ in range(10):
        query = "source=webinar&limit=1" + ("&cursor=" + urllib.parse.quote(cursor) if cursor else "")
        body = page(srv, query)
        seen += ids(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == newest_first([srv.leads[i] for i in (0, 2, 5)])


def test_limit_exact_is_last_page(srv):
    body = page(srv, "limit=%d" % len(srv.leads))
    assert ids(body["data"]) == newest_first(srv.leads)
    assert body["next_cursor"] is None
    body = page(srv, "limit=500")
    assert len(body["data"]) == len(srv.leads)
    assert body["next_cursor"] is None


def test_pagination_stable_under_inserts(baton):
    made = []
    for i in range(5):
        st, _, body = baton.post_lead({"email": "p%d@example.com" % i})
        assert st == 201
        made.append(body["lead"]["id"])
    first = page(baton, "limit=2")
    assert ids(first["data"]) == made[::-1][:2]
    # a lead created while paging is newer: it does not shift later pages
    st, _, _ = baton.post_lead({"email": "late@example.com"})
    assert st == 201
    seen = ids(first["data"])
    cursor = first["next_cursor"]
    while cursor is not None:
        body = page(baton, "limit=2&cursor=" + urllib.parse.quote(cursor))
        seen += ids(body["data"])
        cursor = body["next_cursor"]
    assert seen == made[::-1]


def test_events_paging(baton):
    st, _, body = baton.post_lead({"email": "evp@example.com", "title": "t0"})
    assert st == 201
    lead_id = body["lead"]["id"]
    for i in range(1, 4):
        st, _, body = baton.post_lead({"email": "evp@example.com", "title": "t%d" % i})
        assert st == 200 and body["outcome"] == "merged", body
    all_ev = baton.events(lead_id)
    assert [e["type"] for e in all_ev] == ["lead.created"] + ["lead.merged"] * 3
    assert [e["id"] for e in all_ev] == sorted(e["id"] for e in all_ev)  # oldest first
    assert [e["data"]["changes"] for e in all_ev[1:]] == [
        [{"field": "title", "from": "t%d" % (i - 1), "to": "t%d" % i}] for i in range(1, 4)]

    st, _, p1 = baton.get("/v1/leads/%d/events?limit=2" % lead_id)
    assert st == 200, p1
    assert p1["data"] == all_ev[:2]
    assert p1["next_cursor"] is not None
    st, _, p2 = baton.get("/v1/leads/%d/events?limit=2&after=%d" % (lead_id, all_ev[1]["id"]))
    assert st == 200, p2
    assert p2["data"] == all_ev[2:]
    # next_cursor is what `after` takes
    st, _, p2b = baton.get("/v1/leads/%d/events?limit=2&after=%s" % (lead_id, p1["next_cursor"]))
    assert st == 200, p2b
    assert p2b["data"] == all_ev[2:]
    st, _, p3 = baton.get("/v1/leads/%d/events?after=%d" % (lead_id, all_ev[-1]["id"]))
    assert st == 200
    assert p3 == {"data": [], "next_cursor": None}

"""One-click links against the real binary: the link handed out with an
assignment, the page a GET shows (and that a GET changes nothing), accept
and reject through the page's forms, forms that are not the page's, links
that were tampered with, cut short, made up, expired or used, links signed
before `baton keys rotate-links`, and that /a/ needs no key and ignores one.

Some tests make their own tokens with the link secret read from the
database (the format is core/link_token.h's), to reach what the server
never hands out: accept-only and reject-only links, links for another rep
or no assignment, unknown generations. The signer is checked against the
server's own links first (test_the_link_is_for_the_rep_and_admins_only)."""

import base64
import datetime
import hashlib
import hmac
import html.parser
import os
import sqlite3
import threading
import urllib.parse

import pytest

from conftest import assert_error, run_baton
from contract import check as check_contract
from test_handoff import advance, assignments, event, live, types
from test_routing import post, start

PUBLIC = "http://127.0.0.1:9"  # links are only built with it, never fetched through it

BASE = """\
version: 1
server:
  public_url: %s
scoring:
  fit:
    - {name: Enterprise, when: "employees >= 1000", points: 50}
    - {name: DACH, when: 'country == "DE"', points: 30}
qualification:
  fast_track_when: source == "demo"
teams:
  - {id: emea, manager: mia}
reps:
  - {id: ana, team: emea}
  - {id: ben, team: emea}
  - {id: cy, team: emea}
  - {id: mia}
pools:
  - {id: inbound, strategy: round_robin, members: [ana, ben, cy]}
routing:
  rules:
    - {name: everyone, to: 'pool:inbound'}
""" % PUBLIC

# hot: the clock runs out and the lead moves on; standard: a breach is only
# flagged, so the assignment stays pending and the link outlives accept_by
SLA = """\
sla:
  policies:
    - name: hot
      when: score >= 80
      accept_within: 5m
      on_breach: [notify_manager, reassign]
    - name: standard
      accept_within: 1h
      contact_within: 24h
      on_breach: [notify_manager]
"""

CONFIG = BASE + SLA
T0 = "2026-11-24T09:00:00Z"  # a Tuesday; standard accept_by 10:00, the link till 11:00

SECURITY_HEADERS = {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}

ADMIN = object()


# ---- the page, read with a real HTML parser ----

class Page(html.parser.HTMLParser):
    """An HTML page as a browser would see it: every start tag, the text of
    its elements, and its forms with their fields."""

    BLOCKS = {"title", "h1", "h2", "p", "dt", "dd", "li", "label", "summary", "button", "option"}

    def __init__(self, raw):
        super().__init__(convert_charrefs=True)
        self.raw = raw
        self.tags = []
        self.elements = []  # (tag, text) of the BLOCKS, in order
        self.forms = []  # {"attrs", "inputs", "selects": [{"attrs", "options"}], "textareas"}
        self._open = []
        self._form = None
        self._select = None
        self._style = False
        self.feed(raw.decode("utf-8"))  # a page is UTF-8, or this raises
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "style":
            self._style = True
        if tag == "form":
            self._form = {"attrs": a, "inputs": [], "selects": [], "textareas": []}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None:
            self._form["inputs"].append(a)
        elif tag == "select" and self._form is not None:
            self._select = {"attrs": a, "options": []}
            self._form["selects"].append(self._select)
        elif tag == "option" and self._select is not None:
            self._select["options"].append(a)
        elif tag == "textarea" and self._form is not None:
            self._form["textareas"].append(a)
        if tag in self.BLOCKS:
            self._open.append([tag, "", a.get("class")])

    def handle_endtag(self, tag):
        if tag == "style":
            self._style = False
        elif tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        if self._open and self._open[-1][0] == tag:
            t, text, cls = self._open.pop()
            if cls != "foot":  # the page's footer, the same on every page
                self.elements.append((t, " ".join(text.split())))

    def handle_data(self, data):
        if self._open and not self._style:
            self._open[-1][1] += data

    def texts(self, tag):
        return [t for name, t in self.elements if name == tag]

    @property
    def title(self):
        return self.texts("title")[0]

    @property
    def h1(self):
        (h,) = self.texts("h1")
        return h

    @property
    def message(self):
        """The page's paragraphs, joined."""
        return " ".join(self.texts("p"))

    def form(self, action):
        """The form whose hidden `action` is `action`, or None."""
        for f in self.forms:
            if any(i.get("name") == "action" and i.get("value") == action for i in f["inputs"]):
                return f
        return None

    def hidden(self, form):
        return [(i["name"], i["value"]) for i in form["inputs"] if i.get("type") == "hidden"]

    @property
    def csrf(self):
        values = {v for f in self.forms for n, v in self.hidden(f) if n == "csrf"}
        (value,) = values  # the same in every form of the page
        return value


# ---- requests on /a/ ----

def path_of(link):
    assert link.startswith(PUBLIC + "/a/"), link
    return link[len(PUBLIC):]


def token_of(link):
    return link.rsplit("/", 1)[1]


def fetch(b, method, path, form=None, body=None, content_type=None, headers=None):
    """One request with no key (unless headers say otherwise); returns
    (status, [(name, value)] as sent, Page or the raw body). The reply is
    checked against docs/openapi.yaml."""
    hdrs = dict(headers or {})
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode() if not isinstance(form, bytes) else form
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif body is not None:
        data = body
    if content_type is not None:
        hdrs["Content-Type"] = content_type
    conn = b.connect()
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        header_list = [(k.lower(), v) for k, v in resp.getheaders()]
        status = resp.status
    finally:
        conn.close()
    check_contract(method, path, status, dict(header_list), raw)
    ctype = dict(header_list).get("content-type", "")
    return status, header_list, Page(raw) if ctype.startswith("text/html") else raw


def assert_page(status, header_list, page, want_status):
    """A page of `want_status` with every security header, each once."""
    assert status == want_status, (status, page.raw if isinstance(page, Page) else page)
    assert isinstance(page, Page), page
    names = [k for k, _ in header_list]
    for name, value in SECURITY_HEADERS.items():
        assert names.count(name) == 1, (name, header_list)
        assert dict(header_list)[name] == value, (name, header_list)
    assert page.tags[0] == "html" and "script" not in page.tags and "img" not in page.tags


def get_page(b, path, want=200, **kw):
    st, hl, page = fetch(b, "GET", path, **kw)
    assert_page(st, hl, page, want)
    return page


def submit(b, path, page, action, want=200, extra=(), **fields):
    """Posts the page's form for `action` as a browser would: its hidden
    fields in order, then `fields` (reason, note), then `extra` pairs."""
    form = page.form(action)
    assert form is not None, (action, page.raw)
    pairs = page.hidden(form) + [(k, v) for k, v in fields.items()] + list(extra)
    st, hl, reply = fetch(b, "POST", path, form=pairs)
    assert_page(st, hl, reply, want)
    return reply


def link(b, aid, key=ADMIN):
    kw = {} if key is ADMIN else {"key": key}
    st, _, body = b.get("/v1/assignments/%d" % aid, **kw)
    assert st == 200, body
    return body["link"]


def assignment(b, aid):
    st, _, body = b.get("/v1/assignments/%d" % aid)
    assert st == 200, body
    return body


def snapshot(b, lead_id):
    """What a request that changes nothing leaves as it was."""
    rows = assignments(b, lead_id)
    for r in rows:
        r.pop("time_left_seconds")
    st, _, lead = b.get("/v1/leads/%d" % lead_id)
    return rows, types(b, lead_id), lead["stage"], lead["owner"]


# ---- tokens made here, with the server's secret ----

def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_varint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


ACTIONS = {"decide": 1, "accept": 2, "reject": 3}


def decode(token):
    payload = unb64(token.split(".")[0])
    assert payload[0] == 1, payload
    generation, pos = read_varint(payload, 2)
    aid, pos = read_varint(payload, pos)
    expires, pos = read_varint(payload, pos)
    rep = payload[pos + 1:pos + 1 + payload[pos]].decode()
    action = {v: k for k, v in ACTIONS.items()}[payload[1]]
    return {"generation": generation, "assignment": aid, "expires": expires, "rep": rep,
            "action": action}


def secret(b, generation):
    db = sqlite3.connect(b.db)
    try:
        (row,) = db.execute("SELECT secret FROM link_secrets WHERE generation = ?",
                            (generation,)).fetchall()
        return bytes(row[0])
    finally:
        db.close()


def derived(key, label):
    return hmac.new(key, label.encode(), hashlib.sha256).digest()


def sign(key, aid, rep, expires, action="decide", generation=1):
    payload = (bytes([1, ACTIONS[action]]) + varint(generation) + varint(aid) + varint(expires)
               + bytes([len(rep)]) + rep.encode())
    mac = hmac.new(derived(key, "baton link token v1: mac"), payload, hashlib.sha256).digest()
    return b64(payload) + "." + b64(mac[:16])


def csrf_of(key, token):
    return b64(hmac.new(derived(key, "baton link token v1: csrf"), token.encode(),
                        hashlib.sha256).digest())


def epoch(rfc3339):
    return int(datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp())


# ---- the link ----

def test_the_link_is_for_the_rep_and_admins_only(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    ana, ben, mia = (b.create_key("rep", rep=r) for r in ("ana", "ben", "mia"))
    ingest = b.create_key("ingest")
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    assert (a["rep"], a["policy"], a["accept_by"]) == \
        ("ana", "standard", "2026-11-24T10:00:00.000Z")
    mine = link(b, a["id"])
    assert link(b, a["id"], key=ana) == mine
    # the manager sees the assignment, but acts through the API
    assert link(b, a["id"], key=mia) is None
    st, _, body = b.get("/v1/assignments/%d" % a["id"], key=ben)
    assert_error(st, body, 404, "not_found")
    st, _, body = b.get("/v1/assignments/%d" % a["id"], key=ingest)
    assert st == 403
    # the lists do not hand it out
    assert all("link" not in x for x in assignments(b, l["id"]))
    # one assignment, one rep, both actions, an hour after accept_by, generation 1
    token = token_of(path_of(mine))
    assert decode(token) == {"generation": 1, "assignment": a["id"], "rep": "ana",
                             "action": "decide", "expires": epoch(a["accept_by"]) + 3600}
    # the signer here is the server's: the rest of the file may rely on it
    assert sign(secret(b, 1), a["id"], "ana", epoch(a["accept_by"]) + 3600) == token
    page = get_page(b, path_of(mine))
    assert page.csrf == csrf_of(secret(b, 1), token) and len(page.csrf) == 43
    # once the assignment is closed there is no link
    st, _, body = b.request("POST", "/v1/assignments/%d/reject" % a["id"],
                            body={"reason": "duplicate"}, key=ana)
    assert st == 200, body
    assert link(b, a["id"]) is None and link(b, a["id"], key=ana) is None


def test_no_public_url_no_link(baton_factory):
    b = start(baton_factory, CONFIG.replace("server:\n  public_url: %s\n" % PUBLIC, ""), clock=T0)
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    assert link(b, a["id"]) is None


# ---- GET: the page, and nothing else ----

def test_get_shows_the_page_and_changes_nothing(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    l = post(b, 1, first_name="Jane", last_name="Doe", company="Müller & Söhne <GmbH>",
             employees=5000)
    (a,) = assignments(b, l["id"])
    assert a["policy"] == "standard"
    path = path_of(link(b, a["id"]))
    before = snapshot(b, l["id"])
    page = get_page(b, path)
    assert page.title == "Jane Doe · Baton" and page.h1 == "Jane Doe"
    # the company is text, not markup
    assert "Müller & Söhne <GmbH>" in page.texts("p") and "gmbh" not in page.tags
    assert "1 h left · accept by 2026-11-24 10:00 UTC" in page.texts("p")
    dl = dict(zip(page.texts("dt"), page.texts("dd")))
    assert dl["Score"].split(" · ")[0] == "50"
    assert dl["Why you"] == "Routed to you by rule everyone (pool inbound)."
    assert dl["Policy"] == "standard"
    assert page.texts("h2") == ["Top reasons"] and page.texts("li") == ["Enterprise"]
    # three forms (accept, reject, "Open my inbox"), posting back to the page's own URL
    assert len(page.forms) == 3
    for f in page.forms:
        assert f["attrs"]["method"] == "post" and "action" not in f["attrs"], f
    accept, reject = page.form("accept"), page.form("reject")
    assert page.hidden(accept) == [("action", "accept"), ("csrf", page.csrf)]
    assert [i.get("type") for i in accept["inputs"]] == ["hidden", "hidden"]
    assert page.hidden(reject) == [("action", "reject"), ("csrf", page.csrf)]
    (select,) = reject["selects"]
    assert select["attrs"]["name"] == "reason" and "required" in select["attrs"]
    st, _, reasons = b.get("/v1/reject-reasons")
    assert [o["value"] for o in select["options"] if o["value"]] == \
        [r["id"] for r in reasons["data"]]
    assert [o for o in select["options"] if not o["value"]][0].keys() >= {"disabled", "selected"}
    (note,) = reject["textareas"]
    assert note["name"] == "note" and note["maxlength"] == "1000"
    assert page.hidden(page.form("inbox")) == [("action", "inbox"), ("csrf", page.csrf)]
    assert page.texts("button") == ["Accept", "Reject", "Open my inbox"]
    # the time left follows the clock
    advance(b, 25 * 60)
    assert "35 min left · accept by 2026-11-24 10:00 UTC" in get_page(b, path).texts("p")
    # mail scanners follow links: no GET changes anything, whoever sends it
    for headers in ({}, {"Authorization": "Bearer " + b.admin_key}, {"Accept": "*/*"}):
        get_page(b, path, headers=headers)
        get_page(b, path + "?action=accept", headers=headers)
    assert snapshot(b, l["id"]) == before
    assert live(b, l["id"])["status"] == "pending"


def test_the_page_of_a_lead_with_little_to_show(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    st, _, body = b.post_lead({"phone": "+49 30 1234567", "source": "demo"})
    assert st == 201, body
    (a,) = assignments(b, body["lead"]["id"])
    page = get_page(b, path_of(link(b, a["id"])))
    assert page.h1 == "(no name)" and "Top reasons" not in page.texts("h2")
    assert page.form("accept") and page.form("reject")


# ---- POST: the page's forms ----

def test_accept_through_the_page(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    l = post(b, 1, first_name="Jane", last_name="Doe")
    (a,) = assignments(b, l["id"])
    path = path_of(link(b, a["id"]))
    page = get_page(b, path)
    advance(b, 600)
    done = submit(b, path, page, "accept")
    assert done.h1 == "Accepted — the lead is yours"
    assert done.texts("p") == ["Jane Doe", "Make the first contact by 2026-11-25 09:10 UTC."]
    assert done.forms == []
    now = assignment(b, a["id"])
    assert (now["status"], now["accepted_at"], now["contact_by"]) == \
        ("accepted", "2026-11-24T09:10:00.000Z", "2026-11-25T09:10:00.000Z")
    st, _, lead = b.get("/v1/leads/%d" % l["id"])
    assert (lead["stage"], lead["owner"]) == ("accepted", "ana")
    (ev,) = event(b, l["id"], "assignment.accepted")
    assert ev["actor"] == "link:ana" and ev["data"]["rep"] == "ana"
    assert ev["data"]["seconds_to_accept"] == 600
    assert [e["actor"] for e in event(b, l["id"], "lead.stage_changed")][-1] == "link:ana"
    # the link is used: it says what happened, on GET and on POST
    before = snapshot(b, l["id"])
    used = get_page(b, path, want=409)
    assert used.h1 == "This assignment has moved on"
    assert "You have already accepted this lead." in used.message
    again = submit(b, path, page, "accept", want=409)
    assert "accepted" in again.message
    submit(b, path, page, "reject", want=409, reason="duplicate")
    assert snapshot(b, l["id"]) == before
    # the API agrees
    st, _, body = b.request("POST", "/v1/assignments/%d/accept" % a["id"])
    assert_error(st, body, 409, "conflict")


def test_reject_through_the_page_goes_to_the_next_rep(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    l = post(b, 1, first_name="Jane")
    (a,) = assignments(b, l["id"])
    path = path_of(link(b, a["id"]))
    page = get_page(b, path)
    note = "Österreich, nicht Deutschland — <b>bitte</b> an das Team Wien & Graz"
    done = submit(b, path, page, "reject", reason="wrong_territory", note=note)
    assert done.h1 == "Rejected"
    assert done.texts("p") == ["Jane", "The lead goes to the next rep."]
    now = assignment(b, a["id"])
    assert (now["status"], now["close_reason"], now["note"]) == \
        ("rejected", "wrong_territory", note)
    assert now["closed_at"] == "2026-11-24T09:00:00.000Z"
    nxt = live(b, l["id"])
    assert nxt["rep"] == "ben" and nxt["status"] == "pending" and now["next"] == "ben"
    (ev,) = event(b, l["id"], "assignment.rejected")
    assert ev["actor"] == "link:ana" and ev["reason"] == "wrong_territory"
    assert ev["data"]["note"] == note and ev["data"]["action"] == "reroute"
    st, _, x = b.get("/v1/leads/%d/exclusions" % l["id"])
    assert [e["rep"] for e in x["data"]] == ["ana"]
    # ana's link is spent; ben's is his own
    used = get_page(b, path, want=409)
    assert "rejected" in used.message and "ben" in used.message
    ben = path_of(link(b, nxt["id"]))
    assert ben != path and decode(token_of(ben))["rep"] == "ben"
    assert get_page(b, ben).form("accept")


def test_the_pages_say_where_a_rejected_lead_went(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    leads = [post(b, n) for n in (1, 2, 3, 4)]  # ana, ben, cy, ana
    rows = [assignments(b, l["id"])[0] for l in leads]
    assert [r["rep"] for r in rows] == ["ana", "ben", "cy", "ana"]
    paths = [path_of(link(b, r["id"])) for r in rows]
    pages = [get_page(b, p) for p in paths]
    # reject reasons of each kind: the result page and then the link's 409
    # page say what became of the lead, never something it did not do
    for rep in ("ben", "cy"):  # nobody left for a reroute of ana's lead
        st, _, body = b.request("PUT", "/v1/reps/%s/status" % rep, body={"status": "away"})
        assert st == 200, body
    cases = [
        (0, "wrong_territory", "hold", "No other rep can take it now: it waits in the hold queue.",
         "the lead waits in the hold queue"),
        (1, "not_a_fit", "recycled", "The lead goes back to marketing.",
         "the lead went back to marketing"),
        (2, "duplicate", "disqualified", "The lead is disqualified.", "the lead was disqualified"),
    ]
    for i, reason, successor, result, moved in cases:
        done = submit(b, paths[i], pages[i], "reject", reason=reason)
        assert done.texts("p")[-1] == result, (reason, done.texts("p"))
        assert assignment(b, rows[i]["id"])["next"] == successor
        gone = get_page(b, paths[i], want=409)
        assert gone.message == ("This lead is no longer waiting for you: it was rejected at "
                                "2026-11-24 09:00 UTC (%s), and %s." % (reason, moved)), \
            gone.message
    # a rep that is the next one is named
    assert b.request("PUT", "/v1/reps/ben/status", body={"status": "available"})[0] == 200
    advance(b, 60)
    done = submit(b, paths[3], pages[3], "reject", reason="existing_customer")
    assert done.texts("p")[-1] == "The lead goes to the next rep."
    assert get_page(b, paths[3], want=409).message == (
        "This lead is no longer waiting for you: it was rejected at 2026-11-24 09:01 UTC "
        "(existing_customer), and the lead went to ben.")


def test_a_note_the_page_allows_is_taken_as_the_browser_sends_it(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    leads = [post(b, n) for n in (1, 2, 3)]
    rows = [assignments(b, l["id"])[0] for l in leads]
    paths = [path_of(link(b, r["id"])) for r in rows]
    pages = [get_page(b, p) for p in paths]
    assert pages[0].form("reject")["textareas"][0]["maxlength"] == "1000"
    # 1,000 characters (maxlength counts UTF-16 code units) of three bytes
    # each, every byte %-escaped: 9,000 bytes of form
    euros = "€" * 1000
    submit(b, paths[0], pages[0], "reject", reason="not_a_fit", note=euros)
    # textarea lines end in CRLF in the form, and count as one character
    # each against maxlength: 1,000 characters with ten line breaks
    lines = ("x" * 99 + "\n") * 10
    assert len(lines) == 1000
    submit(b, paths[1], pages[1], "reject", reason="not_a_fit", note=lines.replace("\n", "\r\n"))
    assert [assignment(b, r["id"])["note"] for r in rows[:2]] == [euros, lines]
    (ev,) = event(b, leads[1]["id"], "assignment.rejected")
    assert ev["data"]["note"] == lines
    # one more character is one too many
    reply = submit(b, paths[2], pages[2], "reject", want=400, reason="not_a_fit",
                   note=euros + "€")
    assert "1,000 characters" in reply.message
    submit(b, paths[2], pages[2], "reject", want=400, reason="not_a_fit", note=euros * 2)
    assert assignment(b, rows[2]["id"])["status"] == "pending"


def reasons_config(n, label):
    lines = ["  reject_reasons:\n"]
    for i in range(n):
        lines.append("    - {id: reason_%03d_%s, label: '%s', action: %s}\n"
                     % (i, "x" * 50, label.replace("'", "''") % i,
                        ("reroute", "recycle", "disqualify")[i % 3]))
    return CONFIG + "".join(lines)


def test_the_page_offers_every_configured_reason(baton_factory):
    # the configuration allows up to 100 reject reasons of 64-character ids
    # and 200-character labels; the page must offer them all
    worst = '"<&>' * 50  # 200 characters, each escaped to up to six bytes
    for n, label in ((33, "Reason %d"), (100, "%03d" + worst[3:])):
        b = start(baton_factory, reasons_config(n, label), clock=T0)
        st, _, reasons = b.get("/v1/reject-reasons")
        assert len(reasons["data"]) == n
        l = post(b, 1, first_name=worst[:128], last_name=worst[:128], company=worst[:128])
        (a,) = assignments(b, l["id"])
        path = path_of(link(b, a["id"]))
        page = get_page(b, path)
        (select,) = page.form("reject")["selects"]
        assert [o["value"] for o in select["options"] if o["value"]] == \
            [r["id"] for r in reasons["data"]]
        labels = [t for t in page.texts("option") if t != "Choose a reason"]
        if n == 33:
            assert labels == ["Reason %d" % i for i in range(n)]
        else:  # cut, visibly, at 100 characters
            assert all(len(t) == 101 and t.endswith("…") for t in labels), labels[:2]
        last = reasons["data"][-1]["id"]
        submit(b, path, page, "reject", reason=last)
        assert assignment(b, a["id"])["close_reason"] == last
        b.finish()


def test_the_same_form_sent_many_times_at_once_acts_once(baton_factory):
    # a double click, a retrying proxy: the engine's writer lets one through
    b = start(baton_factory, CONFIG, clock=T0)
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    path = path_of(link(b, a["id"]))
    page = get_page(b, path)
    results = []

    def send():
        st, hl, reply = fetch(b, "POST", path, form=page.hidden(page.form("accept")))
        assert_page(st, hl, reply, st)
        results.append(st)

    threads = [threading.Thread(target=send) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [409] * 11, results
    assert assignment(b, a["id"])["status"] == "accepted"
    assert len(event(b, l["id"], "assignment.accepted")) == 1


def test_accept_and_reject_from_one_page_at_once_one_wins(baton_factory):
    # both buttons of one page, sent together: never an accepted lead that
    # the same click rejects a moment later
    for round_ in range(4):
        b = start(baton_factory, CONFIG, clock=T0)
        l = post(b, 1)
        (a,) = assignments(b, l["id"])
        path = path_of(link(b, a["id"]))
        page = get_page(b, path)
        accept = page.hidden(page.form("accept"))
        reject = page.hidden(page.form("reject")) + [("reason", "duplicate")]
        results = []

        def send(form):
            st, hl, reply = fetch(b, "POST", path, form=form)
            results.append(st)

        threads = [threading.Thread(target=send, args=(f,)) for f in (accept, reject) * 3]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200] + [409] * 5, (round_, results)
        assert assignment(b, a["id"])["status"] in ("accepted", "rejected")
        b.finish()


def test_past_the_daily_rejection_limit_the_page_says_so(baton_factory):
    b = start(baton_factory, CONFIG + "  rejections_per_day: 1\n", clock=T0)
    l1, _, _, l4 = (post(b, n) for n in (1, 2, 3, 4))  # ana, ben, cy, ana
    a1, a4 = assignments(b, l1["id"])[0], assignments(b, l4["id"])[0]
    assert a1["rep"] == a4["rep"] == "ana"
    p1, p4 = path_of(link(b, a1["id"])), path_of(link(b, a4["id"]))
    submit(b, p1, get_page(b, p1), "reject", reason="not_a_fit")
    page = get_page(b, p4)
    before = snapshot(b, l4["id"])
    refused = submit(b, p4, page, "reject", want=400, reason="not_a_fit")
    assert "daily limit" in refused.message and "manager" in refused.message, refused.message
    assert snapshot(b, l4["id"]) == before
    # accepting is not limited
    assert submit(b, p4, page, "accept").h1.startswith("Accepted")


def test_a_rejection_through_the_link_is_closed_by_the_link(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    path = path_of(link(b, a["id"]))
    submit(b, path, get_page(b, path), "reject", reason="duplicate")
    assert assignment(b, a["id"])["closed_by"] == "link:ana"


def test_forms_that_are_not_the_pages_change_nothing(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    l1, l2 = post(b, 1), post(b, 2)
    a1, a2 = assignments(b, l1["id"])[0], assignments(b, l2["id"])[0]
    path = path_of(link(b, a1["id"]))
    page = get_page(b, path)
    other = get_page(b, path_of(link(b, a2["id"]))).csrf
    good = page.csrf
    flipped = good[:10] + ("A" if good[10] != "A" else "B") + good[11:]
    before = snapshot(b, l1["id"]), snapshot(b, l2["id"])
    bad = [
        [("action", "accept")],                                   # no csrf
        [("action", "accept"), ("csrf", "")],
        [("action", "accept"), ("csrf", flipped)],
        [("action", "accept"), ("csrf", good[:-1])],
        [("action", "accept"), ("csrf", good + "A")],
        [("action", "accept"), ("csrf", other)],                  # another link's
        [("action", "accept"), ("csrf", token_of(path))],         # the token itself
        [("csrf", good)],                                         # no action
        [("action", ""), ("csrf", good)],
        [("action", "decide"), ("csrf", good)],                   # not something to do
        [("action", "Accept"), ("csrf", good)],
        [("action", "contacted"), ("csrf", good)],
        [("action", "accept"), ("csrf", good), ("colour", "red")],  # unknown fields
        [("action", "accept"), ("csrf", good), ("key", b.admin_key)],
        [("action", "accept"), ("csrf", good), ("", "x")],
        [("action", "accept"), ("action", "accept"), ("csrf", good)],  # repeated fields
        [("action", "accept"), ("csrf", good), ("csrf", good)],
        [("action", "reject"), ("csrf", good), ("reason", "duplicate"), ("reason", "duplicate")],
        [("action", "reject"), ("csrf", good)],                   # no reason
        [("action", "reject"), ("csrf", good), ("reason", "")],
        [("action", "reject"), ("csrf", good), ("reason", "bored")],
        [("action", "reject"), ("csrf", good), ("reason", "duplicate"), ("note", "x" * 1001)],
        [("action", "reject"), ("csrf", good), ("reason", "duplicate"), ("note", "bell\x07")],
    ]
    for pairs in bad:
        st, hl, reply = fetch(b, "POST", path, form=pairs)
        assert_page(st, hl, reply, 400)
        assert reply.h1 == "The form could not be sent", pairs
    g = good.encode()
    for raw in (b"action=accept&csrf=" + g + b"&note=%zz",  # not a %-escape
                b"action=accept&csrf=" + g + b"&note=%ff",  # not UTF-8
                b"action=accept&csrf=" + g + b"&note=%00",
                b"action=accept&&csrf=" + g,  # an empty field
                b"action=accept&csrf%3D" + g,
                b""):
        st, hl, reply = fetch(b, "POST", path, form=raw)
        assert_page(st, hl, reply, 400)
    # the right fields, but not as a form
    as_json = ('{"action": "accept", "csrf": "%s"}' % good).encode()
    st, hl, reply = fetch(b, "POST", path, body=as_json, content_type="application/json")
    assert_page(st, hl, reply, 400)
    assert (snapshot(b, l1["id"]), snapshot(b, l2["id"])) == before
    # and the page's own form still works
    submit(b, path, page, "accept")
    assert assignment(b, a1["id"])["status"] == "accepted"
    assert assignment(b, a2["id"])["status"] == "pending"


def test_an_action_the_link_does_not_permit(baton_factory):
    # the server hands out decide links; accept-only and reject-only ones are
    # the token format's, made here with its secret
    b = start(baton_factory, CONFIG, clock=T0)
    l1, l2 = post(b, 1), post(b, 2)
    a1, a2 = assignments(b, l1["id"])[0], assignments(b, l2["id"])[0]
    key = secret(b, 1)
    expires = epoch(a1["accept_by"]) + 3600
    accept_only = "/a/" + sign(key, a1["id"], a1["rep"], expires, action="accept")
    reject_only = "/a/" + sign(key, a2["id"], a2["rep"], expires, action="reject")
    before = snapshot(b, l1["id"]), snapshot(b, l2["id"])
    p1 = get_page(b, accept_only)
    assert [f for f in (p1.form("accept"), p1.form("reject")) if f] == [p1.form("accept")]
    assert p1.texts("button") == ["Accept", "Open my inbox"]
    p2 = get_page(b, reject_only)
    assert p2.form("accept") is None and p2.form("reject") and p2.texts("button") == ["Reject", "Open my inbox"]
    assert "summary" not in p2.tags  # the reject form is the page, not folded away
    for path, page, pairs in (
            (accept_only, p1, [("action", "reject"), ("csrf", p1.csrf), ("reason", "duplicate")]),
            (reject_only, p2, [("action", "accept"), ("csrf", p2.csrf)])):
        st, hl, reply = fetch(b, "POST", path, form=pairs)
        assert_page(st, hl, reply, 400)
    assert (snapshot(b, l1["id"]), snapshot(b, l2["id"])) == before
    # each does what it offers
    assert submit(b, accept_only, p1, "accept").h1.startswith("Accepted")
    assert submit(b, reject_only, p2, "reject", reason="not_a_fit").h1 == "Rejected"
    assert assignment(b, a1["id"])["status"] == "accepted"
    assert assignment(b, a2["id"])["status"] == "rejected"


def alter(token, i):
    """The token with character i changed to another base64url character."""
    c = token[i]
    if c == ".":
        return token[:i] + "A" + token[i + 1:]
    return token[:i] + ("B" if c == "A" else "A") + token[i + 1:]


def test_tampered_cut_and_made_up_links_get_a_page_and_change_nothing(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    l, l2 = post(b, 1), post(b, 2)
    (a,) = assignments(b, l["id"])
    path = path_of(link(b, a["id"]))
    token = token_of(path)
    other = token_of(path_of(link(b, assignments(b, l2["id"])[0]["id"])))
    page = get_page(b, path)
    form = [("action", "accept"), ("csrf", page.csrf)]
    before = snapshot(b, l["id"])
    dot = token.index(".")
    bad = [alter(token, i) for i in range(len(token))]  # every character, payload and MAC
    bad += [token[:n] for n in (1, 10, dot, dot + 1, len(token) - 1)]  # cut short
    bad += [token + "A", token + ".", "." + token, token.replace(".", ""),
            token[:dot] + other[other.index("."):]]  # another link's MAC
    bad += ["garbage", "a.b", "....", "-_-_-_", "%C3%A4%C3%B6", "AQEB." + "A" * 22,
            "A" * 139, "A" * 140, "A" * 160, token + "A" * (160 - len(token))]
    assert len(set(bad)) == len(bad) and token not in bad
    for t in bad:
        for method in ("GET", "POST"):
            st, hl, reply = fetch(b, method, "/a/" + t, form=form if method == "POST" else None)
            assert st in (403, 404), (t, st)
            assert_page(st, hl, reply, st)
            assert reply.h1 in ("This link is not valid", "Assignment not found"), (t, reply.h1)
    assert snapshot(b, l["id"]) == before
    assert get_page(b, path).csrf == page.csrf  # the genuine link still works


def test_an_over_long_link_gets_a_page(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    token = token_of(path_of(link(b, a["id"])))
    for t in ("A" * 161, token + "A" * (161 - len(token)), "A" * 4000):
        st, hl, reply = fetch(b, "GET", "/a/" + t)
        assert st in (403, 404) and isinstance(reply, Page), (st, reply)
        assert_page(st, hl, reply, st)


def test_links_for_another_rep_no_assignment_or_an_unknown_generation(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    key = secret(b, 1)
    expires = epoch(a["accept_by"]) + 3600
    before = snapshot(b, l["id"])
    cases = [
        (sign(key, a["id"], "ben", expires), 404),  # signed, but not ben's assignment
        (sign(key, a["id"], "nobody", expires), 404),
        (sign(key, 999, "ana", expires), 404),  # no such assignment
        (sign(key, a["id"], "ana", expires, generation=2), 403),  # no such secret
        # generation 0 is no generation (the store's "the newest"): signed
        # with the newest secret, it must not verify
        (sign(key, a["id"], "ana", expires, generation=0), 403),
        (sign(key, a["id"], "ana", expires, generation=2 ** 32 - 1), 403),
        (sign(b"x" * 32, a["id"], "ana", expires), 403),  # another secret
        (sign(key, a["id"], "ana", expires + 86400 * 365), 200),  # a later expiry verifies
    ]
    for token, want in cases:
        for method in ("GET", "POST") if want != 200 else ("GET",):
            form = [("action", "accept"), ("csrf", csrf_of(key, token))]
            st, hl, reply = fetch(b, method, "/a/" + token, form=form if method == "POST" else None)
            assert_page(st, hl, reply, want)
    assert snapshot(b, l["id"]) == before


# ---- time ----

def test_an_expired_link_gets_410(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    l1, l2 = post(b, 1), post(b, 2)
    a1, a2 = assignments(b, l1["id"])[0], assignments(b, l2["id"])[0]
    assert a1["accept_by"] == a2["accept_by"] == "2026-11-24T10:00:00.000Z"
    p1, p2 = path_of(link(b, a1["id"])), path_of(link(b, a2["id"]))
    page1, page2 = get_page(b, p1), get_page(b, p2)
    # the breach is only flagged: the rep may still accept, through the link too
    advance(b, 3600 + 60)
    now = assignment(b, a1["id"])
    assert (now["status"], now["breached_at"]) == ("pending", "2026-11-24T10:00:00.000Z")
    assert event(b, l1["id"], "assignment.escalated")
    late = get_page(b, p1)
    assert "overdue · was due 2026-11-24 10:00 UTC" in late.texts("p")
    assert submit(b, p2, page2, "accept").h1.startswith("Accepted")
    # a second before accept_by + 1 h the link works; at it, it has expired
    advance(b, 3600 - 60 - 1)
    assert get_page(b, p1).form("accept")
    advance(b, 1)
    before = snapshot(b, l1["id"])
    gone = get_page(b, p1, want=410)
    assert gone.h1 == "This link has expired"
    st, hl, reply = fetch(b, "POST", p1, form=page1.hidden(page1.form("accept")))
    assert_page(st, hl, reply, 410)
    submit(b, p1, page1, "reject", want=410, reason="duplicate")
    assert snapshot(b, l1["id"]) == before
    assert assignment(b, a1["id"])["status"] == "pending"
    # the API still works for the rep
    st, _, body = b.request("POST", "/v1/assignments/%d/accept" % a1["id"])
    assert st == 200, body
    # expiry is checked after the signature: a made-up expired link is a 403
    forged = sign(b"y" * 32, a1["id"], "ana", epoch(a1["accept_by"]))
    get_page(b, "/a/" + forged, want=403)
    genuine_expired = sign(secret(b, 1), a1["id"], "ana", epoch(a1["accept_by"]))
    get_page(b, "/a/" + genuine_expired, want=410)


def test_without_a_clock_a_link_lasts_seven_days(baton_factory):
    b = start(baton_factory, BASE, clock=T0)
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    assert a["accept_by"] is None and a["policy"] is None
    path = path_of(link(b, a["id"]))
    assert decode(token_of(path))["expires"] == epoch(a["assigned_at"]) + 7 * 86400
    page = get_page(b, path)
    assert not [p for p in page.texts("p") if "left" in p]  # no clock, no time left
    advance(b, 7 * 86400 - 1)
    get_page(b, path)
    advance(b, 1)
    get_page(b, path, want=410)
    assert assignment(b, a["id"])["status"] == "pending"


def test_a_link_whose_assignment_moved_on_says_what_happened(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    mia = b.create_key("rep", rep="mia")
    hot = post(b, 1, employees=5000, country="DE")  # ana, 5 minutes
    l2, l3, l4 = post(b, 2), post(b, 3), post(b, 4)  # ben, cy, ana
    a1, a2, a3, a4 = (assignments(b, l["id"])[0] for l in (hot, l2, l3, l4))
    assert (a1["rep"], a1["policy"], a4["rep"]) == ("ana", "hot", "ana")
    p1, p2, p3, p4 = (path_of(link(b, x["id"])) for x in (a1, a2, a3, a4))
    page1 = get_page(b, p1)
    lead = "This lead is no longer waiting for you: it was "
    # the clock ran out and the lead went to the next rep
    advance(b, 301)
    assert assignment(b, a1["id"])["status"] == "expired"
    moved = get_page(b, p1, want=409)
    assert moved.h1 == "This assignment has moved on"
    assert moved.message == lead + "expired at 2026-11-24 09:05 UTC, and the lead went to ben."
    assert "expired" in submit(b, p1, page1, "accept", want=409).message
    # the manager took it back and gave it to another rep, with a reason
    st, _, body = b.request("POST", "/v1/assignments/%d/reassign" % a2["id"],
                            body={"to": "cy", "reason": "speaks Spanish"}, key=mia)
    assert st == 200, body
    assert get_page(b, p2, want=409).message == \
        lead + "reassigned at 2026-11-24 09:05 UTC (speaks Spanish), and the lead went to cy."
    # withdrawn: back to marketing
    st, _, body = b.request("POST", "/v1/assignments/%d/withdraw" % a3["id"], key=mia)
    assert st == 200, body
    assert get_page(b, p3, want=409).message == \
        lead + "withdrawn at 2026-11-24 09:05 UTC, and the lead went back to marketing."
    # accepted, then won in the CRM
    st, _, body = b.request("POST", "/v1/assignments/%d/accept" % a4["id"])
    assert st == 200, body
    assert get_page(b, p4, want=409).message == "You have already accepted this lead."
    advance(b, 3600)
    st, _, body = b.request("POST", "/v1/leads/%d/outcome" % l4["id"], body={"stage": "won"})
    assert st == 200, body
    assert get_page(b, p4, want=409).message == \
        "This lead was accepted at 2026-11-24 09:05 UTC and is closed (the lead is won)."


def test_a_database_that_cannot_be_opened_is_a_503_page(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    # the reader pool opens its connections on first use: with the file
    # moved away before any request, the first one cannot be had
    token = sign(b"z" * 32, 1, "ana", 2 ** 31)  # well-formed: it gets that far
    os.rename(b.db, b.db + ".away")
    try:
        for method in ("GET", "POST"):
            st, hl, reply = fetch(b, method, "/a/" + token,
                                  form=[("action", "accept"), ("csrf", "x")]
                                  if method == "POST" else None)
            assert_page(st, hl, reply, 503)
            assert reply.h1 == "Baton is unavailable"
    finally:
        os.rename(b.db + ".away", b.db)
    get_page(b, "/a/" + token, want=403)


# ---- secrets ----

def test_links_signed_before_a_rotation_keep_working(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    l1, l2 = post(b, 1), post(b, 2)
    a1, a2 = assignments(b, l1["id"])[0], assignments(b, l2["id"])[0]
    old1, old2 = path_of(link(b, a1["id"])), path_of(link(b, a2["id"]))
    assert decode(token_of(old1))["generation"] == 1
    r = run_baton("keys", "rotate-links", "--db", b.db)
    assert r.returncode == 0, r.stderr
    new1, new2 = path_of(link(b, a1["id"])), path_of(link(b, a2["id"]))
    assert new1 != old1 and new2 != old2
    d_old, d_new = decode(token_of(old1)), decode(token_of(new1))
    assert d_new["generation"] == 2 and dict(d_old, generation=2) == d_new
    assert token_of(new1) == sign(secret(b, 2), a1["id"], "ana", d_new["expires"], generation=2)
    assert secret(b, 2) != secret(b, 1)
    # both generations verify; each has its own csrf
    po, pn = get_page(b, old1), get_page(b, new1)
    assert po.csrf != pn.csrf
    st, hl, reply = fetch(b, "POST", old1, form=[("action", "accept"), ("csrf", pn.csrf)])
    assert_page(st, hl, reply, 400)
    assert submit(b, old1, po, "accept").h1.startswith("Accepted")
    get_page(b, new1, want=409)
    # a new link of the other assignment works as well
    assert submit(b, new2, get_page(b, new2), "accept").h1.startswith("Accepted")
    get_page(b, old2, want=409)
    # and a second rotation still keeps the first
    assert run_baton("keys", "rotate-links", "--db", b.db).returncode == 0
    (a3,) = assignments(b, post(b, 3)["id"])
    assert decode(token_of(path_of(link(b, a3["id"]))))["generation"] == 3
    get_page(b, old1, want=409)
    get_page(b, "/a/" + sign(secret(b, 1), a3["id"], a3["rep"], epoch(a3["accept_by"]) + 3600))


# ---- keys ----

def test_no_key_is_needed_and_one_sent_is_ignored(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    ben = b.create_key("rep", rep="ben")
    l1, l2 = post(b, 1), post(b, 2)
    a1 = assignments(b, l1["id"])[0]
    path = path_of(link(b, a1["id"]))
    for headers in ({}, {"Authorization": "Bearer bt_nonsense"}, {"Authorization": "Basic YTpi"},
                    {"Authorization": ""}, {"Authorization": "Bearer " + ben}):
        page = get_page(b, path, headers=headers)
        assert page.form("accept")
    st, hl, reply = fetch(b, "GET", path + "?key=bt_nonsense")
    assert_page(st, hl, reply, 200)
    # another rep's key or the admin's: the link acts as its own rep, no more
    st, hl, reply = fetch(b, "POST", path + "?key=" + b.admin_key,
                          form=page.hidden(page.form("accept")),
                          headers={"Authorization": "Bearer " + ben})
    assert_page(st, hl, reply, 200)
    (ev,) = event(b, l1["id"], "assignment.accepted")
    assert ev["actor"] == "link:ana" and ev["data"]["rep"] == "ana"
    # a made-up link is a 403 page, also with the admin's key
    get_page(b, "/a/" + alter(token_of(path), 3), want=403,
             headers={"Authorization": "Bearer " + b.admin_key})
    # the API beside it still wants its key
    st, _, body = b.request("GET", "/v1/assignments/%d" % a1["id"], key=None)
    assert_error(st, body, 401, "unauthorized")


# ---- "Open my inbox": the link signs its rep in to the dashboard ----

def open_inbox(b, path, page, headers=None, want=303):
    """Posts the page's "Open my inbox" form; returns the cookie's token
    (303) or the page (otherwise)."""
    form = page.form("inbox")
    assert form is not None, page.raw
    st, hl, reply = fetch(b, "POST", path, form=page.hidden(form), headers=headers)
    if want != 303:
        assert_page(st, hl, reply, want)
        assert "set-cookie" not in dict(hl)
        return reply
    assert st == 303, (st, reply)
    h = dict(hl)
    assert h["location"] == "/ui/" and h["cache-control"] == "no-store"
    cookie = h["set-cookie"]
    name, _, attrs = cookie.partition(";")
    assert name.startswith("baton_session=") and len(name) == len("baton_session=") + 64
    assert attrs == " Max-Age=28800; Path=/; HttpOnly; SameSite=Strict", cookie
    return name.split("=", 1)[1]


def with_cookie(b, method, path, cookie, csrf=None, **kw):
    headers = {"Cookie": "baton_session=" + cookie}
    if csrf:
        headers["X-Baton-CSRF"] = csrf
    return b.request(method, path, key=None, headers=headers, **kw)


def test_open_my_inbox_signs_the_rep_in_as_a_rep_key_would(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    ana_key = b.create_key("rep", rep="ana")
    mine, bens = post(b, 1, first_name="Jane"), post(b, 2, first_name="Max")
    (a,) = assignments(b, mine["id"])
    (other,) = assignments(b, bens["id"])
    assert (a["rep"], other["rep"]) == ("ana", "ben")
    path = path_of(link(b, a["id"]))
    page = get_page(b, path)
    assert page.texts("button")[-1] == "Open my inbox"
    before = snapshot(b, mine["id"])
    cookie = open_inbox(b, path, page)
    assert snapshot(b, mine["id"]) == before  # the assignment is untouched
    st, _, who = with_cookie(b, "GET", "/ui/session", cookie)
    assert st == 200 and (who["role"], who["rep"]) == ("rep", "ana"), who
    csrf = who["csrf"]
    assert len(csrf) == 64 and csrf != page.csrf
    # exactly what ana's key sees: her own, not ben's, nothing of an admin's
    for p in ("/v1/reps/ana/assignments?status=pending", "/v1/reps/ana/tasks",
              "/v1/leads/%d" % mine["id"], "/v1/leads/%d/events" % mine["id"],
              "/v1/leads/%d" % bens["id"], "/v1/leads/%d/assignments" % bens["id"],
              "/v1/assignments/%d" % other["id"], "/v1/reps/ben/assignments",
              "/v1/reps", "/v1/deliveries", "/v1/holds", "/v1/reports/speed-to-lead",
              "/v1/leads", "/v1/assignments"):
        by_key = b.get(p, key=ana_key)
        by_cookie = with_cookie(b, "GET", p, cookie)
        assert by_cookie[0] == by_key[0], (p, by_cookie, by_key)
        assert by_cookie[2] == by_key[2], p
    st, _, body = with_cookie(b, "GET", "/v1/leads/%d" % bens["id"], cookie)
    assert_error(st, body, 404, "not_found")
    st, _, body = with_cookie(b, "GET", "/v1/reps", cookie)
    assert st == 403, body
    st, _, body = with_cookie(b, "POST", "/v1/admin/clock", cookie, csrf=csrf,
                              body={"advance_seconds": 1})
    assert st == 403, body
    # a change needs the session's CSRF token, as with a key's session
    st, _, body = with_cookie(b, "POST", "/v1/assignments/%d/accept" % a["id"], cookie)
    assert_error(st, body, 403, "forbidden")
    st, _, body = with_cookie(b, "POST", "/v1/assignments/%d/accept" % other["id"], cookie,
                              csrf=csrf)
    assert_error(st, body, 403, "forbidden")  # as for ana's key: not hers
    assert "not yours" in body["error"]["message"]
    st, _, body = with_cookie(b, "POST", "/v1/assignments/%d/accept" % a["id"], cookie,
                              csrf=csrf)
    assert st == 200, body
    (ev,) = event(b, mine["id"], "assignment.accepted")
    assert ev["actor"] == "link:ana"
    # the session is the rep's, not the assignment's: it outlives the link's page
    get_page(b, path, want=409)
    assert with_cookie(b, "GET", "/ui/session", cookie)[0] == 200
    # signing out ends it
    assert with_cookie(b, "POST", "/ui/logout", cookie, csrf=csrf)[0] == 204
    assert with_cookie(b, "GET", "/ui/session", cookie)[0] == 401


def test_a_link_session_ends_with_its_secret_generation(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    l1 = post(b, 1)
    (a1,) = assignments(b, l1["id"])
    old = path_of(link(b, a1["id"]))
    old_cookie = open_inbox(b, old, get_page(b, old))
    assert run_baton("keys", "rotate-links", "--db", b.db).returncode == 0
    new = path_of(link(b, a1["id"]))
    assert decode(token_of(new))["generation"] == 2
    new_cookie = open_inbox(b, new, get_page(b, new))
    # a rotation keeps generation 1: both sessions go on
    for c in (old_cookie, new_cookie):
        assert with_cookie(b, "GET", "/ui/session", c)[0] == 200
    # generation 1 retired: its sessions end, generation 2's go on
    db = sqlite3.connect(b.db)
    try:
        db.execute("DELETE FROM link_secrets WHERE generation = 1")
        db.commit()
    finally:
        db.close()
    st, _, body = with_cookie(b, "GET", "/v1/reps/ana/assignments", old_cookie)
    assert_error(st, body, 401, "unauthorized")
    assert with_cookie(b, "GET", "/ui/session", old_cookie)[0] == 401
    assert with_cookie(b, "GET", "/v1/reps/ana/assignments", new_cookie)[0] == 200


def test_open_my_inbox_keeps_the_links_rules(baton_factory):
    b = start(baton_factory, CONFIG, clock=T0)
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    path = path_of(link(b, a["id"]))
    page = get_page(b, path)
    token = token_of(path)

    def refused(p, form, want, headers=None):
        st, hl, reply = fetch(b, "POST", p, form=form, headers=headers)
        assert_page(st, hl, reply, want)
        assert "set-cookie" not in dict(hl), hl
        return reply

    # a wrong, missing or repeated csrf; fields the form does not have
    refused(path, [("action", "inbox"), ("csrf", "x" * 43)], 400)
    refused(path, [("action", "inbox")], 400)
    refused(path, [("action", "inbox"), ("csrf", page.csrf), ("csrf", page.csrf)], 400)
    refused(path, [("action", "inbox"), ("csrf", page.csrf), ("reason", "duplicate")], 400)
    refused(path, [("action", "inbox"), ("csrf", page.csrf), ("key", "bt_x")], 400)
    refused(path, [("action", "inbox"), ("action", "inbox"), ("csrf", page.csrf)], 400)
    # another link's csrf
    other = sign(secret(b, 1), a["id"] + 1, "ana", 2 ** 31)
    refused(path, [("action", "inbox"), ("csrf", csrf_of(secret(b, 1), other))], 400)
    # a tampered, made-up or cut link
    refused("/a/" + alter(token, 3), [("action", "inbox"), ("csrf", page.csrf)], 403)
    forged = sign(b"y" * 32, a["id"], "ana", 2 ** 31)
    refused("/a/" + forged, [("action", "inbox"), ("csrf", csrf_of(b"y" * 32, forged))], 403)
    refused("/a/" + token[:-4], [("action", "inbox"), ("csrf", page.csrf)], 403)
    # a link for an unknown generation
    g9 = sign(secret(b, 1), a["id"], "ana", 2 ** 31, generation=9)
    refused("/a/" + g9, [("action", "inbox"), ("csrf", csrf_of(secret(b, 1), g9))], 403)
    # another site's page (login CSRF), by either header
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"},
                    {"Origin": "null"}, {"Origin": "http://127.0.0.1:9.evil.example"},
                    {"Origin": "null", "Sec-Fetch-Site": "same-site"},
                    {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
                    {"Origin": PUBLIC, "Sec-Fetch-Site": "cross-site"},
                    {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"}):
        reply = open_inbox(b, path, page, headers=headers, want=400)
        assert "another site" in reply.message, reply.raw
    # the server's own origins: public_url's, or the address the page came from
    # (the page's no-referrer policy makes a browser post its form with
    # "Origin: null", and Sec-Fetch-Site: same-origin)
    for headers in ({"Origin": PUBLIC}, {"Origin": "http://127.0.0.1:%d" % b.port},
                    {"Sec-Fetch-Site": "same-origin"},
                    {"Origin": "null", "Sec-Fetch-Site": "same-origin"}):
        open_inbox(b, path, page, headers=headers)
    # an expired link
    advance(b, 2 * 3600)
    refused(path, page.hidden(page.form("inbox")), 410)
    # nothing changed for the lead
    assert assignment(b, a["id"])["status"] in ("pending",)


def test_a_link_session_ends_when_its_rep_leaves_the_configuration(baton_factory):
    import signal
    from test_reload import deploy, wait_reload
    b = start(baton_factory, CONFIG, clock=T0)
    (a,) = assignments(b, post(b, 1)["id"])
    (c,) = assignments(b, post(b, 2)["id"])
    assert (a["rep"], c["rep"]) == ("ana", "ben")
    pa, pc = path_of(link(b, a["id"])), path_of(link(b, c["id"]))
    ana_cookie = open_inbox(b, pa, get_page(b, pa))
    ben_cookie = open_inbox(b, pc, get_page(b, pc))
    deploy(b, CONFIG.replace("  - {id: ana, team: emea}\n", "")
           .replace("[ana, ben, cy]", "[ben, cy]"))
    b.proc.send_signal(signal.SIGHUP)
    assert wait_reload(b, 1)["last_reload"]["result"] == "applied"
    st, _, body = with_cookie(b, "GET", "/ui/session", ana_cookie)
    assert_error(st, body, 401, "unauthorized")
    assert with_cookie(b, "GET", "/ui/session", ben_cookie)[0] == 200

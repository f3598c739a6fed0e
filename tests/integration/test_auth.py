"""API keys and roles."""

import os
import stat
import time

from conftest import assert_error
from receivers import WebhookReceiver

LEAD = {"email": "auth@example.com"}


def _seed(baton):
    st, _, body = baton.post_lead(LEAD)
    assert st == 201, body
    return body["lead"]["id"]


def test_no_key(baton):
    lead_id = _seed(baton)
    for method, path, body in (("GET", "/v1/leads", None),
                               ("GET", "/v1/leads/%d" % lead_id, None),
                               ("GET", "/v1/leads/%d/events" % lead_id, None),
                               ("POST", "/v1/leads", {"email": "nokey@example.com"})):
        st, _, resp = baton.request(method, path, body=body, key=None)
        assert_error(st, resp, 401, "unauthorized")
    assert baton.lead_count() == 1


def test_bad_keys(baton):
    _seed(baton)
    bad = ["bt_" + "0" * 64, "nonsense", baton.admin_key + "x", baton.admin_key[:-1]]
    for k in bad:
        st, _, resp = baton.request("GET", "/v1/leads", key=k)
        assert_error(st, resp, 401, "unauthorized")
        st, _, resp = baton.post_lead({"email": "bad@example.com"}, key=k)
        assert_error(st, resp, 401, "unauthorized")
    # not a Bearer credential
    st, _, resp = baton.request("GET", "/v1/leads", key=None,
                                headers={"Authorization": "Basic " + baton.admin_key})
    assert_error(st, resp, 401, "unauthorized")
    assert baton.lead_count() == 1


def test_revoked_key(baton):
    key = baton.create_key("admin", name="temp")
    st, _, _ = baton.request("GET", "/v1/leads", key=key)
    assert st == 200
    key_id = baton.key_id(key)
    r = baton.keys("revoke", "--db", baton.db, str(key_id))
    assert r.returncode == 0, r.stderr
    row = [k for k in baton.key_list() if int(k["id"]) == key_id][0]
    assert row["status"].startswith("revoked")
    st, _, resp = baton.request("GET", "/v1/leads", key=key)
    assert_error(st, resp, 401, "unauthorized")
    st, _, resp = baton.post_lead({"email": "rev@example.com"}, key=key)
    assert_error(st, resp, 401, "unauthorized")
    # other keys still work
    st, _, _ = baton.request("GET", "/v1/leads")
    assert st == 200
    assert baton.lead_count() == 0


def test_query_key_not_for_reads(baton):
    _seed(baton)
    for path in ("/v1/leads?key=" + baton.admin_key, "/v1/leads/1?key=" + baton.admin_key):
        st, _, resp = baton.request("GET", path, key=None)
        assert_error(st, resp, 401, "unauthorized")


def test_ingest_key(baton):
    ingest = baton.create_key("ingest", name="website-form")
    st, _, body = baton.post_lead({"email": "ing@example.com"}, key=ingest)
    assert st == 202 and body == {"accepted": True, "warnings": []}, body
    lead_id = baton.list_leads()[0]["id"]
    for path in ("/v1/leads", "/v1/leads/%d" % lead_id, "/v1/leads/%d/events" % lead_id):
        st, _, resp = baton.request("GET", path, key=ingest)
        assert_error(st, resp, 403, "forbidden")


def test_rep_key(baton):
    lead_id = _seed(baton)
    rep = baton.create_key("rep", rep="alice", name="alice")
    st, _, body = baton.request("GET", "/v1/leads", key=rep)
    assert st == 200, body
    assert body == {"data": [], "next_cursor": None}
    # an owner filter cannot widen a rep's view: another owner is refused
    # (docs/api.md says so), the rep itself is allowed
    st, _, body = baton.request("GET", "/v1/leads?owner=bob", key=rep)
    assert_error(st, body, 403, "forbidden", "owner")
    st, _, body = baton.request("GET", "/v1/leads?owner=alice", key=rep)
    assert st == 200 and body == {"data": [], "next_cursor": None}, body
    st, _, resp = baton.request("GET", "/v1/leads/%d" % lead_id, key=rep)
    assert_error(st, resp, 404, "not_found")
    st, _, resp = baton.request("GET", "/v1/leads/%d/events" % lead_id, key=rep)
    assert_error(st, resp, 404, "not_found")
    st, _, resp = baton.post_lead({"email": "rep@example.com"}, key=rep)
    assert_error(st, resp, 403, "forbidden")
    assert baton.lead_count() == 1


def test_rep_key_needs_rep(baton):
    r = baton.keys("create", "--db", baton.db, "--role", "rep")
    assert r.returncode != 0
    assert r.stdout == ""
    assert "--rep" in r.stderr
    assert len(baton.key_list()) == 1


def test_admin_can_do_everything(baton):
    st, _, body = baton.post_lead({"email": "adm@example.com"})
    assert st == 201
    lead_id = body["lead"]["id"]
    for path in ("/v1/leads", "/v1/leads/%d" % lead_id, "/v1/leads/%d/events" % lead_id):
        st, _, _ = baton.get(path)
        assert st == 200, path
    second = baton.create_key("admin", name="second-admin")
    st, _, body = baton.post_lead({"email": "adm2@example.com"}, key=second)
    assert st == 201
    st, _, body = baton.get("/v1/leads", key=second)
    assert st == 200 and len(body["data"]) == 2


def test_probes_need_no_key(baton):
    st, _, body = baton.request("GET", "/healthz", key=None)
    assert st == 200 and body == {"status": "ok"}
    st, _, body = baton.request("GET", "/readyz", key=None)
    assert st == 200, body
    assert body["status"] == "ready"
    assert isinstance(body["schema_version"], int) and body["schema_version"] >= 1
    assert isinstance(body["config_version"], str) and body["config_version"]
    # a bad key does not hurt either
    st, _, _ = baton.request("GET", "/healthz", key="garbage")
    assert st == 200


def test_admin_key_file(baton):
    mode = stat.S_IMODE(os.stat(baton.key_file).st_mode)
    assert mode == 0o600, oct(mode)
    key = baton.admin_key
    assert key.startswith("bt_")
    rows = baton.key_list()
    assert len(rows) == 1
    row = rows[0]
    assert row["role"] == "admin"
    assert row["status"] == "active"
    assert key.startswith(row["prefix"])
    assert int(row["id"]) == baton.key_id(key)
    # the full key is never listed
    r = baton.keys("list", "--db", baton.db)
    assert key not in r.stdout


# ---- delivery and tasks: a row per endpoint, each caller in order ----

DELIVERY_CONFIG = """\
version: 1
qualification:
  fast_track_when: source == "demo"
teams:
  - {id: emea, manager: mia}
reps:
  - {id: ana, team: emea}
  - {id: ben, team: emea}
  - {id: mia}
pools:
  - {id: inbound, strategy: round_robin, members: [ana]}
routing:
  rules:
    - {name: everyone, to: 'pool:inbound'}
sla:
  policies:
    - {name: standard, accept_within: 30m, contact_within: 1h}
delivery:
  channels:
    - {id: hook, type: webhook, events: [lead.assigned], url: "%s"}
"""


def test_delivery_and_task_endpoints_by_role(baton_factory):
    with WebhookReceiver() as rx:
        rx.always("/hook", 400)
        b = baton_factory(config=DELIVERY_CONFIG % rx.url_for("/hook"), started=False)
        b.start(extra_args=("--manual-clock", "2026-11-24T09:00:00.000Z"))
        st, _, body = b.post_lead({"email": "jane@acme.example", "source": "demo"})
        assert st == 201, body
        rx.wait_for(1, timeout=10, path="/hook")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            st, _, page = b.get("/v1/deliveries?status=dead")
            if page["data"]:
                break
            time.sleep(0.05)
        [msg] = page["data"]
        st, _, tasks = b.get("/v1/reps/ana/tasks")
        [task] = tasks["data"]
        keys = {"admin": b.admin_key, "ingest": b.create_key("ingest"),
                "ana": b.create_key("rep", rep="ana"), "ben": b.create_key("rep", rep="ben"),
                "mia": b.create_key("rep", rep="mia"), "none": None}
        span = {"since": "2026-11-24T00:00:00Z", "until": "2026-11-25T00:00:00Z"}
        ADMIN_ONLY = [("none", 401), ("ingest", 403), ("ana", 403), ("ben", 403), ("mia", 403)]
        rows = [
            ("GET", "/v1/deliveries", None, ADMIN_ONLY + [("admin", 200)]),
            ("GET", "/v1/deliveries/%d" % msg["id"], None, ADMIN_ONLY + [("admin", 200)]),
            ("POST", "/v1/deliveries/%d/retry" % msg["id"], None, ADMIN_ONLY + [("admin", 200)]),
            ("POST", "/v1/deliveries/replay", span, ADMIN_ONLY + [("admin", 200)]),
            ("GET", "/v1/deliveries/channels", None, ADMIN_ONLY + [("admin", 200)]),
            ("POST", "/v1/deliveries/channels/hook/disable", None, ADMIN_ONLY + [("admin", 200)]),
            ("POST", "/v1/deliveries/channels/hook/enable", None, ADMIN_ONLY + [("admin", 200)]),
            # a rep sees its own tasks, a manager its reps', another rep none
            ("GET", "/v1/reps/ana/tasks", None,
             [("none", 401), ("ingest", 403), ("ben", 403), ("ana", 200), ("mia", 200),
              ("admin", 200)]),
            # only the rep itself (or an admin) completes a task; another's is not found
            ("POST", "/v1/tasks/%d/done" % task["id"], None,
             [("none", 401), ("ingest", 403), ("ben", 404), ("mia", 404), ("ana", 200),
              ("admin", 409)]),
        ]
        for method, path, body, expect in rows:
            for who, want in expect:
                st, _, resp = b.request(method, path, body=body, key=keys[who])
                assert st == want, (method, path, who, st, resp)
                if want >= 400:
                    assert_error(st, resp, want, resp["error"]["code"])
                    assert resp["error"]["code"] == {401: "unauthorized", 403: "forbidden",
                                                     404: "not_found", 409: "conflict"}[want]


def test_a_reps_link_session_has_exactly_a_rep_keys_roles(baton_factory):
    """POST /a/{token} action=inbox (test_links.py): the session it makes
    answers every route as the link's rep key does, no more."""
    from test_links import (CONFIG, T0, assignments, get_page, link, open_inbox, path_of,
                            post, start, with_cookie)
    b = start(baton_factory, CONFIG, clock=T0)
    ana = b.create_key("rep", rep="ana")
    mine, bens = post(b, 1), post(b, 2)
    (a,) = assignments(b, mine["id"])
    (other,) = assignments(b, bens["id"])
    path = path_of(link(b, a["id"]))
    cookie = open_inbox(b, path, get_page(b, path))
    csrf = with_cookie(b, "GET", "/ui/session", cookie)[2]["csrf"]
    rows = [
        ("GET", "/v1/reps", None, 403),
        ("GET", "/v1/pools", None, 403),
        ("GET", "/v1/holds", None, 403),
        ("GET", "/v1/deliveries", None, 403),
        ("GET", "/v1/forms", None, 403),
        ("POST", "/v1/admin/clock", {"advance_seconds": 1}, 403),
        ("POST", "/v1/leads/%d/outcome" % mine["id"], {"stage": "won"}, 403),
        ("GET", "/v1/leads/%d" % bens["id"], None, 404),
        ("GET", "/v1/reps/ben/assignments", None, 403),
        ("POST", "/v1/assignments/%d/accept" % other["id"], None, 403),
        ("GET", "/v1/leads/%d" % mine["id"], None, 200),
        ("GET", "/v1/reps/ana", None, 200),
        ("GET", "/v1/reps/ana/tasks", None, 200),
        ("GET", "/v1/reject-reasons", None, 200),
    ]
    for method, p, body, want in rows:
        st_key, _, by_key = b.request(method, p, body=body, key=ana)
        st, _, resp = with_cookie(b, method, p, cookie, csrf=csrf, body=body)
        assert (st, st_key) == (want, want), (method, p, st, resp, st_key, by_key)
        assert resp == by_key, (method, p)
    # the intake routes take no cookie at all, as for a key's session
    st, _, resp = with_cookie(b, "POST", "/v1/leads", cookie, csrf=csrf,
                              body={"email": "x@example.com"})
    assert_error(st, resp, 401, "unauthorized")


def test_import_endpoints_by_role(baton):
    keys = {"admin": baton.admin_key, "ingest": baton.create_key("ingest"),
            "alice": baton.create_key("rep", rep="alice"),
            "bob": baton.create_key("rep", rep="bob"), "none": None}
    leads = {"rows": [{"external_id": "auth-h1", "email": "h1@acme.example",
                       "created_at": "2024-01-02", "converted": "yes"}]}
    acts = {"rows": [{"lead_external_id": "auth-h1", "type": "page_view",
                      "occurred_at": "2024-01-02T10:00:00Z"}]}
    refused = [("none", 401), ("ingest", 403), ("alice", 403), ("bob", 403)]
    for path, body in (("/v1/import/leads", leads), ("/v1/import/activities", acts)):
        for who, want in refused:
            st, _, resp = baton.request("POST", path, body=body, key=keys[who])
            assert_error(st, resp, want, {401: "unauthorized", 403: "forbidden"}[want])
        assert baton.lead_count() == 0 or path.endswith("activities")
        st, _, resp = baton.request("POST", path, body=body, key=keys["admin"])
        assert st == 201, (path, resp)
        assert resp["created"] == 1 and resp["results"] == [{"outcome": "created"}]
        # the same batch again: unchanged
        st, _, resp = baton.request("POST", path, body=body, key=keys["admin"])
        assert st == 200 and resp["unchanged"] == 1, (path, resp)

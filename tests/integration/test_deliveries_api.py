"""The delivery API against the real binary: the outbox listed newest first
with cursors and filters, one message with its context and attempts, an
admin's retry and replay, the channels' breakers with enable and disable,
a rep's tasks and task done (who may see and complete which), the delivery
metrics, and bad input that is refused and changes nothing."""

import re
import time

import pytest

from conftest import assert_error
from receivers import WebhookReceiver
from test_metrics import check_histograms, needs_promtool, parse, promtool_check, scrape, value
from test_routing import post, start

T0 = "2026-11-24T09:00:00.000Z"  # a Tuesday

BASE = """\
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
  - {id: inbound, strategy: round_robin, members: [ana, ben]}
routing:
  rules:
    - {name: everyone, to: 'pool:inbound'}
sla:
  policies:
    - {name: standard, accept_within: 30m, contact_within: 1h}
"""


def hooked(rx):
    return BASE + ("delivery:\n"
                   "  retry: [0s, 1h]\n"
                   "  channels:\n"
                   "    - id: hook\n"
                   "      type: webhook\n"
                   "      events: [lead.assigned]\n"
                   "      url: %s\n" % rx.url_for("/hook"))


def advance(b, seconds):
    st, _, body = b.request("POST", "/v1/admin/clock", body={"advance_seconds": seconds})
    assert st == 200, body
    return body


def deliveries(b, query=""):
    st, _, body = b.get("/v1/deliveries" + ("?" + query if query else ""))
    assert st == 200, body
    return body


def wait_status(b, status, n, query=""):
    """The messages with `status` once there are n of them (bounded wait)."""
    q = "status=%s" % status + ("&" + query if query else "")
    deadline = time.monotonic() + 10
    while True:
        rows = deliveries(b, q)["data"]
        if len(rows) >= n or time.monotonic() > deadline:
            assert len(rows) == n, rows
            return rows
        time.sleep(0.05)


def channel(b, cid="hook"):
    st, _, body = b.get("/v1/deliveries/channels")
    assert st == 200, body
    return [c for c in body["data"] if c["id"] == cid][0]


def outbox_state(b):
    """Everything an admin sees of the outbox, for nothing-changed checks."""
    return deliveries(b, "limit=500")["data"], channel(b)


# ---- the outbox ----

def test_list_newest_first_with_cursor_filters_and_detail(baton_factory):
    with WebhookReceiver() as rx:
        b = start(baton_factory, hooked(rx), clock=T0)
        leads = [post(b, n) for n in range(3)]
        rx.wait_for(3, timeout=10, path="/hook")
        rows = wait_status(b, "delivered", 3)
        assert [r["lead"] for r in rows] == [l["id"] for l in reversed(leads)]
        ids = [r["id"] for r in rows]
        assert ids == sorted(ids, reverse=True)
        r = rows[0]
        assert r["channel"] == "hook" and r["event_type"] == "lead.assigned"
        assert re.fullmatch(r"msg_[0-9a-f]{26}", r["uid"])
        assert r["attempts"] == 1 and r["last_status"] == 200 and r["last_error"] is None
        assert r["recipient"] is None and r["next_attempt_at"] is None
        assert r["created_at"] == T0 and r["delivered_at"] is not None
        assert isinstance(r["event_id"], int)
        assert "payload" not in r
        # pages of 2: the cursor is the last id
        page = deliveries(b, "limit=2")
        assert [x["id"] for x in page["data"]] == ids[:2] and page["next_cursor"] == str(ids[1])
        rest = deliveries(b, "limit=2&cursor=" + page["next_cursor"])
        assert [x["id"] for x in rest["data"]] == ids[2:] and rest["next_cursor"] is None
        # filters
        assert [x["id"] for x in deliveries(b, "lead=%d" % leads[1]["id"])["data"]] == [ids[1]]
        assert len(deliveries(b, "channel=hook")["data"]) == 3
        assert deliveries(b, "channel=gone")["data"] == []
        assert deliveries(b, "status=dead")["data"] == []
        assert deliveries(b, "lead=999999")["data"] == []
        # one: the context and its attempts
        st, _, one = b.get("/v1/deliveries/%d" % ids[0])
        assert st == 200, one
        assert one["id"] == ids[0] and one["status"] == "delivered"
        assert one["payload"]["type"] == "lead.assigned"
        assert one["payload"]["lead"]["id"] == leads[2]["id"]
        [a] = one["attempts"]
        assert a["status"] == 200 and a["verdict"] == "delivered" and a["error"] is None
        assert a["latency_ms"] >= 0 and a["at"] == T0
        # a delivered message is not retried
        st, _, body = b.request("POST", "/v1/deliveries/%d/retry" % ids[0])
        assert_error(st, body, 409, "conflict", "id")
        time.sleep(0.3)
        assert len(rx.requests("/hook")) == 3


def test_retry_sends_a_dead_message_again(baton_factory):
    with WebhookReceiver() as rx:
        rx.always("/hook", 400)
        b = start(baton_factory, hooked(rx), clock=T0)
        post(b, 1)
        rx.wait_for(1, timeout=10, path="/hook")
        [dead] = wait_status(b, "dead", 1)
        assert dead["last_status"] == 400 and dead["attempts"] == 1
        rx.respond("/hook", 200)
        st, _, body = b.request("POST", "/v1/deliveries/%d/retry" % dead["id"], body={})
        assert st == 200, body
        assert body["id"] == dead["id"] and body["status"] == "failed"
        assert body["next_attempt_at"] == T0
        reqs = rx.wait_for(2, timeout=10, path="/hook")
        first, again = reqs[0], reqs[1]
        assert again.headers["webhook-id"] == first.headers["webhook-id"] == dead["uid"]
        wait_status(b, "delivered", 1)
        st, _, one = b.get("/v1/deliveries/%d" % dead["id"])
        assert [a["status"] for a in one["attempts"]] == [400, 200]
        assert [a["verdict"] for a in one["attempts"]] == ["permanent", "delivered"]


def test_replay_a_span_by_status_and_channel(baton_factory):
    with WebhookReceiver() as rx:
        rx.always("/hook", 400)
        b = start(baton_factory, hooked(rx), clock=T0)
        post(b, 1)
        post(b, 2)
        rx.wait_for(2, timeout=10, path="/hook")
        wait_status(b, "dead", 2)
        span = {"since": "2026-11-24T00:00:00Z", "until": "2026-11-25T00:00:00Z"}
        # outside the span, or statuses that match none: nothing
        for body in ({"since": "2026-11-25T00:00:00Z", "until": "2026-11-26T00:00:00Z"},
                     dict(span, statuses=["failed", "pending"]),
                     dict(span, statuses=["held"], channel="hook")):
            st, _, out = b.request("POST", "/v1/deliveries/replay", body=body)
            assert st == 200 and out == {"replayed": 0}, (body, out)
        rx.respond("/hook", 200)
        st, _, out = b.request("POST", "/v1/deliveries/replay",
                               body=dict(span, channel="hook", statuses=["dead", "dead"]))
        assert st == 200 and out == {"replayed": 2}, out
        wait_status(b, "delivered", 2)
        # a delivered message is never replayed
        st, _, out = b.request("POST", "/v1/deliveries/replay", body=span)
        assert st == 200 and out == {"replayed": 0}, out


def test_disable_holds_and_enable_sends(baton_factory):
    with WebhookReceiver() as rx:
        b = start(baton_factory, hooked(rx), clock=T0)
        c = channel(b)
        assert c == {"id": "hook", "type": "webhook", "state": "active", "failures": 0,
                     "failing_since": None, "next_probe_at": None, "changed_at": None,
                     "reason": None, "counts": {"pending": 0, "failed": 0, "dead": 0, "held": 0},
                     "oldest_waiting": None}
        st, _, body = b.request("POST", "/v1/deliveries/channels/hook/disable")
        assert st == 200 and body == {"channel": "hook", "state": "disabled", "messages": 0}, body
        post(b, 1)
        post(b, 2)
        wait_status(b, "held", 2)
        c = channel(b)
        assert c["state"] == "disabled" and c["counts"]["held"] == 2 and c["changed_at"] == T0
        assert c["reason"].startswith("disabled by key:")
        samples, _ = parse(scrape(b, key=None))
        assert value(samples, "baton_delivery_channel_state", channel="hook", state="disabled") == 1
        assert value(samples, "baton_delivery_channel_state", channel="hook", state="active") == 0
        assert value(samples, "baton_outbox_messages", channel="hook", status="held") == 2
        time.sleep(0.3)
        assert rx.requests("/hook") == []
        st, _, body = b.request("POST", "/v1/deliveries/channels/hook/enable", body={})
        assert st == 200 and body == {"channel": "hook", "state": "active", "messages": 2}, body
        rx.wait_for(2, timeout=10, path="/hook")
        wait_status(b, "delivered", 2)
        c = channel(b)
        assert c["state"] == "active" and c["counts"]["held"] == 0
        # unknown channels
        for path in ("/v1/deliveries/channels/nope/enable", "/v1/deliveries/channels/nope/disable",
                     "/v1/deliveries/channels/" + "x" * 300 + "/enable"):
            st, _, body = b.request("POST", path)
            assert_error(st, body, 404, "not_found", "id")


def test_an_undeliverable_message_shows_why(baton_factory):
    cfg = BASE + ("delivery:\n"
                  "  smtp: {url: \"smtp://127.0.0.1:9\", from: baton@example.com}\n"
                  "  channels:\n"
                  "    - {id: mail, type: email, events: [lead.assigned], to: rep}\n")
    b = start(baton_factory, cfg, clock=T0)
    post(b, 1)
    [row] = deliveries(b, "status=dead")["data"]
    assert row["channel"] == "mail" and row["attempts"] == 1 and row["recipient"] is None
    assert row["last_error"] == "the rep has no email address" and row["last_status"] is None
    st, _, one = b.get("/v1/deliveries/%d" % row["id"])
    assert st == 200, one
    [a] = one["attempts"]
    assert a["verdict"] == "undeliverable" and a["status"] is None
    assert a["error"] == "the rep has no email address" and a["response"] is None
    samples, _ = parse(scrape(b, key=None))
    assert value(samples, "baton_deliveries_undeliverable_total") == 1
    assert value(samples, "baton_outbox_messages", channel="mail", status="dead") == 1


def test_without_channels_the_lists_are_empty(baton_factory):
    b = start(baton_factory, BASE, clock=T0)
    post(b, 1)
    assert deliveries(b) == {"data": [], "next_cursor": None}
    st, _, body = b.get("/v1/deliveries/channels")
    assert st == 200 and body == {"data": []}
    st, _, body = b.request("POST", "/v1/deliveries/replay",
                            body={"since": "2026-11-24T00:00:00Z", "until": "2026-11-25T00:00:00Z"})
    assert st == 200 and body == {"replayed": 0}
    for method, path in (("GET", "/v1/deliveries/1"), ("POST", "/v1/deliveries/1/retry"),
                         ("GET", "/v1/deliveries/abc"), ("POST", "/v1/deliveries/abc/retry"),
                         ("GET", "/v1/deliveries/0"), ("GET", "/v1/deliveries/" + "9" * 40),
                         ("POST", "/v1/deliveries/channels/hook/enable")):
        st, _, body = b.request(method, path)
        assert_error(st, body, 404, "not_found", "id")


# ---- bad input ----

SPAN = {"since": "2026-11-24T00:00:00Z", "until": "2026-11-25T00:00:00Z"}


@pytest.mark.parametrize("body, field", [
    ({"until": SPAN["until"]}, "since"),
    ({"since": SPAN["since"]}, "until"),
    ({}, "since"),
    (dict(SPAN, since=5), "since"),
    (dict(SPAN, since=None), "since"),
    (dict(SPAN, since="yesterday"), "since"),
    (dict(SPAN, since="2026-11-24"), "since"),
    (dict(SPAN, until="2026-02-30T00:00:00Z"), "until"),
    (dict(SPAN, until=SPAN["since"]), "until"),
    (dict(SPAN, since=SPAN["until"], until=SPAN["since"]), "until"),
    (dict(SPAN, channel="nope"), "channel"),
    (dict(SPAN, channel="Bad Id"), "channel"),
    (dict(SPAN, channel=7), "channel"),
    (dict(SPAN, statuses="dead"), "statuses"),
    (dict(SPAN, statuses=[]), "statuses"),
    (dict(SPAN, statuses=["delivered"]), "statuses"),
    (dict(SPAN, statuses=["dead", 1]), "statuses"),
    (dict(SPAN, extra=1), "extra"),
])
def test_replay_bad_bodies(baton_factory, body, field):
    with WebhookReceiver() as rx:
        rx.always("/hook", 400)
        b = start(baton_factory, hooked(rx), clock=T0)
        post(b, 1)
        wait_status(b, "dead", 1)
        before = outbox_state(b)
        st, _, out = b.request("POST", "/v1/deliveries/replay", body=body)
        assert_error(st, out, 422, "invalid", field)
        assert outbox_state(b) == before


def test_bad_requests_change_nothing(baton_factory):
    with WebhookReceiver() as rx:
        rx.always("/hook", 400)
        b = start(baton_factory, hooked(rx), clock=T0)
        post(b, 1)
        [dead] = wait_status(b, "dead", 1)
        before = outbox_state(b)
        retry = "/v1/deliveries/%d/retry" % dead["id"]
        for method, path, body, ctype, want, code, field in (
            ("POST", "/v1/deliveries/replay", b'{"since": ', "application/json", 400, "malformed", None),
            ("POST", "/v1/deliveries/replay", b"", "application/json", 400, "malformed", None),
            ("POST", "/v1/deliveries/replay", [SPAN], "application/json", 422, "invalid", None),
            ("POST", "/v1/deliveries/replay", SPAN, "text/plain", 415, "unsupported_media_type",
             "Content-Type"),
            ("POST", "/v1/deliveries/replay", None, None, 415, "unsupported_media_type",
             "Content-Type"),
            ("POST", "/v1/deliveries/replay",
             b'{"since": "2026-11-24T00:00:00Z", "since": "2026-11-24T00:00:00Z"}',
             "application/json", 400, "malformed", None),
            ("POST", retry, b"{", "application/json", 400, "malformed", None),
            ("POST", retry, {"now": True}, "application/json", 422, "invalid", "now"),
            ("POST", retry, [], "application/json", 422, "invalid", None),
            ("POST", retry, "text", "text/plain", 415, "unsupported_media_type", "Content-Type"),
            ("POST", "/v1/deliveries/channels/hook/disable", {"why": "x"}, "application/json",
             422, "invalid", "why"),
            ("POST", "/v1/deliveries/channels/hook/enable", b"[", "application/json", 400,
             "malformed", None),
            ("GET", "/v1/deliveries?status=sent", None, None, 400, "invalid", "status"),
            ("GET", "/v1/deliveries?limit=0", None, None, 400, "invalid", "limit"),
            ("GET", "/v1/deliveries?limit=501", None, None, 400, "invalid", "limit"),
            ("GET", "/v1/deliveries?cursor=abc", None, None, 400, "invalid", "cursor"),
            ("GET", "/v1/deliveries?cursor=0", None, None, 400, "invalid", "cursor"),
            ("GET", "/v1/deliveries?lead=x", None, None, 400, "invalid", "lead"),
            ("GET", "/v1/deliveries?channel=Hook!", None, None, 400, "invalid", "channel"),
            ("GET", "/v1/deliveries?channel=" + "h" * 65, None, None, 400, "invalid", "channel"),
            ("GET", "/v1/deliveries?payload=1", None, None, 400, "invalid", "payload"),
            ("GET", "/v1/deliveries?status=dead&status=held", None, None, 400, "invalid",
             "status"),
            ("GET", "/v1/deliveries/channels?all=1", None, None, 400, "invalid", "all"),
            ("PUT", "/v1/deliveries/%d" % dead["id"], None, None, 405, "method_not_allowed",
             None),
            ("GET", "/v1/deliveries/replay", None, None, 405, "method_not_allowed", None),
            ("POST", "/v1/deliveries/channels", SPAN, "application/json", 405,
             "method_not_allowed", None),
        ):
            st, _, out = b.request(method, path, body=body, content_type=ctype)
            assert_error(st, out, want, code, field)
            assert outbox_state(b) == before, (method, path)
        assert len(rx.requests("/hook")) == 1


# ---- tasks ----

def task_list(b, rep, query="", key=None):
    kw = {} if key is None else {"key": key}
    st, _, body = b.get("/v1/reps/%s/tasks%s" % (rep, "?" + query if query else ""), **kw)
    assert st == 200, body
    return body


def test_tasks_seen_by_the_rep_its_manager_and_admins(baton_factory):
    b = start(baton_factory, BASE, clock=T0)
    for n in range(5):
        post(b, n, first_name="Jo%d" % n, company="Acme")  # round robin: ana, ben, ana, ...
    ana = b.create_key("rep", rep="ana")
    ben = b.create_key("rep", rep="ben")
    mia = b.create_key("rep", rep="mia")
    mine = task_list(b, "ana", key=ana)
    assert len(mine["data"]) == 3 and mine["next_offset"] is None
    t = mine["data"][0]
    assert t["rep"] == "ana" and t["kind"] == "contact" and t["title"].startswith("Call Jo0 (Acme)")
    assert t["due_at"] == "2026-11-24T09:30:00.000Z" and t["overdue"] is False
    assert t["done_at"] is None and t["done_by"] is None and isinstance(t["assignment"], int)
    assert t["starts_at"] is None and t["ends_at"] is None and t["created_at"] == T0
    # the manager and admins see them all; another rep does not
    assert task_list(b, "ana", key=mia) == mine
    assert task_list(b, "ana") == mine
    st, _, body = b.get("/v1/reps/ana/tasks", key=ben)
    assert_error(st, body, 403, "forbidden", "id")
    st, _, body = b.get("/v1/reps/nobody/tasks", key=ana)
    assert_error(st, body, 403, "forbidden", "id")
    st, _, body = b.get("/v1/reps/nobody/tasks")
    assert_error(st, body, 404, "not_found", "id")
    # pages by offset
    p1 = task_list(b, "ana", "limit=2")
    assert p1["data"] == mine["data"][:2] and p1["next_offset"] == 2
    p2 = task_list(b, "ana", "limit=2&offset=2")
    assert p2["data"] == mine["data"][2:] and p2["next_offset"] is None
    assert task_list(b, "ana", "offset=10")["data"] == []
    # overdue once due_at has passed: the accepted one stays open past it
    st, _, body = b.request("POST", "/v1/assignments/%d/accept" % t["assignment"], key=ana)
    assert st == 200, body
    advance(b, 20 * 60)
    assert [x["overdue"] for x in task_list(b, "ana")["data"]] == [False] * 3
    advance(b, 11 * 60)  # 09:31: the others expired and went on; this one is late
    now = task_list(b, "ana")["data"]
    assert [x["overdue"] for x in now if x["id"] == t["id"]] == [True]
    assert all(not x["overdue"] for x in now if x["id"] != t["id"])


def test_task_done_records_the_contact(baton_factory):
    b = start(baton_factory, BASE, clock=T0)
    lead = post(b, 1)
    ana = b.create_key("rep", rep="ana")
    ben = b.create_key("rep", rep="ben")
    mia = b.create_key("rep", rep="mia")
    [t] = task_list(b, "ana")["data"]
    done = "/v1/tasks/%d/done" % t["id"]
    # another rep, even its manager, cannot complete it: not found
    for key in (ben, mia):
        st, _, body = b.request("POST", done, key=key)
        assert_error(st, body, 404, "not_found", "id")
    st, _, body = b.request("POST", done, key=ana, body={"note": "x"})
    assert_error(st, body, 422, "invalid", "note")
    assert task_list(b, "ana")["data"] == [t]
    advance(b, 60)
    st, _, body = b.request("POST", done, key=ana)
    assert st == 200, body
    assert body["contacted"] is True
    task = body["task"]
    assert task["id"] == t["id"] and task["done_at"] == "2026-11-24T09:01:00.000Z"
    assert task["overdue"] is False and task["done_by"]
    st, _, asg = b.get("/v1/leads/%d/assignments" % lead["id"])
    assert asg["data"][0]["status"] == "contacted"
    assert task_list(b, "ana")["data"] == []
    assert [x["id"] for x in task_list(b, "ana", "status=done")["data"]] == [t["id"]]
    # twice: a conflict, for the rep and for an admin
    for key in (ana, None):
        kw = {} if key is None else {"key": key}
        st, _, body = b.request("POST", done, **kw)
        assert_error(st, body, 409, "conflict", "id")
    for path in ("/v1/tasks/999/done", "/v1/tasks/abc/done", "/v1/tasks/0/done",
                 "/v1/tasks/" + "1" * 30 + "/done"):
        st, _, body = b.request("POST", path)
        assert_error(st, body, 404, "not_found", "id")


def test_task_bad_queries(baton_factory):
    b = start(baton_factory, BASE, clock=T0)
    for query, field in (("status=closed", "status"), ("limit=0", "limit"),
                         ("limit=501", "limit"), ("offset=-1", "offset"),
                         ("offset=100001", "offset"), ("offset=x", "offset"),
                         ("cursor=1", "cursor")):
        st, _, body = b.get("/v1/reps/ana/tasks?" + query)
        assert_error(st, body, 400, "invalid", field)


# ---- metrics ----

@needs_promtool
def test_delivery_metrics(baton_factory):
    with WebhookReceiver() as rx:
        rx.fail_first("/hook", 1, status=503)
        b = start(baton_factory, hooked(rx), clock=T0)
        samples, _ = parse(scrape(b, key=None))
        # configured channels are there from the start
        for status in ("pending", "failed", "dead", "held"):
            assert ("baton_outbox_messages",
                    frozenset({("channel", "hook"), ("status", status)})) in samples
        assert value(samples, "baton_delivery_channel_state", channel="hook", state="active") == 1
        assert value(samples, "baton_deliveries_total", channel="hook", verdict="retry") == 0
        post(b, 1)
        rx.wait_for(1, timeout=10, path="/hook")
        wait_status(b, "failed", 1)
        advance(b, 90)
        samples, _ = parse(scrape(b, key=None))
        assert value(samples, "baton_outbox_messages", channel="hook", status="failed") == 1
        assert value(samples, "baton_outbox_oldest_waiting_seconds", channel="hook") == 90
        st, _, body = b.request("POST", "/v1/deliveries/replay",
                                body=dict(SPAN, statuses=["failed"]))
        assert st == 200 and body == {"replayed": 1}
        rx.wait_for(2, timeout=10, path="/hook")
        wait_status(b, "delivered", 1)
        text = scrape(b, key=None)
        promtool_check(text)
        samples, types = parse(text)
        check_histograms(samples, types)
        assert value(samples, "baton_deliveries_total", channel="hook", verdict="retry") == 1
        assert value(samples, "baton_deliveries_total", channel="hook", verdict="delivered") == 1
        assert value(samples, "baton_delivery_duration_seconds_count", channel="hook") == 2
        assert value(samples, "baton_outbox_messages", channel="hook", status="failed") == 0
        assert value(samples, "baton_outbox_oldest_waiting_seconds", channel="hook") == 0
        assert types["baton_outbox_messages"] == "gauge"
        assert types["baton_deliveries_total"] == "counter"
        assert types["baton_delivery_duration_seconds"] == "histogram"
        assert ("baton_deliveries_undeliverable_total", frozenset()) in samples
        assert ("baton_delivery_channel_changes_total", frozenset()) in samples
        # no message ids or addresses in labels
        assert "msg_" not in text and "127.0.0.1" not in text

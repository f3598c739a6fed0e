"""The handoff against the real binary: assignments with SLA clocks, the
rep's actions (accept, reject, contacted), a manager's (reassign, withdraw),
reminders, breach chains and re-routing driven by the manual clock, races
between accept and expiry, and deadlines across a kill -9."""

import json
import signal
import threading
import time

from conftest import assert_error
from test_routing import post, start

BASE = """\
version: 1
scoring:
  fit:
    - {name: Enterprise, when: "employees >= 1000", points: 50}
qualification:
  fast_track_when: source == "demo"
teams:
  - {id: emea, manager: mia}
reps:
  - {id: ana, team: emea}
  - {id: ben, team: emea}
  - {id: cy, team: emea}
  - {id: mia}
  - {id: otto}
pools:
  - {id: inbound, strategy: round_robin, members: [ana, ben, cy]}
  - {id: overflow, strategy: round_robin, members: [mia]}
routing:
  rules:
    - {name: everyone, to: 'pool:inbound'}
"""

SLA = """\
sla:
  policies:
    - name: hot
      when: employees >= 1000
      accept_within: 5m
      contact_within: 10m
      reminders: [50%, 80%]
      on_breach: [notify_manager, reassign]
      max_attempts: 2
      after_max_attempts: pool:overflow
      exclude_last: 1
    - name: standard
      accept_within: 1h
      contact_within: 24h
"""

CONFIG = BASE + SLA
T0 = "2026-11-24T09:00:00.000Z"  # a Tuesday


def advance(b, seconds):
    st, _, body = b.request("POST", "/v1/admin/clock", body={"advance_seconds": seconds})
    assert st == 200, body
    return body


def assignments(b, lead_id, key=None):
    kw = {} if key is None else {"key": key}
    st, _, body = b.get("/v1/leads/%d/assignments" % lead_id, **kw)
    assert st == 200, body
    return body["data"]


def live(b, lead_id):
    rows = [a for a in assignments(b, lead_id) if a["closed_at"] is None]
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


ADMIN = object()


def act(b, aid, action, key=ADMIN, **body):
    kw = {} if key is ADMIN else {"key": key}
    return b.request("POST", "/v1/assignments/%d/%s" % (aid, action), body=body or None, **kw)


def types(b, lead_id):
    return [e["type"] for e in b.events(lead_id)]


def event(b, lead_id, type_):
    evs = [e for e in b.events(lead_id) if e["type"] == type_]
    return evs


def test_accept_in_time_starts_the_contact_clock(baton_factory):
    b = start(baton_factory, CONFIG)
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    assert (a["rep"], a["status"], a["attempt"], a["policy"], a["clock"]) == \
        ("ana", "pending", 1, "standard", "wall")
    assert a["assigned_at"] == T0 and a["accept_by"] == "2026-11-24T10:00:00.000Z"
    assert a["deadline"] == "accept" and a["time_left_seconds"] == 3600
    # the decision record says which policy and when
    st, _, d = b.get("/v1/leads/%d/decision" % l["id"])
    assert d["sla"] == {"policy": "standard", "clock": "wall", "accept_within_seconds": 3600,
                        "accept_by": "2026-11-24T10:00:00.000Z"}
    advance(b, 600)
    st, _, body = act(b, a["id"], "accept")
    assert st == 200, body
    assert body["status"] == "accepted" and body["lead_stage"] == "accepted"
    assert body["accepted_at"] == "2026-11-24T09:10:00.000Z"
    assert body["contact_by"] == "2026-11-25T09:10:00.000Z" and body["deadline"] == "contact"
    st, _, lead = b.get("/v1/leads/%d" % l["id"])
    assert lead["stage"] == "accepted" and lead["owner"] == "ana"
    (ev,) = event(b, l["id"], "assignment.accepted")
    assert ev["data"]["seconds_to_accept"] == 600 and ev["data"]["rep"] == "ana"
    # the hour passes: nothing expires any more
    clock = advance(b, 3600)
    assert live(b, l["id"])["status"] == "accepted"
    assert not event(b, l["id"], "assignment.expired")
    # twice: a 409 that says what happened, never a silent success
    st, _, body = act(b, a["id"], "accept")
    assert_error(st, body, 409, "conflict", "status")
    assert "was accepted at 2026-11-24T09:10:00.000Z" in body["error"]["message"]
    # the first contact stops the contact clock and splits speed-to-lead
    st, _, body = act(b, a["id"], "contacted")
    assert st == 200 and body["status"] == "contacted" and body["deadline"] is None, body
    (ev,) = event(b, l["id"], "assignment.contacted")
    assert ev["data"]["speed_to_lead"] == {"system_seconds": 0, "accept_seconds": 600,
                                           "contact_seconds": 3600}
    advance(b, 2 * 86400)
    assert not event(b, l["id"], "assignment.contact_breached")


def test_reminders_expiry_next_rep_then_fallback(baton_factory):
    b = start(baton_factory, CONFIG)
    l = post(b, 1, employees=5000)
    (a1,) = assignments(b, l["id"])
    assert (a1["rep"], a1["policy"], a1["accept_by"]) == ("ana", "hot", "2026-11-24T09:05:00.000Z")
    clock = advance(b, 600)
    assert clock["assignments_due"] >= 4
    rows = assignments(b, l["id"])
    assert [(r["rep"], r["status"], r["attempt"]) for r in rows] == \
        [("ana", "expired", 1), ("ben", "expired", 2), ("mia", "pending", 3)], rows
    assert rows[0]["next"] == "ben" and rows[1]["next"] == "mia"
    # ben's clock started when he got it, at 09:05; after max_attempts the
    # lead went to the fallback pool at 09:10
    assert rows[1]["assigned_at"] == "2026-11-24T09:05:00.000Z"
    assert rows[2]["assigned_at"] == "2026-11-24T09:10:00.000Z"
    assert rows[2]["policy"] == "hot"
    reminded = event(b, l["id"], "assignment.reminded")
    # at 50 % and 80 % of each five-minute window, to the second
    assert [(e["at"], e["data"]["rep"], e["data"]["reminder"]) for e in reminded] == [
        ("2026-11-24T09:02:30.000Z", "ana", 1), ("2026-11-24T09:04:00.000Z", "ana", 2),
        ("2026-11-24T09:07:30.000Z", "ben", 1), ("2026-11-24T09:09:00.000Z", "ben", 2)]
    assert reminded[0]["data"]["seconds_left"] == 150
    expired = event(b, l["id"], "assignment.expired")
    assert [(e["at"], e["data"]["rep"], e["data"]["next"]) for e in expired] == [
        ("2026-11-24T09:05:00.000Z", "ana", "ben"), ("2026-11-24T09:10:00.000Z", "ben", "mia")]
    assert expired[0]["data"]["exclude"] == ["ana"]
    assert expired[1]["data"]["max_attempts_reached"] is True
    escalated = event(b, l["id"], "assignment.escalated")
    assert [e["data"]["manager"] for e in escalated] == ["mia", "mia"]
    # the rep that let it expire is never offered it again
    st, _, x = b.get("/v1/leads/%d/exclusions" % l["id"])
    assert {e["rep"] for e in x["data"]} == {"ana", "ben"}
    # acting on the expired one: a 409 naming what happened
    st, _, body = act(b, a1["id"], "accept")
    assert_error(st, body, 409, "conflict", "status")
    assert "expired at 2026-11-24T09:05:00.000Z" in body["error"]["message"]
    assert "reassigned to ben" in body["error"]["message"]
    # open assignments per rep follow the lead
    st, _, ana = b.get("/v1/reps/ana")
    st, _, mia = b.get("/v1/reps/mia")
    assert ana["open"] == 0 and mia["open"] == 1


def test_reject_with_each_kind_of_reason(baton_factory):
    b = start(baton_factory, CONFIG)
    st, _, reasons = b.get("/v1/reject-reasons")
    assert st == 200
    actions = {r["id"]: r["action"] for r in reasons["data"]}
    assert actions["wrong_territory"] == "reroute" and actions["not_a_fit"] == "recycle"
    assert actions["duplicate"] == "disqualify"

    l1, l2, l3 = post(b, 1), post(b, 2), post(b, 3)
    a1, a2, a3 = (assignments(b, l["id"])[0] for l in (l1, l2, l3))
    # reroute: the next rep, never the one that rejected
    st, _, body = act(b, a1["id"], "reject", reason="wrong_territory", note="Austria, not Germany")
    assert st == 200, body
    assert body["status"] == "rejected" and body["close_reason"] == "wrong_territory"
    assert body["note"] == "Austria, not Germany" and body["next"] != a1["rep"]
    assert live(b, l1["id"])["rep"] == body["next"]
    # recycle: back to marketing, with an event for it
    st, _, body = act(b, a2["id"], "reject", reason="not_a_fit")
    assert st == 200 and body["lead_stage"] == "recycled" and body["next"] == "recycled", body
    (rec,) = event(b, l2["id"], "lead.recycled")
    assert rec["data"]["rep"] == a2["rep"] and rec["data"]["reason"] == "not_a_fit"
    assert live(b, l2["id"]) is None
    # disqualify
    st, _, body = act(b, a3["id"], "reject", reason="duplicate")
    assert st == 200 and body["lead_stage"] == "disqualified", body
    st, _, lead = b.get("/v1/leads/%d" % l3["id"])
    assert lead["stage"] == "disqualified" and lead["owner"] is None


def test_reject_needs_a_known_reason_and_changes_nothing_otherwise(baton_factory):
    b = start(baton_factory, CONFIG)
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    before = types(b, l["id"])
    for body, field in (({}, "reason"), ({"reason": "bored"}, "reason"),
                        ({"reason": 7}, "reason"), ({"reason": "duplicate", "note": "x" * 1001}, "note"),
                        ({"reason": "duplicate", "colour": "red"}, "colour")):
        st, _, resp = b.request("POST", "/v1/assignments/%d/reject" % a["id"], body=body)
        assert_error(st, resp, 422, "invalid", field)
    st, _, resp = b.request("POST", "/v1/assignments/%d/reject" % a["id"], body='{"reason": ')
    assert_error(st, resp, 400, "malformed")
    st, _, resp = b.request("POST", "/v1/assignments/%d/reject" % a["id"],
                            body=b'{"reason": "dup\xff"}')
    assert st in (400, 422), resp
    st, _, resp = b.request("POST", "/v1/assignments/%d/accept" % a["id"], body={"fast": True})
    assert_error(st, resp, 422, "invalid", "fast")
    for aid in (999, 0, -1):
        st, _, resp = b.request("POST", "/v1/assignments/%d/accept" % aid)
        assert_error(st, resp, 404, "not_found", "id")
    st, _, resp = b.request("POST", "/v1/assignments/abc/accept")
    assert st == 404
    assert types(b, l["id"]) == before
    assert live(b, l["id"])["status"] == "pending"


def test_who_may_act(baton_factory):
    b = start(baton_factory, CONFIG)
    ana, ben, mia = (b.create_key("rep", rep=r) for r in ("ana", "ben", "mia"))
    ingest = b.create_key("ingest")
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    assert a["rep"] == "ana"
    path = "/v1/assignments/%d" % a["id"]
    # reads: the rep, its manager and admins; another rep sees nothing
    for key, want in ((ana, 200), (mia, 200), (ben, 404), (ingest, 403), (None, 401)):
        st, _, body = b.request("GET", path, key=key)
        assert st == want, (key, body)
    for key, want in ((ana, 200), (ben, 404), (ingest, 403), (None, 401)):
        st, _, body = b.request("GET", "/v1/leads/%d/assignments" % l["id"], key=key)
        assert st == want, (key, body)
    for key, want in ((ana, 200), (mia, 200), (ben, 403), (ingest, 403), (None, 401)):
        st, _, body = b.request("GET", "/v1/reps/ana/assignments?status=pending", key=key)
        assert st == want, (key, body)
    st, _, body = b.request("GET", "/v1/assignments?status=open", key=ben)
    assert st == 200 and body["data"] == []
    st, _, body = b.request("GET", "/v1/assignments?status=open", key=mia)
    assert st == 200 and [x["id"] for x in body["data"]] == [a["id"]]
    st, _, body = b.request("GET", "/v1/assignments?rep=ana", key=ben)
    assert_error(st, body, 403, "forbidden")
    for key, want in ((ana, 200), (ingest, 403), (None, 401)):
        st, _, body = b.request("GET", "/v1/reject-reasons", key=key)
        assert st == want, body
    # actions: another rep's key is a 403, and nothing happens
    for action, body in (("accept", None), ("reject", {"reason": "duplicate"}),
                         ("contacted", None), ("reassign", {"to": "ben"}), ("withdraw", None)):
        st, _, resp = act(b, a["id"], action, key=ben, **(body or {}))
        assert_error(st, resp, 403, "forbidden")
        st, _, resp = act(b, a["id"], action, key=ingest, **(body or {}))
        assert_error(st, resp, 403, "forbidden")
        st, _, resp = act(b, a["id"], action, key=None, **(body or {}))
        assert_error(st, resp, 401, "unauthorized")
    # a rep does not reassign its own; its manager does
    st, _, resp = act(b, a["id"], "reassign", key=ana, to="ben")
    assert_error(st, resp, 403, "forbidden")
    assert live(b, l["id"])["rep"] == "ana"
    st, _, resp = act(b, a["id"], "reassign", key=mia, to="cy", reason="speaks Spanish")
    assert st == 200 and resp["status"] == "reassigned" and resp["next"] == "cy", resp
    now = live(b, l["id"])
    assert now["rep"] == "cy" and now["attempt"] == 2 and now["policy"] == "standard"
    (ev,) = event(b, l["id"], "assignment.reassigned")
    assert ev["data"]["to"] == "cy" and ev["reason"] == "speaks Spanish"
    # the rep's own key accepts its own
    cy = b.create_key("rep", rep="cy")
    st, _, resp = act(b, now["id"], "accept", key=cy)
    assert st == 200, resp
    # an admin withdraws: back to marketing
    st, _, resp = act(b, now["id"], "withdraw", reason="duplicate opportunity")
    assert st == 200 and resp["status"] == "withdrawn" and resp["lead_stage"] == "recycled", resp


def test_inbox_is_most_urgent_first_and_breaching_within(baton_factory):
    b = start(baton_factory, CONFIG)
    slow = post(b, 1)  # ana, standard: 1 h
    advance(b, 60)
    hot = post(b, 2, employees=5000)  # ben, hot: 5 min
    post(b, 3)  # cy
    post(b, 4)  # ana again, standard
    st, _, body = b.get("/v1/reps/ana/assignments?status=pending")
    assert st == 200
    assert [x["lead"] for x in body["data"]] == [slow["id"], 4]
    assert body["data"][0]["time_left_seconds"] == 3540
    st, _, body = b.get("/v1/assignments?status=pending&breaching_within=10m")
    assert [x["lead"] for x in body["data"]] == [hot["id"]]
    st, _, body = b.get("/v1/assignments?breaching_within=2h&team=emea&limit=2")
    assert [x["lead"] for x in body["data"]] == [hot["id"], slow["id"]]
    st, _, page2 = b.get("/v1/assignments?breaching_within=2h&team=emea&limit=2&cursor="
                         + body["next_cursor"])
    assert st == 200 and [x["lead"] for x in page2["data"]] == [3, 4], page2
    for q, field in (("status=lost", "status"), ("breaching_within=soon", "breaching_within"),
                     ("rep=nobody", "rep"), ("team=mars", "team"), ("limit=0", "limit"),
                     ("colour=red", "colour"), ("cursor=zz", "cursor")):
        st, _, resp = b.get("/v1/assignments?" + q)
        assert_error(st, resp, 400, "invalid", field)
    st, _, resp = b.get("/v1/reps/nobody/assignments")
    assert_error(st, resp, 404, "not_found")


def test_accept_and_expiry_race_exactly_one_wins(baton_factory):
    b = start(baton_factory, CONFIG)
    leads = [post(b, n, employees=5000) for n in range(1, 13)]
    ids = [assignments(b, l["id"])[0]["id"] for l in leads]
    advance(b, 299)  # one second before every accept_by
    results = {}

    def accept(aid):
        results[aid] = act(b, aid, "accept")[0]

    threads = [threading.Thread(target=accept, args=(aid,)) for aid in ids]
    clock = threading.Thread(target=advance, args=(b, 2))
    for t in threads[:6]:
        t.start()
    clock.start()
    for t in threads[6:]:
        t.start()
    for t in threads + [clock]:
        t.join()
    for lead, aid in zip(leads, ids):
        rows = assignments(b, lead["id"])
        first = [r for r in rows if r["id"] == aid][0]
        if results[aid] == 200:
            assert first["status"] == "accepted", rows
            assert not event(b, lead["id"], "assignment.expired")
        else:
            assert results[aid] == 409 and first["status"] == "expired", (results[aid], rows)
        assert sum(1 for r in rows if r["closed_at"] is None) == 1, rows


def test_business_hours_deadline_across_a_weekend_and_holiday(baton_factory):
    cfg = BASE.replace("  - {id: ana, team: emea}\n",
                       "  - id: ana\n    team: emea\n    timezone: Europe/Berlin\n"
                       "    hours: {mon-fri: '09:00-18:00'}\n    holidays: [2026-11-30]\n") + """\
sla:
  policies:
    - name: office
      accept_within: 30m
      clock: business_hours
"""
    # Friday 2026-11-27 17:55 in Berlin (16:55Z)
    b = start(baton_factory, cfg, clock="2026-11-27T16:55:00Z")
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    assert a["rep"] == "ana" and a["clock"] == "business_hours"
    # 5 minutes on Friday, Monday is a holiday, 25 more on Tuesday from 09:00
    assert a["accept_by"] == "2026-12-01T08:25:00.000Z", a


def test_a_reload_keeps_running_clocks(baton_factory):
    b = start(baton_factory, CONFIG)
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    assert a["accept_by"] == "2026-11-24T10:00:00.000Z"
    b.write_config(CONFIG.replace("accept_within: 1h", "accept_within: 2h"))
    b.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        st, _, ready = b.request("GET", "/readyz", key=None)
        if ready["last_reload"]:
            break
        time.sleep(0.02)
    assert ready["last_reload"]["result"] == "applied", ready
    l2 = post(b, 2)
    assert assignments(b, l2["id"])[0]["accept_by"] == "2026-11-24T11:00:00.000Z"
    advance(b, 3601)
    rows = assignments(b, l["id"])
    assert rows[0]["status"] == "expired", rows


def test_deadlines_across_kill_9_fire_once_in_order(baton_factory):
    b = start(baton_factory, CONFIG)
    hot = [post(b, n, employees=5000) for n in (1, 2)]
    normal = post(b, 3)
    b.kill()
    # down for ten minutes: both hot leads' windows passed, the other's not
    b.start(extra_args=("--manual-clock", "2026-11-24T09:10:00Z"))
    advance(b, 0)
    for l in hot:
        rows = assignments(b, l["id"])
        assert rows[0]["status"] == "expired", rows
        assert len(event(b, l["id"], "assignment.expired")) >= 1
        first = [e for e in event(b, l["id"], "assignment.expired")
                 if e["data"]["assignment"] == rows[0]["id"]]
        assert len(first) == 1, first
        # the late reminders were not sent after the deadline
        assert [e["data"]["rep"] for e in event(b, l["id"], "assignment.reminded")] == []
    assert assignments(b, normal["id"])[0]["status"] == "pending"
    # once more: nothing fires twice
    b.kill()
    b.start(extra_args=("--manual-clock", "2026-11-24T09:10:00Z"))
    advance(b, 0)
    for l in hot:
        ids = [e["data"]["assignment"] for e in event(b, l["id"], "assignment.expired")]
        assert len(ids) == len(set(ids)), ids


def test_real_clock_expiry_after_a_crash(baton_factory):
    cfg = BASE + """\
sla:
  policies:
    - name: quick
      accept_within: 2s
"""
    b = baton_factory(config=cfg)
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    b.kill()
    time.sleep(2.5)
    b.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = assignments(b, l["id"])
        if rows[0]["status"] == "expired":
            break
        time.sleep(0.05)
    assert rows[0]["status"] == "expired", rows
    assert len(event(b, l["id"], "assignment.expired")) == 1


BROADCAST = BASE.replace(
    "  - {id: inbound, strategy: round_robin, members: [ana, ben, cy]}\n",
    "  - {id: inbound, strategy: round_robin, members: [ana, ben, cy], offer: broadcast,"
    " offer_to: 3}\n") + """\
sla:
  policies:
    - name: fast
      accept_within: 5m
      max_attempts: 1
      after_max_attempts: pool:overflow
"""


def test_broadcast_first_to_accept_wins_exactly_once(baton_factory):
    b = start(baton_factory, BROADCAST)
    keys = {r: b.create_key("rep", rep=r) for r in ("ana", "ben", "cy")}
    l = post(b, 1)
    offers = assignments(b, l["id"])
    assert sorted(o["rep"] for o in offers) == ["ana", "ben", "cy"]
    assert all(o["status"] == "offered" and o["closed_at"] is None for o in offers)
    st, _, lead = b.get("/v1/leads/%d" % l["id"])
    assert lead["stage"] == "assigned" and lead["owner"] is None
    (ev,) = event(b, l["id"], "lead.assigned")
    assert ev["data"]["offer"] == "broadcast" and sorted(ev["data"]["offered_to"]) == \
        ["ana", "ben", "cy"]
    # every offered rep clicks at once, several times
    results = []
    lock = threading.Lock()

    def click(o):
        st, _, body = act(b, o["id"], "accept", key=keys[o["rep"]])
        with lock:
            results.append((o["rep"], st, body))

    threads = [threading.Thread(target=click, args=(o,)) for o in offers for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [r for r in results if r[1] == 200]
    assert len(wins) == 1, results
    winner = wins[0][0]
    for rep, st, body in results:
        if st != 200:
            assert st == 409 and body["error"]["code"] == "conflict", body
    rows = assignments(b, l["id"])
    assert [r["rep"] for r in rows if r["status"] == "accepted"] == [winner]
    others = [r for r in rows if r["rep"] != winner]
    assert all(r["status"] == "withdrawn" and r["next"] == winner for r in others), rows
    st, _, lead = b.get("/v1/leads/%d" % l["id"])
    assert lead["owner"] == winner and lead["stage"] == "accepted"
    st, _, w = b.get("/v1/reps/%s" % winner)
    assert w["open"] == 1
    assert live(b, l["id"])["rep"] == winner


def test_broadcast_rejections_and_expiry(baton_factory):
    b = start(baton_factory, BROADCAST)
    l = post(b, 1)
    offers = {o["rep"]: o for o in assignments(b, l["id"])}
    # one turns it down: the others still hold it
    st, _, body = act(b, offers["ana"]["id"], "reject", reason="wrong_territory")
    assert st == 200 and body["next"] == "offered", body
    assert sum(1 for o in assignments(b, l["id"]) if o["status"] == "offered") == 2
    # nobody else takes it in time: every offer expires, the lead goes on
    advance(b, 301)
    rows = assignments(b, l["id"])
    assert sorted((r["rep"], r["status"]) for r in rows[:3]) == \
        [("ana", "rejected"), ("ben", "expired"), ("cy", "expired")], rows
    st, _, x = b.get("/v1/leads/%d/exclusions" % l["id"])
    assert {e["rep"] for e in x["data"]} == {"ana", "ben", "cy"}
    # max_attempts (1) reached: the fallback pool's rep, attempt 2
    now = live(b, l["id"])
    assert (now["rep"], now["attempt"], now["status"]) == ("mia", 2, "pending"), rows
    assert len(event(b, l["id"], "assignment.expired")) == 1


def test_contact_breach_escalates_and_the_rep_keeps_the_lead(baton_factory):
    cfg = BASE + """\
sla:
  policies:
    - name: p
      accept_within: 10m
      contact_within: 30m
      on_breach: [notify_manager, reassign]
"""
    b = start(baton_factory, cfg)
    l = post(b, 1)
    (a,) = assignments(b, l["id"])
    st, _, body = act(b, a["id"], "accept")
    assert st == 200 and body["contact_by"] == "2026-11-24T09:30:00.000Z", body
    advance(b, 1801)
    (ev,) = event(b, l["id"], "assignment.contact_breached")
    assert ev["at"] == "2026-11-24T09:30:00.000Z"
    (esc,) = event(b, l["id"], "assignment.escalated")
    assert esc["data"]["manager"] == "mia" and esc["data"]["deadline"] == "contact"
    now = live(b, l["id"])
    assert now["id"] == a["id"] and now["status"] == "accepted" and now["rep"] == "ana"


def test_a_rep_who_lets_k_expire_in_a_row_is_set_away(baton_factory):
    cfg = BASE.replace("members: [ana, ben, cy]", "members: [ana]") + """\
sla:
  policies:
    - name: p
      accept_within: 1m
      exclude_last: 0
      max_attempts: 100
      away_after_breaches: 2
"""
    b = start(baton_factory, cfg)
    l1 = post(b, 1)
    advance(b, 61)  # l1 expires, goes back to ana (exclude_last 0)
    assert live(b, l1["id"])["rep"] == "ana"
    st, _, ana = b.get("/v1/reps/ana")
    assert ana["status"] == "available"
    advance(b, 60)  # twice in a row: away, with the reason she sees
    st, _, ana = b.get("/v1/reps/ana")
    assert ana["status"] == "away", ana
    assert ana["status_reason"] == "missed 2 acceptance deadlines in a row"
    # away: the lead waits in the hold queue instead of going back to her
    assert live(b, l1["id"]) is None
    st, _, holds = b.get("/v1/holds")
    assert [h["lead"] for h in holds["held"]] == [l1["id"]]


def test_rejections_per_day_then_a_manager_must_reject(baton_factory):
    cfg = CONFIG + "  rejections_per_day: 1\n"
    b = start(baton_factory, cfg)
    ana = b.create_key("rep", rep="ana")
    mia = b.create_key("rep", rep="mia")
    l1, _, _, l4 = post(b, 1), post(b, 2), post(b, 3), post(b, 4)
    a1, a4 = assignments(b, l1["id"])[0], assignments(b, l4["id"])[0]
    assert a1["rep"] == a4["rep"] == "ana"
    st, _, body = act(b, a1["id"], "reject", key=ana, reason="wrong_territory")
    assert st == 200, body
    st, _, body = act(b, a4["id"], "reject", key=ana, reason="wrong_territory")
    assert_error(st, body, 403, "forbidden", "reason")
    assert "daily limit" in body["error"]["message"]
    assert live(b, l4["id"])["status"] == "pending"
    # the limit is the rep's own: her manager rejects for her
    st, _, body = act(b, a4["id"], "reject", key=mia, reason="wrong_territory")
    assert st == 200 and body["closed_by"] == "rep:mia", body
    # and another rep, who manages nobody, cannot
    a_next = live(b, l4["id"])
    other = b.create_key("rep", rep="otto")
    st, _, body = act(b, a_next["id"], "reject", key=other, reason="duplicate")
    assert_error(st, body, 403, "forbidden")


def test_a_backlog_of_600_deadlines_all_fire_once(baton_factory):
    # more than one sweep's worth, and more than one arena's worth before
    # each deadline ran in its own (bench/handoff.sh found ~220 the limit)
    b = start(baton_factory, CONFIG)
    ids = []
    for n in range(600):
        st, _, body = b.post_lead({"email": "backlog%d@acme.example" % n, "source": "demo",
                                   "employees": 5000})
        assert st == 201, body
        ids.append(body["lead"]["id"])
    clock = advance(b, 301)
    assert clock["assignments_due"] >= 600, clock
    st, _, body = b.get("/v1/assignments?status=expired&limit=500")
    st, _, more = b.get("/v1/assignments?status=expired&limit=500&cursor=" + body["next_cursor"])
    expired = body["data"] + more["data"]
    assert len(expired) == 600 and len({a["lead"] for a in expired}) == 600
    for lead_id in (ids[0], ids[299], ids[599]):
        assert len(event(b, lead_id, "assignment.expired")) == 1
        assert live(b, lead_id)["attempt"] == 2

"""Delivery against the real binary and real receivers on loopback: signed
webhooks verified by an independent Standard Webhooks implementation
(receivers.py), retries on a growing schedule under the manual clock,
dead letters and replay, 410 disabling a channel without losing its
messages, a hanging receiver that delays nobody else, secret rotation,
kill -9 and restart, and mail received by aiosmtpd and parsed with Python's
email package (both parts, links, the invite)."""

import calendar
import json
import re
import time

import pytest

from receivers import SmtpReceiver, WebhookReceiver, ics_unfold, links, parts, verify
from test_routing import post, start

T0 = "2026-11-24T09:00:00.000Z"  # a Tuesday
T0_S = calendar.timegm(time.strptime("2026-11-24T09:00:00", "%Y-%m-%dT%H:%M:%S"))

SECRET_OLD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET_NEW = "whsec_c2VjcmV0LWtleS1udW1iZXItdHdvLWZvci10ZXN0cw=="

BASE = """\
version: 1
server:
  public_url: https://baton.example.com
qualification:
  fast_track_when: source == "demo"
teams:
  - {id: emea, manager: mia}
reps:
  - {id: ana, name: "Zoë Ångström", email: ana@example.com, phone: "+4930111", team: emea,
     timezone: Europe/Berlin, hours: {mon-fri: "09:00-17:00"}}
  - {id: mia, name: Mia Manager, email: mia@example.com}
pools:
  - {id: inbound, strategy: round_robin, members: [ana]}
routing:
  rules:
    - {name: everyone, to: 'pool:inbound'}
sla:
  policies:
    - {name: standard, accept_within: 30m, contact_within: 1h}
"""


def config(channels, extra=""):
    return BASE + extra + "delivery:\n" + channels


def hook(rx, path="/hook", events="[lead.assigned]", extra=""):
    return ("  channels:\n"
            "    - id: hook\n"
            "      type: webhook\n"
            "      events: %s\n"
            "      url: %s\n"
            "%s" % (events, rx.url_for(path), extra))


def advance(b, seconds):
    st, _, body = b.request("POST", "/v1/admin/clock", body={"advance_seconds": seconds})
    assert st == 200, body
    return body


def quiet(rx, n, path, seconds=1.0):
    """Waits `seconds` and checks that no more than n requests arrived."""
    time.sleep(seconds)
    got = rx.requests(path)
    assert len(got) == n, [r.status for r in got]


def test_webhook_is_signed_and_carries_the_context(baton_factory):
    with WebhookReceiver(secrets=[SECRET_OLD], tolerance=None) as rx:
        b = start(baton_factory,
                  config(hook(rx, extra="      secret: %s\n" % SECRET_OLD)), clock=T0)
        lead = post(b, 1, first_name="Jane", last_name="Doe", company="Acme")
        [req] = rx.wait_for(1, timeout=10, path="/hook")
        assert req.signature_ok, req.signature_reason
        # the receiver's clock is the manual clock's: within the tolerance
        assert verify([SECRET_OLD], req.headers, req.body, now=T0_S + 1)
        assert not verify([SECRET_NEW], req.headers, req.body, tolerance=None)
        body = req.json()
        assert req.headers["webhook-id"] == body["id"]
        assert re.fullmatch(r"msg_[0-9a-f]{26}", body["id"])
        assert int(req.headers["webhook-timestamp"]) == T0_S
        assert body["type"] == "lead.assigned"
        assert body["lead"]["id"] == lead["id"]
        assert body["lead"]["name"] == "Jane Doe"
        assert body["rep"]["id"] == "ana"
        assert body["assignment"]["accept_by"] == "2026-11-24T09:30:00.000Z"
        assert body["assignment"]["accept_by_local"] == "2026-11-24 10:30 Europe/Berlin"
        # the rep's one-click links are for the rep's channels only
        assert "links" not in body and "_link" not in body
        assert req.headers["content-type"] == "application/json"
        assert req.headers["user-agent"].startswith("Baton/")
        # one message: nothing else was subscribed
        quiet(rx, 1, "/hook", 0.5)


def test_retries_follow_the_schedule_on_the_manual_clock(baton_factory):
    with WebhookReceiver() as rx:
        rx.fail_first("/hook", 2, status=503)
        b = start(baton_factory, config(hook(rx), "") .replace(
            "delivery:\n", "delivery:\n  retry: [0s, 10s, 60s, 300s]\n"), clock=T0)
        post(b, 1)
        rx.wait_for(1, timeout=10, path="/hook")  # at once: fails
        advance(b, 7)  # the second is due 8..12 s after the first
        quiet(rx, 1, "/hook", 1.5)
        advance(b, 6)  # 13 s
        rx.wait_for(2, timeout=10, path="/hook")  # fails again
        advance(b, 45)  # the third is due 48..72 s after the second
        quiet(rx, 2, "/hook", 1.5)
        advance(b, 30)
        reqs = rx.wait_for(3, timeout=10, path="/hook")
        assert [r.status for r in reqs] == [503, 503, 200]
        # the same message each time
        assert len({r.headers["webhook-id"] for r in reqs}) == 1
        assert len({r.body for r in reqs}) == 1


def test_retry_after_is_honoured(baton_factory):
    with WebhookReceiver() as rx:
        rx.retry_after("/hook", 30, status=429)
        b = start(baton_factory, config(hook(rx)), clock=T0)
        post(b, 1)
        rx.wait_for(1, timeout=10, path="/hook")
        advance(b, 25)  # the schedule alone would have retried after 5 s
        quiet(rx, 1, "/hook", 1.5)
        advance(b, 6)
        rx.wait_for(2, timeout=10, path="/hook")


def test_a_redirect_is_a_failure_not_followed(baton_factory):
    with WebhookReceiver() as rx:
        rx.redirect("/hook", rx.url_for("/elsewhere"))
        b = start(baton_factory, config(hook(rx)), clock=T0)
        post(b, 1)
        rx.wait_for(1, timeout=10, path="/hook")
        quiet(rx, 0, "/elsewhere", 1.0)


def test_a_hanging_receiver_delays_no_other_channel(baton_factory):
    with WebhookReceiver() as rx:
        rx.hang("/slow", 6)
        channels = ("  channels:\n"
                    "    - {id: slow, type: webhook, events: [lead.assigned], url: %s, timeout: 3s}\n"
                    "    - {id: fast, type: webhook, events: [lead.assigned], url: %s}\n"
                    % (rx.url_for("/slow"), rx.url_for("/fast")))
        b = start(baton_factory, config(channels), clock=T0)
        t0 = time.monotonic()
        post(b, 1)
        rx.wait_for(1, timeout=10, path="/fast")
        assert time.monotonic() - t0 < 2.0
        # the slow one is still hanging; more leads still reach the fast one
        post(b, 2)
        rx.wait_for(2, timeout=10, path="/fast")
        assert time.monotonic() - t0 < 3.0


def test_secret_rotation_signs_with_both(baton_factory):
    with WebhookReceiver(tolerance=None) as rx:
        secrets = ("      secrets:\n"
                   "        - {secret: %s, until: 2026-12-31T00:00:00Z}\n"
                   "        - {secret: %s}\n" % (SECRET_OLD, SECRET_NEW))
        b = start(baton_factory, config(hook(rx, events="[lead.created]", extra=secrets)),
                  clock=T0)
        post(b, 1)
        [req] = rx.wait_for(1, timeout=10, path="/hook")
        sigs = req.headers["webhook-signature"].split(" ")
        assert len(sigs) == 2 and all(s.startswith("v1,") for s in sigs)
        assert verify([SECRET_OLD], req.headers, req.body, tolerance=None)
        assert verify([SECRET_NEW], req.headers, req.body, tolerance=None)
        # after `until`, only the new secret signs
        advance(b, 40 * 86400)
        post(b, 2)
        reqs = rx.wait_for(2, timeout=10, path="/hook")
        assert len(reqs[1].headers["webhook-signature"].split(" ")) == 1
        assert verify([SECRET_NEW], reqs[1].headers, reqs[1].body, tolerance=None)
        assert not verify([SECRET_OLD], reqs[1].headers, reqs[1].body, tolerance=None)


def delivery_list(b, **q):
    query = "&".join("%s=%s" % kv for kv in q.items())
    st, _, body = b.get("/v1/deliveries" + ("?" + query if query else ""))
    assert st == 200, body
    return body["data"]


def test_permanent_refusal_is_dead_at_once_and_replayable(baton_factory):
    with WebhookReceiver() as rx:
        rx.always("/hook", 400)
        b = start(baton_factory, config(hook(rx)), clock=T0)
        post(b, 1)
        rx.wait_for(1, timeout=10, path="/hook")
        deadline = time.monotonic() + 5
        while not delivery_list(b, status="dead") and time.monotonic() < deadline:
            time.sleep(0.1)
        [row] = delivery_list(b, status="dead")
        assert row["attempts"] == 1 and row["last_status"] == 400
        st, _, one = b.get("/v1/deliveries/%d" % row["id"])
        assert st == 200
        assert one["attempts"][0]["status"] == 400
        assert one["payload"]["type"] == "lead.assigned"
        advance(b, 3600)
        quiet(rx, 1, "/hook", 1.0)  # dead: not retried
        rx.reset("/hook")
        st, _, body = b.request("POST", "/v1/deliveries/replay",
                                body={"since": "2026-11-24T00:00:00Z",
                                      "until": "2026-11-25T00:00:00Z"})
        assert st == 200 and body["replayed"] == 1, body
        reqs = rx.wait_for(2, timeout=10, path="/hook")
        assert reqs[1].headers["webhook-id"] == reqs[0].headers["webhook-id"]
        deadline = time.monotonic() + 5
        while not delivery_list(b, status="delivered") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert delivery_list(b, status="delivered")[0]["id"] == row["id"]


def test_410_disables_the_channel_and_keeps_its_messages(baton_factory):
    with WebhookReceiver() as rx:
        rx.always("/hook", 410)
        b = start(baton_factory, config(hook(rx)), clock=T0)
        post(b, 1)
        rx.wait_for(1, timeout=10, path="/hook")
        b.wait_stderr(r"channel hook disabled", timeout=5)
        post(b, 2)
        quiet(rx, 1, "/hook", 1.0)
        held = delivery_list(b, status="held")
        assert len(held) == 2
        st, _, chans = b.get("/v1/deliveries/channels")
        assert st == 200
        assert [c["state"] for c in chans["data"] if c["id"] == "hook"] == ["disabled"]
        rx.reset("/hook")
        st, _, body = b.request("POST", "/v1/deliveries/channels/hook/enable")
        assert st == 200 and body["messages"] == 2, body
        rx.wait_for(3, timeout=10, path="/hook")


def test_kill_9_loses_nothing(baton_factory):
    with WebhookReceiver() as rx:
        rx.hang("/hook", 30, n=1)  # the first attempt never answers
        # the real clock: lead.created, whatever the hour (ana's might be over)
        b = start(baton_factory, config(hook(rx, events="[lead.created]",
                                             extra="      timeout: 2s\n")), clock=None)
        post(b, 1)
        rx.wait_for(1, timeout=10, path="/hook")
        b.kill()
        b.start()
        # the lease (timeout + 5 s) ends, the row is due again, and goes out once
        reqs = rx.wait_for(2, timeout=15, path="/hook")
        assert reqs[0].headers["webhook-id"] == reqs[1].headers["webhook-id"]
        quiet(rx, 2, "/hook", 1.5)


def test_restart_sends_what_was_not_delivered(baton_factory):
    with WebhookReceiver() as rx:
        rx.always("/hook", 500)
        b = start(baton_factory, config(hook(rx, events="[lead.created]",
                                             extra="      timeout: 2s\n")).replace(
            "delivery:\n", "delivery:\n  retry: [0s, 1s, 1s, 1s, 1s, 1s, 1s, 1s]\n"), clock=None)
        for n in range(5):
            post(b, n)
        rx.wait_for(5, timeout=10, path="/hook")
        b.kill()
        rx.reset("/hook")
        rx.clear()
        b.start()
        rx.wait_for(5, timeout=15, path="/hook")
        time.sleep(1.0)
        ids = [r.headers["webhook-id"] for r in rx.requests("/hook") if r.status == 200]
        assert len(set(ids)) == 5
        # at least once, and no storm: each message delivered once after the restart
        assert len(ids) == 5, ids


EMAIL = """\
  smtp: {url: "smtp://127.0.0.1:%d", from: "Baton <baton@example.com>", starttls: "off"}
  channels:
    - id: rep-mail
      type: email
      events: [lead.assigned]
      to: rep
      invite: true
"""


def test_rep_mail_has_both_parts_the_links_and_an_invite(baton_factory):
    with SmtpReceiver() as smtp:
        b = start(baton_factory, config(EMAIL % smtp.port), clock=T0)
        post(b, 1, first_name="Jane", last_name="Doe", company="Acme")
        [mail] = smtp.wait_for(1, timeout=10)
        msg = mail.msg
        assert mail.rcpt_tos == ["ana@example.com"]
        assert mail.mail_from == "baton@example.com"
        assert str(msg["To"]) == "Zoë Ångström <ana@example.com>"
        assert "=?UTF-8?" in mail.raw.decode("ascii", "replace")  # encoded on the wire
        assert str(msg["Subject"]) == "New lead: Jane Doe (Acme)"
        assert msg["Message-ID"].startswith("<baton.") and msg["Date"]
        p = parts(msg)
        assert "accept it by 2026-11-24 10:30 Europe/Berlin" in p["text/plain"]
        assert "<strong>Jane Doe</strong>" in p["text/html"]
        link = [u for u in links(p["text/plain"]) if "/a/" in u]
        assert link and link[0].startswith("https://baton.example.com/a/")
        assert any(u.startswith(link[0]) for u in links(p["text/html"]))
        cal = ics_unfold(p["text/calendar"])
        assert "METHOD:REQUEST" in cal
        assert re.search(r"^DTSTART:20261124T1[0-9][03]000Z\r?$", cal, re.M), cal
        assert "ORGANIZER;CN=" in cal and "mailto:ana@example.com" in cal
        assert re.search(r"^ATTENDEE;.*:mailto:buyer1@acme1\.example\r?$", cal, re.M), cal
        # the suggested first message
        assert "A first message you could send" in p["text/plain"]
        # the follow-up tasks: the contact task and the meeting
        st, _, tasks = b.get("/v1/reps/ana/tasks")
        assert st == 200, tasks
        kinds = sorted(t["kind"] for t in tasks["data"])
        assert kinds == ["contact", "meeting"]
        contact = [t for t in tasks["data"] if t["kind"] == "contact"][0]
        assert contact["title"] == "Call Jane Doe (Acme) before 10:30 (Europe/Berlin)"


def test_prospect_confirmation_respects_opt_out(baton_factory):
    channels = """\
  smtp: {url: "smtp://127.0.0.1:%d", from: "Acme Sales <sales@acme.example>", starttls: "off"}
  channels:
    - {id: thanks, type: email, events: [lead.created], to: prospect}
"""
    with SmtpReceiver() as smtp:
        b = start(baton_factory, config(channels % smtp.port), clock=T0)
        post(b, 1, first_name="Jane")
        post(b, 2, first_name="Otto", fields={"opt_out": True})
        [mail] = smtp.wait_for(1, timeout=10)
        time.sleep(1.0)
        assert len(smtp.messages()) == 1
        assert mail.rcpt_tos == ["buyer1@acme1.example"]
        assert mail.msg["List-Unsubscribe"] == "<mailto:sales@acme.example?subject=unsubscribe>"
        assert "Hello Jane" in parts(mail.msg)["text/plain"]


def test_smtp_failure_is_retried(baton_factory):
    with SmtpReceiver() as smtp:
        smtp.fail_first(1)  # 451
        b = start(baton_factory, config(EMAIL % smtp.port), clock=T0)
        post(b, 1)
        smtp.wait_for(1, timeout=10, include_rejected=True)
        advance(b, 7)
        [mail] = smtp.wait_for(1, timeout=10)
        assert mail.rcpt_tos == ["ana@example.com"]


def test_slack_blocks_with_accept_and_reject(baton_factory):
    with WebhookReceiver() as rx:
        channels = ("  channels:\n"
                    "    - {id: slack, type: slack, events: [lead.assigned], url: %s,\n"
                    "       by_team: {emea: %s}}\n" % (rx.url_for("/default"), rx.url_for("/emea")))
        b = start(baton_factory, config(channels), clock=T0)
        post(b, 1, first_name="Jane", last_name="Doe", company="Acme & Co")
        [req] = rx.wait_for(1, timeout=10, path="/emea")
        body = req.json()
        assert "Jane Doe" in body["text"]
        assert body["blocks"][0]["text"]["text"].count("&amp;") == 1  # mrkdwn escaped
        actions = [blk for blk in body["blocks"] if blk["type"] == "actions"][0]
        urls = [e["url"] for e in actions["elements"]]
        assert urls[0].startswith("https://baton.example.com/a/") and urls[0].endswith("#accept")
        assert urls[1].endswith("#reject")
        fields = [blk for blk in body["blocks"] if blk.get("fields")][0]["fields"]
        assert any("10:30 Europe/Berlin" in f["text"] for f in fields)


def test_sms_fits_one_segment_with_the_link(baton_factory):
    with WebhookReceiver() as rx:
        channels = ("  sms: {url: %s, from: \"+15550100\", username: acct, password: tok}\n"
                    "  channels:\n"
                    "    - {id: sms, type: sms, events: [lead.assigned], to: rep}\n"
                    % rx.url_for("/sms"))
        b = start(baton_factory, config(channels), clock=T0)
        post(b, 1, first_name="Maximiliane", last_name="Mustermann-Oberkirchner",
             company="Internationale Handels- und Speditionsgesellschaft mbH & Co. KG")
        [req] = rx.wait_for(1, timeout=10, path="/sms")
        form = req.form()
        assert form["To"] == "+4930111" and form["From"] == "+15550100"
        assert req.basic_auth() == ("acct", "tok")
        assert len(form["Body"]) <= 160, form["Body"]
        assert re.search(r"https://baton\.example\.com/a/\S+$", form["Body"])


def test_crm_gets_its_field_names(baton_factory):
    with WebhookReceiver(secrets=[SECRET_OLD], tolerance=None) as rx:
        channels = ("  channels:\n"
                    "    - id: crm\n"
                    "      type: crm\n"
                    "      events: [lead.assigned]\n"
                    "      url: %s\n"
                    "      secret: %s\n"
                    "      fields: {Email: lead.email, Company: lead.company, Owner: rep.email,\n"
                    "               Lead_Score: score.total}\n" % (rx.url_for("/crm"), SECRET_OLD))
        b = start(baton_factory, config(channels), clock=T0)
        lead = post(b, 1, company="Acme")
        [req] = rx.wait_for(1, timeout=10, path="/crm")
        assert req.signature_ok
        body = req.json()
        assert body["lead_id"] == lead["id"] and body["type"] == "lead.assigned"
        assert body["fields"] == {"Email": "buyer1@acme1.example", "Company": "Acme",
                                  "Owner": "ana@example.com", "Lead_Score": 0}


def test_a_rep_without_an_address_is_a_visible_dead_letter(baton_factory):
    cfg = config("  smtp: {url: \"smtp://127.0.0.1:9\", from: baton@example.com}\n"
                 "  channels:\n"
                 "    - {id: mail, type: email, events: [lead.assigned], to: rep}\n")
    b = start(baton_factory, cfg.replace("email: ana@example.com, ", ""), clock=T0)
    post(b, 1)
    [row] = delivery_list(b, status="dead")
    assert row["last_error"] == "the rep has no email address"
    b.wait_stderr(r"undeliverable", timeout=5)


def test_invite_parses_with_an_independent_icalendar_library(baton_factory):
    icalendar = pytest.importorskip("icalendar")  # Debian's python3-icalendar
    with SmtpReceiver() as smtp:
        b = start(baton_factory, config(EMAIL % smtp.port), clock=T0)
        post(b, 1, first_name="Jane", last_name="Doe", company="Acme")
        [mail] = smtp.wait_for(1, timeout=10)
        cal = icalendar.Calendar.from_ical(parts(mail.msg)["text/calendar"])
        assert str(cal["METHOD"]) == "REQUEST"
        [ev] = [c for c in cal.walk() if c.name == "VEVENT"]
        start_at, end_at = ev.decoded("DTSTART"), ev.decoded("DTEND")
        assert (end_at - start_at).total_seconds() == 30 * 60
        # inside ana's hours (09:00-17:00 Berlin, UTC+1 in November), an hour ahead at least
        assert start_at.utcoffset().total_seconds() == 0
        assert 8 <= start_at.hour < 16 and start_at.minute in (0, 30)
        assert start_at.isoformat() >= "2026-11-24T10:00:00+00:00"
        assert str(ev["ORGANIZER"]) == "mailto:ana@example.com"
        attendees = ev["ATTENDEE"] if isinstance(ev["ATTENDEE"], list) else [ev["ATTENDEE"]]
        assert "mailto:buyer1@acme1.example" in [str(a) for a in attendees]
        assert str(ev["SUMMARY"]) == "Call with Jane Doe (Acme)"
        # a second lead for ana gets another slot
        post(b, 2)
        mails = smtp.wait_for(2, timeout=10)
        cal2 = icalendar.Calendar.from_ical(parts(mails[1].msg)["text/calendar"])
        [ev2] = [c for c in cal2.walk() if c.name == "VEVENT"]
        assert ev2.decoded("DTSTART") >= end_at


def test_smtp_auth(baton_factory):
    with SmtpReceiver(auth=("baton", "s3cret"), auth_required=True) as smtp:
        cfg = config(EMAIL.replace('starttls: "off"}', 'starttls: "off", username: baton, '
                                   'password: s3cret}') % smtp.port)
        b = start(baton_factory, cfg, clock=T0)
        post(b, 1)
        [mail] = smtp.wait_for(1, timeout=10)
        assert mail.authenticated and mail.auth_user == "baton"


def test_marketing_hears_of_a_rejection_and_the_manager_of_an_escalation(baton_factory):
    channels = """\
  smtp: {url: "smtp://127.0.0.1:%d", from: "Baton <baton@example.com>", starttls: "off"}
  marketing: marketing@example.com
  channels:
    - {id: rejected, type: email, events: [assignment.rejected], to: marketing}
    - {id: escalated, type: email, events: [assignment.escalated], to: manager}
"""
    sla = ("    - {name: hot, when: 'employees >= 1000', accept_within: 10m, "
           "on_breach: [notify_manager, reassign]}\n")
    with SmtpReceiver() as smtp:
        cfg = config(channels % smtp.port).replace("  policies:\n", "  policies:\n" + sla)
        b = start(baton_factory, cfg, clock=T0)
        lead = post(b, 1, first_name="Jane", last_name="Doe")
        st, _, rows = b.get("/v1/leads/%d/assignments" % lead["id"])
        aid = rows["data"][0]["id"]
        st, _, body = b.request("POST", "/v1/assignments/%d/reject" % aid,
                                body={"reason": "not_a_fit", "note": "students only"})
        assert st == 200, body
        [mail] = smtp.wait_for(1, timeout=10)
        assert mail.rcpt_tos == ["marketing@example.com"]
        assert str(mail.msg["Subject"]).startswith("Lead rejected: Jane Doe")
        text = parts(mail.msg)["text/plain"]
        assert "Zoë Ångström rejected Jane Doe" in text and "students only" in text

        post(b, 2, employees=5000)
        advance(b, 11 * 60)
        mails = smtp.wait_for(2, timeout=10)
        assert mails[1].rcpt_tos == ["mia@example.com"]
        assert str(mails[1].msg["Subject"]) == "Escalation: buyer2@acme2.example waits for Zoë Ångström"

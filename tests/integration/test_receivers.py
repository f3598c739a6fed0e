"""Self-tests of receivers.py (the servers that receive Baton's deliveries).
These do not start baton."""

import base64
import http.client
import json
import re
import smtplib
import threading
import time
import urllib.error
import urllib.request
from email.message import EmailMessage

import pytest

from receivers import (SmtpReceiver, WebhookReceiver, check_signature, ics_unfold, links,
                       parts, sign, sign_headers, verify)

T = 5  # client timeout, seconds

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _open(url, data=None, headers=None, method=None, follow=True):
    """(status, headers, body) of one request; HTTP errors are returned, not
    raised."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=T) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        try:
            return e.code, e.headers, e.read()
        finally:
            e.close()


def _post_json(url, obj, headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return _open(url, json.dumps(obj).encode(), h, "POST")


# ------------------------------------------------------- Standard Webhooks

def test_signature_spec_vector():
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIG
    assert sign(SPEC_SECRET, SPEC_ID, str(SPEC_TS), SPEC_BODY.decode()) == SPEC_SIG
    h = {"Webhook-Id": SPEC_ID, "Webhook-Timestamp": str(SPEC_TS), "Webhook-Signature": SPEC_SIG}
    assert verify(SPEC_SECRET, h, SPEC_BODY, now=SPEC_TS)
    assert verify(SPEC_SECRET, h, SPEC_BODY, now=SPEC_TS + 299)
    assert verify(SPEC_SECRET, h, SPEC_BODY, now=SPEC_TS - 299)
    assert not verify(SPEC_SECRET, h, SPEC_BODY, now=SPEC_TS + 301)
    assert not verify(SPEC_SECRET, h, SPEC_BODY, now=SPEC_TS - 301)
    assert not verify(SPEC_SECRET, h, SPEC_BODY)  # against the real clock: 2021 is old
    assert verify(SPEC_SECRET, h, SPEC_BODY, tolerance=None)
    # the raw key works as well as the whsec_ form
    raw = base64.b64decode(SPEC_SECRET[len("whsec_"):])
    assert verify(raw, h, SPEC_BODY, tolerance=None)


def test_signature_rejections_and_rotation():
    other = "whsec_" + base64.b64encode(b"another secret of 32 bytes......").decode()
    h = {"webhook-id": SPEC_ID, "webhook-timestamp": str(SPEC_TS), "webhook-signature": SPEC_SIG}
    kw = {"now": SPEC_TS}
    assert not verify(other, h, SPEC_BODY, **kw)
    assert verify([other, SPEC_SECRET], h, SPEC_BODY, **kw)  # rotation: any secret
    assert not verify(SPEC_SECRET, h, SPEC_BODY + b" ", **kw)  # body tampered
    assert not verify(SPEC_SECRET, dict(h, **{"webhook-id": "msg_x"}), SPEC_BODY, **kw)
    assert not verify(SPEC_SECRET, dict(h, **{"webhook-timestamp": str(SPEC_TS + 1)}),
                      SPEC_BODY, **kw)
    # several entries: any one matching is enough; other versions are ignored
    several = "v1,AAAA v1a,xyz %s v2,%s" % (SPEC_SIG, SPEC_SIG[3:])
    assert verify(SPEC_SECRET, dict(h, **{"webhook-signature": several}), SPEC_BODY, **kw)
    assert not verify(SPEC_SECRET, dict(h, **{"webhook-signature": "v2," + SPEC_SIG[3:]}),
                      SPEC_BODY, **kw)
    for missing in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        ok, reason = check_signature(SPEC_SECRET, {k: v for k, v in h.items() if k != missing},
                                     SPEC_BODY, **kw)
        assert not ok and missing in reason
    ok, reason = check_signature(SPEC_SECRET, dict(h, **{"webhook-timestamp": "1614265330.5"}),
                                 SPEC_BODY, tolerance=None)
    assert not ok and "integer" in reason


# ------------------------------------------------------------ webhooks

def test_records_requests_and_checks_signatures():
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    with WebhookReceiver(secrets=["whsec_" + base64.b64encode(b"old").decode(), secret]) as rx:
        assert rx.url.startswith("http://127.0.0.1:")
        body = json.dumps({"type": "lead.assigned", "data": {"id": 7}}).encode()
        ts = int(time.time())
        h = sign_headers(secret, "msg_1", ts, body)
        h["Content-Type"] = "application/json"
        h["X-Custom"] = "één"
        t0 = time.monotonic()
        st, _, _ = _open(rx.url_for("/hook?x=1"), body, h, "POST")
        assert st == 200
        st, _, _ = _open(rx.url_for("/hook"), body,
                         dict(h, **{"webhook-signature": sign(secret, "msg_1", ts, b"other")}), "POST")
        assert st == 200
        st, _, _ = _open(rx.url_for("/hook"), body,
                         dict(h, **{"webhook-timestamp": str(ts - 3600)}), "POST")
        st, _, _ = _open(rx.url_for("/other"))
        good, bad, old = rx.wait_for(3, timeout=T, path="/hook")
        assert good.method == "POST" and good.path == "/hook" and good.query == "x=1"
        assert good.target == "/hook?x=1" and good.query_params() == {"x": "1"}
        assert good.headers["WEBHOOK-ID"] == "msg_1" and good.headers["webhook-id"] == "msg_1"
        assert good.headers["content-type"] == "application/json"
        assert good.body == body and good.json()["data"]["id"] == 7
        assert good.signature_ok is True and good.signature_reason == "ok"
        assert bad.signature_ok is False and old.signature_ok is False
        assert "before now" in old.signature_reason
        assert t0 <= good.time <= bad.time <= old.time <= time.monotonic()
        assert good.status == 200
        [other] = rx.requests("/other")
        assert other.method == "GET" and other.body == b"" and other.signature_ok is False
        assert len(rx.requests()) == 4
        rx.clear()
        assert rx.requests() == []


def test_manual_clock_and_no_tolerance():
    secret = "whsec_" + base64.b64encode(b"m" * 24).decode()
    body = b'{"a":1}'
    with WebhookReceiver(secrets=secret, now=lambda: 1_000_000) as rx, \
            WebhookReceiver(secrets=secret, tolerance=None) as rx2:
        for r in (rx, rx2):
            _open(r.url_for("/h"), body, sign_headers(secret, "m1", 1_000_100, body), "POST")
        assert rx.wait_for(1, T)[0].signature_ok is True
        assert rx2.wait_for(1, T)[0].signature_ok is True


def test_form_and_basic_auth():
    with WebhookReceiver() as rx:
        form = "To=%2B4915112345678&From=Baton&Body=New+lead%3A+J%C3%BCrgen+%26+Co"
        cred = base64.b64encode("AC123:tok:en".encode()).decode()
        st, _, _ = _open(rx.url_for("/sms"), form.encode(),
                         {"Content-Type": "application/x-www-form-urlencoded",
                          "Authorization": "Basic " + cred}, "POST")
        assert st == 200
        _open(rx.url_for("/sms"), b"", {"Authorization": "Bearer x"}, "POST")
        first, second = rx.wait_for(2, T, path="/sms")
        assert first.form() == {"To": "+4915112345678", "From": "Baton",
                                "Body": "New lead: Jürgen & Co"}
        assert first.basic_auth() == ("AC123", "tok:en")
        assert second.basic_auth() is None and second.form() == {}


def test_chunked_request_body():
    with WebhookReceiver() as rx:
        c = http.client.HTTPConnection("127.0.0.1", rx.port, timeout=T)
        try:
            c.request("POST", "/c", body=iter([b'{"a":', b' 1}']), encode_chunked=True,
                      headers={"Transfer-Encoding": "chunked"})
            r = c.getresponse()
            r.read()
            assert r.status == 200
            # the same connection serves a second request (keep-alive)
            c.request("POST", "/c", body=b"x", headers={"Content-Length": "1"})
            r = c.getresponse()
            r.read()
            assert r.status == 200
        finally:
            c.close()
        a, b = rx.wait_for(2, T, path="/c")
        assert a.json() == {"a": 1} and b.body == b"x"


def test_fail_first_then_succeed_and_always():
    with WebhookReceiver() as rx:
        rx.fail_first("/f", 2, status=503, body="busy")
        got = [_open(rx.url_for("/f"), b"{}", None, "POST") for _ in range(3)]
        assert [g[0] for g in got] == [503, 503, 200]
        assert got[0][2] == b"busy"
        assert [r.status for r in rx.requests("/f")] == [503, 503, 200]

        rx.always("/gone", 410)
        rx.always("/bad", 400, body={"error": "nope"})
        assert [_open(rx.url_for("/gone"), b"{}")[0] for _ in range(2)] == [410, 410]
        st, h, body = _open(rx.url_for("/bad"), b"{}")
        assert st == 400 and json.loads(body) == {"error": "nope"}
        assert h["Content-Type"] == "application/json"

        rx.respond("/ok", 204)
        assert _open(rx.url_for("/ok"), b"{}")[0] == 204
        rx.respond(None, 202)  # default for unconfigured paths
        assert _open(rx.url_for("/anything"), b"{}")[0] == 202
        rx.reset()
        assert _open(rx.url_for("/gone"), b"{}")[0] == 200


def test_retry_after():
    with WebhookReceiver() as rx:
        rx.retry_after("/r", 3)
        st, h, _ = _open(rx.url_for("/r"), b"{}")
        assert st == 429 and h["Retry-After"] == "3"
        st, h, _ = _open(rx.url_for("/r"), b"{}")
        assert st == 200 and h.get("Retry-After") is None
        rx.retry_after("/r", 7, status=503, n=None)
        assert [_open(rx.url_for("/r"), b"{}")[0] for _ in range(2)] == [503, 503]


def test_redirect_not_followed():
    with WebhookReceiver() as rx:
        rx.redirect("/old", rx.url_for("/new"))
        st, h, _ = _open(rx.url_for("/old"), b"{}", None, "POST", follow=False)
        assert st == 302 and h["Location"] == rx.url_for("/new")
        assert rx.requests("/new") == []
        # a following client does arrive at /new (as a GET, urllib's way)
        st, _, _ = _open(rx.url_for("/old"), follow=True)
        assert st == 200
        assert [r.method for r in rx.wait_for(1, T, path="/new")] == ["GET"]


def _background_request(url, result):
    try:
        result.append(_open(url, b"{}", None, "POST")[0])
    except Exception as e:  # noqa: BLE001 - recorded for the test
        result.append(e)


def test_hang_does_not_block_other_paths():
    result = []
    with WebhookReceiver() as rx:
        rx.hang("/slow", 5)
        t = threading.Thread(target=_background_request, args=(rx.url_for("/slow"), result),
                             daemon=True)
        t.start()
        rx.wait_for(1, T, path="/slow")  # counts on arrival, while it hangs
        t0 = time.monotonic()
        st, _, _ = _open(rx.url_for("/fast"), b"{}")
        assert st == 200 and time.monotonic() - t0 < 1.0
        assert rx.requests("/slow")[0].status is None  # not answered yet
    t.join(T)
    assert not t.is_alive()


def test_close_does_not_wait_for_a_hanging_handler():
    result = []
    rx = WebhookReceiver().start()
    try:
        rx.hang("/slow", 60)
        t = threading.Thread(target=_background_request, args=(rx.url_for("/slow"), result),
                             daemon=True)
        t.start()
        rx.wait_for(1, T, path="/slow")
        # an idle keep-alive connection too
        idle = http.client.HTTPConnection("127.0.0.1", rx.port, timeout=T)
        idle.request("GET", "/idle")
        idle.getresponse().read()
        assert len(rx.alive_threads()) >= 2
    finally:
        t0 = time.monotonic()
        rx.close()
        took = time.monotonic() - t0
    assert took < 3.0, took
    assert rx.alive_threads() == []
    t.join(T)
    assert not t.is_alive() and result and not isinstance(result[0], int), result
    idle.close()
    with pytest.raises(OSError):
        _open(rx.url_for("/after"))


def test_wait_for_times_out_with_what_arrived():
    with WebhookReceiver() as rx:
        _open(rx.url_for("/a"), b"{}")
        t0 = time.monotonic()
        with pytest.raises(AssertionError) as e:
            rx.wait_for(1, timeout=0.2, path="/b")
        assert 0.2 <= time.monotonic() - t0 < 1.0
        assert "/a" in str(e.value)


# ------------------------------------------------------------------- SMTP

def _mail(subject="Neuer Lead: Jürgen Müller — Bâton GmbH", ics=True):
    m = EmailMessage()
    m["From"] = "Bâton Handoff <baton@example.com>"
    m["To"] = "Zoë Rep <rep@example.com>"
    m["Subject"] = subject
    m.set_content("Hallo Zoë,\nclaim it: https://baton.example/claim/abc?t=1&u=2.\n")
    m.add_alternative('<p>Hallo Zoë, <a href="https://baton.example/claim/abc?t=1&amp;u=2">'
                      'claim</a></p>', subtype="html")
    if ics:
        cal = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//baton//test//EN\r\nMETHOD:REQUEST\r\n"
               "BEGIN:VEVENT\r\nUID:lead-42@baton\r\nSUMMARY:Call Jürgen\r\n"
               "URL:https://baton.example/leads/42/a-very-long-path-that-gets-fol\r\n ded\r\n"
               "DTSTART:20261202T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        m.add_attachment(cal.encode("utf-8"), maintype="text", subtype="calendar",
                         filename="invite.ics", params={"method": "REQUEST", "charset": "utf-8"})
    return m


def test_smtp_receives_utf8_multipart_with_calendar():
    with SmtpReceiver() as smtp:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=T) as c:
            c.send_message(_mail(), from_addr="baton@example.com", to_addrs=["rep@example.com",
                                                                              "cc@example.com"])
        [m] = smtp.wait_for(1, T)
        assert m.mail_from == "baton@example.com"
        assert m.rcpt_tos == ["rep@example.com", "cc@example.com"]
        assert m.accepted and m.reply.startswith("250") and not m.authenticated
        head = m.raw.split(b"\r\n\r\n", 1)[0]
        head.decode("ascii")  # RFC 2047 on the wire, no raw UTF-8 in headers
        assert re.search(rb"(?m)^Subject: .*=\?utf-8\?", head), head
        assert m.msg["Subject"] == "Neuer Lead: Jürgen Müller — Bâton GmbH"
        assert m.msg["From"].addresses[0].display_name == "Bâton Handoff"
        assert m.msg.get_content_type() == "multipart/mixed"
        p = parts(m.msg)
        assert set(p) == {"text/plain", "text/html", "text/calendar"}
        assert p["text/plain"].startswith("Hallo Zoë,")
        assert links(p["text/plain"]) == ["https://baton.example/claim/abc?t=1&u=2"]
        assert links(p["text/html"]) == ["https://baton.example/claim/abc?t=1&u=2"]
        assert "SUMMARY:Call Jürgen" in p["text/calendar"]
        assert links(ics_unfold(p["text/calendar"])) == [
            "https://baton.example/leads/42/a-very-long-path-that-gets-folded"]
        [cal] = [x for x in m.msg.walk() if x.get_content_type() == "text/calendar"]
        assert cal.get_filename() == "invite.ics" and cal.get_param("method") == "REQUEST"


def test_links_helper():
    assert links("see (https://a.example/x) and https://b.example/y_(z), done.") == [
        "https://a.example/x", "https://b.example/y_(z)"]
    assert links("no links here") == []


@pytest.mark.parametrize("mech", ["LOGIN", "PLAIN"])
def test_smtp_auth_accepted(mech):
    with SmtpReceiver(auth=("baton", "s3cr:t")) as smtp:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=T) as c:
            c.ehlo()
            assert "auth" in c.esmtp_features and mech in c.esmtp_features["auth"]
            c.user, c.password = "baton", "s3cr:t"
            code, _ = c.auth(mech, getattr(c, "auth_" + mech.lower()))
            assert code == 235
            c.sendmail("baton@example.com", ["rep@example.com"], b"Subject: hi\r\n\r\nbody\r\n")
        [m] = smtp.wait_for(1, T)
        assert m.authenticated and m.auth_user == "baton"
        [a] = smtp.auth_attempts()
        assert a.ok and a.user == "baton" and a.mechanism == mech


def test_smtp_auth_rejected_and_required():
    with SmtpReceiver(auth=("baton", "right"), auth_required=True) as smtp:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=T) as c:
            with pytest.raises(smtplib.SMTPAuthenticationError) as e:
                c.ehlo()
                c.user, c.password = "baton", "wrong"
                c.auth("PLAIN", c.auth_plain)
            assert e.value.smtp_code == 535
            with pytest.raises(smtplib.SMTPSenderRefused) as e:
                c.sendmail("baton@example.com", ["rep@example.com"], b"Subject: x\r\n\r\nx\r\n")
            assert e.value.smtp_code == 530
        assert [(a.user, a.ok) for a in smtp.auth_attempts()] == [("baton", False)]
        assert smtp.attempts() == []


def test_smtp_temporary_failure_first_n_then_permanent():
    with SmtpReceiver() as smtp:
        smtp.fail_first(2)
        codes = []
        for i in range(3):
            with smtplib.SMTP(smtp.host, smtp.port, timeout=T) as c:
                try:
                    c.sendmail("baton@example.com", ["rep@example.com"],
                               ("Subject: try %d\r\n\r\nx\r\n" % i).encode())
                    codes.append(250)
                except smtplib.SMTPDataError as e:
                    codes.append(e.smtp_code)
        assert codes == [451, 451, 250]
        [m] = smtp.wait_for(1, T)
        assert m.msg["Subject"] == "try 2"
        assert [a.accepted for a in smtp.attempts()] == [False, False, True]

        smtp.always(550)
        with smtplib.SMTP(smtp.host, smtp.port, timeout=T) as c:
            with pytest.raises(smtplib.SMTPDataError) as e:
                c.sendmail("baton@example.com", ["rep@example.com"], b"Subject: x\r\n\r\nx\r\n")
            assert e.value.smtp_code == 550
        assert len(smtp.attempts()) == 4 and len(smtp.messages()) == 1
        with pytest.raises(AssertionError) as e:
            smtp.wait_for(2, timeout=0.2)
        assert "550" in str(e.value)


def test_smtp_close_with_an_open_session():
    smtp = SmtpReceiver().start()
    c = smtplib.SMTP(smtp.host, smtp.port, timeout=T)
    try:
        c.ehlo()
        c.mail("baton@example.com")  # mid-transaction
        t0 = time.monotonic()
        smtp.close()
        assert time.monotonic() - t0 < 3.0
    finally:
        smtp.close()
        c.close()
    with pytest.raises(OSError):
        smtplib.SMTP(smtp.host, smtp.port, timeout=T).quit()

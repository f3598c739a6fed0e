"""The dashboard (docs/dashboard.md): its files and headers, sign-in and the
session cookie, the cookie standing for the key with the key's role, CSRF
on every state-changing request made with the cookie, and the views in a
real headless Chromium (the setup of test_forms_browser.py):

- a rep signs in, sees a lead arrive (posted with the admin key) with its
  countdown, accepts it and watches it leave the inbox;
- a rep opening another rep's lead gets "not found";
- a bad key does not sign in;
- an admin sees the speed-to-lead and SLA charts drawn with data.

Screenshots of each view go to screenshots/ next to BATON_BIN (the build
directory), as test artefacts."""

import os
import re
import time

import pytest

from conftest import BATON_BIN
from test_forms_browser import WAIT, browser  # noqa: F401 (a fixture)
from test_handoff import CONFIG

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # the browser fixture reports it
    By = WebDriverWait = None

SHOTS = os.path.join(os.path.dirname(BATON_BIN), "screenshots")
HOT_LEAD = {"email": "jane@acme.example", "first_name": "Jane", "last_name": "Doe",
            "company": "Acme", "employees": 5000, "source": "demo"}


def sign_in(baton, key):
    """POST /ui/session; returns (status, headers, body, cookie value or None)."""
    st, h, body = baton.request("POST", "/ui/session", body={"key": key}, key=None)
    m = re.match(r"baton_session=([0-9a-f]+);", h.get("set-cookie", ""))
    return st, h, body, m.group(1) if m else None


def with_cookie(baton, method, path, cookie, csrf=None, **kw):
    headers = {"Cookie": "baton_session=" + cookie}
    if csrf:
        headers["X-Baton-CSRF"] = csrf
    return baton.request(method, path, key=None, headers=headers, **kw)


def pending_of(baton, rep):
    st, _, body = baton.get("/v1/reps/%s/assignments?status=pending" % rep)
    assert st == 200
    return body["data"]


# ---- over HTTP ----

def test_files_are_served_with_strict_headers(baton):
    for path, ctype in (("/ui/", "text/html"), ("/ui/app.js", "text/javascript"),
                        ("/ui/app.css", "text/css"), ("/ui/chart.js", "text/javascript")):
        st, h, body = baton.request("GET", path, key=None)
        assert st == 200, path
        assert h["content-type"].startswith(ctype), (path, h["content-type"])
        csp = h["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert h["x-frame-options"] == "DENY"
        assert h["x-content-type-options"] == "nosniff"
        assert body, path
    _, _, page = baton.request("GET", "/ui/", key=None)
    assert b"<script>" not in page and b"onclick" not in page  # no inline script
    _, _, chart = baton.request("GET", "/ui/chart.js", key=None)
    with open("/usr/share/javascript/chart.js/chart.min.js", "rb") as f:
        assert chart == f.read()


def test_sign_in_sets_a_strict_cookie_and_the_cookie_stands_for_the_key(baton_factory):
    b = baton_factory(CONFIG)
    rep = b.create_key("rep", rep="ana")
    st, h, body, cookie = sign_in(b, rep)
    assert st == 200 and body["role"] == "rep" and body["rep"] == "ana"
    flags = [f.strip() for f in h["set-cookie"].split(";")]
    assert "HttpOnly" in flags and "SameSite=Strict" in flags and "Path=/" in flags
    assert "Max-Age=28800" in flags
    assert cookie and len(cookie) == 64
    csrf = body["csrf"]
    # the cookie reads as the key, with the key's role
    st, _, me = with_cookie(b, "GET", "/ui/session", cookie)
    assert st == 200 and me["csrf"] == csrf and me["rep"] == "ana"
    assert with_cookie(b, "GET", "/v1/reps/ana/assignments", cookie)[0] == 200
    assert with_cookie(b, "GET", "/v1/reports/sla", cookie)[0] == 403  # admin only
    # a bearer key is not a session
    st, _, me = b.request("GET", "/ui/session", key=rep)
    assert st == 200 and me["csrf"] is None
    # sign out ends it (with the CSRF header)
    assert with_cookie(b, "POST", "/ui/logout", cookie)[0] == 403
    st, h, _ = with_cookie(b, "POST", "/ui/logout", cookie, csrf)
    assert st == 204 and "Max-Age=0" in h["set-cookie"]
    assert with_cookie(b, "GET", "/ui/session", cookie)[0] == 401
    assert with_cookie(b, "GET", "/ui/session", "ab" * 32)[0] == 401


def test_a_bad_or_ingest_key_does_not_sign_in(baton):
    st, h, body, cookie = sign_in(baton, "bt_nope")
    assert st == 401 and cookie is None and body["error"]["code"] == "unauthorized"
    ingest = baton.create_key("ingest")
    st, _, body, cookie = sign_in(baton, ingest)
    assert st == 403 and cookie is None
    st, _, body = baton.request("POST", "/ui/session", body={}, key=None)
    assert st == 400
    st, _, body = baton.request("POST", "/ui/session", body={"key": "x", "role": "admin"}, key=None)
    assert st == 400 and body["error"]["field"] == "role"


def test_sign_in_from_another_sites_page_is_refused(baton):
    st, h, body = baton.request("POST", "/ui/session", form={"key": baton.admin_key}, key=None,
                                headers={"Sec-Fetch-Site": "cross-site"})
    assert st == 403 and body["error"]["field"] == "Sec-Fetch-Site" and "set-cookie" not in h
    st, _, _ = baton.request("POST", "/ui/session", body={"key": baton.admin_key}, key=None,
                             headers={"Sec-Fetch-Site": "same-origin"})
    assert st == 200


def test_sign_ins_from_one_address_are_rate_limited(baton):
    codes = [sign_in(baton, "bt_wrong")[0] for _ in range(31)]
    assert codes[:30] == [401] * 30 and codes[30] == 429


def test_a_form_sign_in_redirects_to_the_page(baton):
    st, h, _ = baton.request("POST", "/ui/session", form={"key": baton.admin_key}, key=None)
    assert st == 303 and h["location"] == "/ui/" and "HttpOnly" in h["set-cookie"]


def test_csrf_a_cookie_only_post_without_the_token_is_refused(baton_factory):
    b = baton_factory(CONFIG)
    rep = b.create_key("rep", rep="ana")
    _, _, body, cookie = sign_in(b, rep)
    csrf = body["csrf"]
    assert b.post_lead(HOT_LEAD)[0] in (200, 201)
    a = pending_of(b, "ana")[0]
    path = "/v1/assignments/%d/accept" % a["id"]
    st, _, err = with_cookie(b, "POST", path, cookie, body={})
    assert st == 403 and err["error"]["field"] == "X-Baton-CSRF"
    st, _, err = with_cookie(b, "POST", path, cookie, "0" * 64, body={})
    assert st == 403
    assert pending_of(b, "ana")[0]["id"] == a["id"]  # nothing happened
    st, _, done = with_cookie(b, "POST", path, cookie, csrf, body={})
    assert st == 200 and done["status"] == "accepted"
    # never on intake: the cookie is no key there
    st, _, _ = with_cookie(b, "POST", "/v1/leads", cookie, csrf, body={"email": "x@y.example"})
    assert st == 401


def test_a_session_ends_with_its_key(baton_factory):
    b = baton_factory(CONFIG)
    rep = b.create_key("rep", rep="ana")
    _, _, _, cookie = sign_in(b, rep)
    assert with_cookie(b, "GET", "/ui/session", cookie)[0] == 200
    r = b.keys("revoke", "--db", b.db, str(b.key_id(rep)))
    assert r.returncode == 0, r.stderr
    assert with_cookie(b, "GET", "/ui/session", cookie)[0] == 401


# ---- in the browser ----

def shot(driver, name):
    os.makedirs(SHOTS, exist_ok=True)
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def wait_for(driver, css, timeout=WAIT):
    return WebDriverWait(driver, timeout).until(lambda d: d.find_element(By.CSS_SELECTOR, css))


def browser_sign_in(driver, base, key):
    driver.set_window_size(1280, 1000)
    driver.delete_all_cookies()
    driver.get(base + "/ui/")
    WebDriverWait(driver, WAIT).until(lambda d: d.find_element(By.ID, "key").is_displayed())
    driver.find_element(By.ID, "key").send_keys(key)
    driver.find_element(By.ID, "signin-button").click()


@pytest.fixture(scope="module")
def server(baton_module_factory):
    return baton_module_factory(CONFIG)


@pytest.fixture(scope="module")
def baton_module_factory():
    from conftest import Baton
    started = []

    def start(config):
        b = Baton(config)
        b.start()
        started.append(b)
        return b
    yield start
    for b in started:
        b.finish()  # a graceful stop; fails on a sanitizer report


def test_browser_rep_inbox_accept_lead_page_and_others_lead(browser, server):  # noqa: F811
    b = server
    base = "http://127.0.0.1:%d" % b.port
    rep = b.create_key("rep", rep="ana")
    browser_sign_in(browser, base, rep)
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.ID, "who").text == "Signed in as ana")
    cookie = browser.get_cookie("baton_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie.get("expiry") and cookie["expiry"] - time.time() > 7 * 3600
    assert browser.execute_script("return document.cookie") == ""  # HttpOnly
    wait_for(browser, "#inbox-empty")

    st, _, created = b.post_lead(HOT_LEAD)
    assert st in (200, 201)
    lead = created["lead"]["id"]
    card = wait_for(browser, 'article[data-lead="%d"]' % lead)
    WebDriverWait(browser, WAIT).until(
        lambda d: "Jane Doe" in card.text and "Why you" in card.text and "left" in card.text)
    assert "Enterprise" in card.text  # the score's reasons
    first = card.find_element(By.CSS_SELECTOR, ".countdown").text
    time.sleep(1.2)
    assert card.find_element(By.CSS_SELECTOR, ".countdown").text != first  # it counts down
    reasons = [o.text for o in card.find_elements(By.CSS_SELECTOR, ".reject-reason option")]
    assert "Not a fit" in reasons
    shot(browser, "rep-inbox")
    browser.set_window_size(390, 844)  # a phone
    shot(browser, "rep-inbox-phone")
    browser.set_window_size(1280, 1000)

    card.find_element(By.CSS_SELECTOR, "button.accept").click()
    WebDriverWait(browser, WAIT).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, 'article[data-lead="%d"]' % lead))
    st, _, assignments = b.get("/v1/leads/%d/assignments" % lead)
    assert assignments["data"][0]["status"] == "accepted"

    # the lead's page: events, assignments, decision
    browser.get(base + "/ui/#/lead/%d" % lead)
    wait_for(browser, "#lead-events .event")
    WebDriverWait(browser, WAIT).until(
        lambda d: "accepted" in d.find_element(By.ID, "lead-assignments").text
        and "round_robin" in d.find_element(By.ID, "lead-decision").text)
    assert "assignment.accepted" in browser.find_element(By.ID, "lead-events").text
    assert browser.find_element(By.ID, "lead-activities").text
    shot(browser, "lead-page")

    # another rep's lead is not found
    st, _, other = b.post_lead(dict(HOT_LEAD, email="max@other.example", first_name="Max"))
    other_id = other["lead"]["id"]
    st, _, a = b.get("/v1/leads/%d/assignments" % other_id)
    assert a["data"][0]["rep"] != "ana"
    browser.get(base + "/ui/#/lead/%d" % other_id)
    wait_for(browser, "#not-found")
    assert "Max" not in browser.find_element(By.ID, "lead").text
    shot(browser, "rep-other-lead")

    # signing out, then a bad key
    browser.find_element(By.ID, "logout").click()
    WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "key").is_displayed())
    browser_sign_in(browser, base, "bt_not_a_key")
    WebDriverWait(browser, WAIT).until(
        lambda d: "Sign-in failed" in d.find_element(By.ID, "signin-error").text)
    assert browser.get_cookie("baton_session") is None
    shot(browser, "sign-in-failed")


def test_browser_admin_sees_charts_with_data(browser, server):  # noqa: F811
    b = server
    base = "http://127.0.0.1:%d" % b.port
    # at least one accepted assignment in the window (the rep test's, or this one)
    b.post_lead(dict(HOT_LEAD, email="zoe@third.example", first_name="Zoe"))
    for rep in ("ana", "ben", "cy"):
        for a in pending_of(b, rep):
            b.request("POST", "/v1/assignments/%d/accept" % a["id"], body={})
    browser_sign_in(browser, base, b.admin_key)
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.ID, "who").text == "Signed in as admin")

    def datasets(canvas):
        return browser.execute_script(
            "var c = window.Chart && Chart.getChart(document.getElementById(arguments[0]));"
            "return c ? {labels: c.data.labels, data: c.data.datasets.map(function (d) {"
            " return d.data; })} : null;", canvas)

    WebDriverWait(browser, WAIT).until(lambda d: datasets("chart-speed") and datasets("chart-sla"))
    speed, sla = datasets("chart-speed"), datasets("chart-sla")
    assert len(speed["data"]) == 3 and speed["labels"]
    assert any(v is not None for series in speed["data"] for v in series)
    assert sum(v for v in sla["data"][0] if v) >= 1  # met
    wait_for(browser, "#reps tr.rep-row")
    assert "ana" in browser.find_element(By.ID, "reps").text
    assert browser.find_element(By.ID, "holds").text
    assert browser.find_element(By.ID, "breaching").text
    shot(browser, "manager")

    # a rep's status changed in place (a PUT with the cookie and its CSRF token)
    select = browser.find_element(By.CSS_SELECTOR, 'tr[data-rep="cy"] select.rep-status')
    select.find_element(By.CSS_SELECTOR, 'option[value="away"]').click()
    WebDriverWait(browser, WAIT).until(lambda d: b.get("/v1/reps/cy")[2]["status"] == "away")


def test_browser_rep_opens_the_inbox_from_a_link(browser, baton_module_factory):  # noqa: F811
    """A rep with no key: the one-click link's page, "Open my inbox", the
    dashboard signed in as the link's rep with the lead in the inbox."""
    from test_links import CONFIG as LINK_CONFIG, path_of
    b = baton_module_factory(LINK_CONFIG)
    base = "http://127.0.0.1:%d" % b.port
    st, _, created = b.post_lead(HOT_LEAD)
    assert st in (200, 201), created
    lead = created["lead"]["id"]
    st, _, rows = b.get("/v1/leads/%d/assignments" % lead)
    (a,) = rows["data"]
    st, _, full = b.get("/v1/assignments/%d" % a["id"])
    assert st == 200 and full["link"], full
    browser.set_window_size(1280, 1000)
    browser.delete_all_cookies()
    browser.get(base + path_of(full["link"]))
    button = wait_for(browser, "button.inbox")
    assert button.text == "Open my inbox"
    assert browser.get_cookie("baton_session") is None  # the page alone signs nobody in
    shot(browser, "link-page-inbox-button")
    button.click()
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.ID, "who").text == "Signed in as " + a["rep"])
    assert browser.current_url == base + "/ui/"
    cookie = browser.get_cookie("baton_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    card = wait_for(browser, 'article[data-lead="%d"]' % lead)
    WebDriverWait(browser, WAIT).until(lambda d: "Jane Doe" in card.text)
    shot(browser, "rep-inbox-from-link")
    # the lead is accepted from the dashboard, as the rep
    card.find_element(By.CSS_SELECTOR, "button.accept").click()
    WebDriverWait(browser, WAIT).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, 'article[data-lead="%d"]' % lead))
    st, _, rows = b.get("/v1/leads/%d/assignments" % lead)
    assert rows["data"][0]["status"] == "accepted"
    st, _, events = b.get("/v1/leads/%d/events" % lead)
    assert [e["actor"] for e in events["data"] if e["type"] == "assignment.accepted"] == \
        ["link:" + a["rep"]]

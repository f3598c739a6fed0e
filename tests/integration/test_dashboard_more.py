"""The dashboard's rep tasks, the manager's window, reports, deliveries and
reps' time off, and the lead page's full record, in a real headless
Chromium (the setup of test_dashboard.py), against `baton serve
--manual-clock` with a webhook channel to a receiver on loopback
(receivers.py):

- a rep sees its open tasks, the overdue one marked, and completes it with
  Done (which records the first contact); it has no deliveries anywhere;
- an admin sees a dead delivery (the receiver answered 400), opens its
  attempts (status, verdict, the answer's first bytes) with the keyboard,
  retries it once the receiver is fixed and sees it leave the list;
  enables a disabled channel; switches the window to 7 days and sees both
  charts drawn again with only that window's reps; reads fairness and dark
  leads; adds a rep's time off; opens a lead's page with its events,
  assignments, decision record and deliveries;
- on a phone's width the page is one column and does not scroll sideways.

Screenshots go to screenshots/ next to BATON_BIN, like test_dashboard's."""

import os
import time

import pytest

from receivers import WebhookReceiver
from test_dashboard import SHOTS, browser_sign_in, shot, wait_for
from test_forms_browser import WAIT, browser  # noqa: F401 (a fixture)
from test_routing import post, start

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # the browser fixture reports it
    By = Keys = WebDriverWait = None

T0 = "2026-11-24T09:00:00Z"  # a Tuesday

CONFIG = """\
version: 1
qualification:
  fast_track_when: source == "demo"
reps:
  - {id: ana, name: Ana Alves, email: ana@example.com}
  - {id: ben, name: Ben Brandt, email: ben@example.com}
pools:
  - {id: inbound, strategy: round_robin, members: [ana, ben]}
routing:
  rules:
    - {name: everyone, to: 'pool:inbound'}
sla:
  policies:
    - {name: standard, accept_within: 30m, contact_within: 1h, on_breach: [remind]}
delivery:
  channels:
    - {id: hook, type: webhook, events: [lead.assigned], url: %s}
"""


def advance(b, seconds):
    st, _, body = b.request("POST", "/v1/admin/clock", body={"advance_seconds": seconds})
    assert st == 200, body
    return body


def until(fn, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def deliveries(b, **q):
    st, _, body = b.get("/v1/deliveries?" + "&".join("%s=%s" % kv for kv in q.items()))
    assert st == 200, body
    return body["data"]


def owner(b, lead_id):
    st, _, body = b.get("/v1/leads/%d/assignments" % lead_id)
    assert st == 200, body
    return body["data"][-1]["rep"]


@pytest.fixture
def rx():
    with WebhookReceiver() as r:
        yield r


def test_browser_rep_tasks_overdue_done_and_no_deliveries(browser, baton_factory, rx):  # noqa: F811
    b = start(baton_factory, CONFIG % rx.url_for("/hook"), clock=T0)
    first = post(b, 1, first_name="Jane", last_name="Doe", company="Acme")
    post(b, 2)  # round robin: ben's
    advance(b, 31 * 60)  # Jane's accept_by (her task's due time) has passed
    later = post(b, 3, first_name="Kim", company="Kite")
    assert owner(b, first["id"]) == "ana" and owner(b, later["id"]) == "ana"

    base = "http://127.0.0.1:%d" % b.port
    browser_sign_in(browser, base, b.create_key("rep", rep="ana"))
    WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "who").text == "Signed in as ana")
    WebDriverWait(browser, WAIT).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#tasks tr.task-row")) == 2)
    rows = browser.find_elements(By.CSS_SELECTOR, "#tasks tr.task-row")
    overdue = [r for r in rows if "is-overdue" in r.get_attribute("class")]
    assert len(overdue) == 1 and "Call Jane Doe (Acme)" in overdue[0].text
    assert "overdue" in overdue[0].text
    assert "overdue" not in [r for r in rows if r not in overdue][0].text
    task_id = int(overdue[0].get_attribute("data-task"))
    shot(browser, "rep-tasks")

    # Done, by the keyboard: the button takes focus and Enter presses it
    done = overdue[0].find_element(By.CSS_SELECTOR, "button.task-done")
    assert done.tag_name == "button"
    done.send_keys(Keys.ENTER)
    WebDriverWait(browser, WAIT).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, 'tr.task-row[data-task="%d"]' % task_id))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#tasks tr.task-row")) == 1
    st, _, tasks = b.get("/v1/reps/ana/tasks?status=done")
    assert [t["id"] for t in tasks["data"]] == [task_id] and tasks["data"][0]["done_at"]
    st, _, a = b.get("/v1/leads/%d/assignments" % first["id"])
    assert a["data"][0]["status"] == "contacted"  # a contact task records the first contact
    # and the lead left the inbox (it was accepted on the way)
    WebDriverWait(browser, WAIT).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, 'article[data-lead="%d"]' % first["id"]))

    # the rep's lead page: events with actor and reason, no deliveries section
    assert deliveries(b, lead=first["id"])  # there are some, for an admin
    browser.get(base + "/ui/#/lead/%d" % first["id"])
    wait_for(browser, "#lead-events tr.event")
    WebDriverWait(browser, WAIT).until(lambda d: "assignment.contacted" in d.find_element(By.ID, "lead-events").text)
    assert "key:" in browser.find_element(By.ID, "lead-events").text  # the actor
    wait_for(browser, "#lead-decision .decision-candidate")
    assert not browser.find_elements(By.ID, "lead-deliveries")
    assert "Deliveries" not in browser.find_element(By.ID, "lead").text
    # nor in the manager's view, which a rep does not get
    browser.get(base + "/ui/#/manager")
    wait_for(browser, "#tasks")
    assert not browser.find_elements(By.ID, "deliveries")
    assert not browser.find_element(By.ID, "nav-manager").is_displayed()


def test_browser_admin_deliveries_window_reports_time_off_and_lead_page(browser, baton_factory, rx):  # noqa: F811
    rx.always("/hook", 400, body=b'{"error":"bad payload <b>"}')
    b = start(baton_factory, CONFIG % rx.url_for("/hook"), clock=T0)
    # the 30-day window: one accepted assignment each for ana and ben
    old = [post(b, n) for n in (1, 2)]
    rx.wait_for(2, timeout=10, path="/hook")
    assert until(lambda: len(deliveries(b, status="dead")) == 2), deliveries(b)
    for lead, wait in zip(old, (240, 420)):
        # (the clock moves once no send is in flight: a jump past a send's
        # lease would make its message due again)
        advance(b, wait)
        st, _, a = b.get("/v1/leads/%d/assignments" % lead["id"])
        assert b.request("POST", "/v1/assignments/%d/accept" % a["data"][0]["id"], body={})[0] == 200
    advance(b, 10 * 86400)
    # the 7-day window: one more, for ana, accepted 3 minutes after it came
    fresh = post(b, 3, first_name="Jane", last_name="Doe", company="Acme")
    assert owner(b, fresh["id"]) == "ana"
    rx.wait_for(3, timeout=10, path="/hook")
    assert until(lambda: len(deliveries(b, status="dead")) == 3), deliveries(b)
    advance(b, 180)
    st, _, a = b.get("/v1/leads/%d/assignments" % fresh["id"])
    assert b.request("POST", "/v1/assignments/%d/accept" % a["data"][0]["id"], body={})[0] == 200
    dead = [d for d in deliveries(b, status="dead") if d["lead"] == fresh["id"]][0]

    base = "http://127.0.0.1:%d" % b.port
    browser_sign_in(browser, base, b.admin_key)
    browser.set_window_size(1280, 1600)
    WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "who").text == "Signed in as admin")

    def chart(canvas):
        return browser.execute_script(
            "var e = document.getElementById(arguments[0]), c = window.Chart && Chart.getChart(e);"
            "return c ? {window: e.getAttribute('data-window'), drawn: e.getAttribute('data-drawn'),"
            " labels: c.data.labels, data: c.data.datasets.map(function (d) { return d.data; })} : null;",
            canvas)

    # ---- the window: 30 days by default, then 7
    WebDriverWait(browser, WAIT).until(lambda d: chart("chart-speed") and chart("chart-sla"))
    assert sorted(chart("chart-speed")["labels"]) == ["ana", "ben"]
    assert sorted(chart("chart-sla")["labels"]) == ["ana", "ben"]
    speed = chart("chart-speed")
    # p50 of assigned -> accepted (nearest rank: ana's of 240 and 180 s is 180)
    assert dict(zip(speed["labels"], speed["data"][1])) == {"ana": 180, "ben": 660}
    assert chart("chart-sla")["window"] == "30"
    drawn = chart("chart-speed")["drawn"]
    button = browser.find_element(By.CSS_SELECTOR, 'button.window[data-days="7"]')
    assert button.get_attribute("aria-pressed") == "false"
    button.click()
    WebDriverWait(browser, WAIT).until(
        lambda d: chart("chart-speed")["window"] == "7" and chart("chart-sla")["window"] == "7")
    assert chart("chart-speed")["drawn"] != drawn  # drawn again
    assert chart("chart-speed")["labels"] == ["ana"] and chart("chart-sla")["labels"] == ["ana"]
    assert chart("chart-speed")["data"][1] == [180]  # assigned -> accepted, p50 in seconds
    assert sum(v for v in chart("chart-sla")["data"][0] if v) == 1  # met: the one in the window
    assert button.get_attribute("aria-pressed") == "true"
    titles = [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".charts h2")]
    assert all("last 7 days" in t for t in titles) and len(titles) == 2, titles

    # fairness per pool and dark leads, over the same window
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#fairness tr.fairness-row"))
    WebDriverWait(browser, WAIT).until(lambda d: "7 days" in d.find_element(
        By.XPATH, "//div[@id='fairness']/preceding-sibling::h2").text)
    fair = {r.get_attribute("data-rep"): r.text for r in browser.find_elements(By.CSS_SELECTOR, "#fairness tr.fairness-row")}
    assert set(fair) == {"ana", "ben"}
    assert "50%" in fair["ana"] and "100%" in fair["ana"]  # expected half, got all of 1
    assert "inbound (round_robin" in browser.find_element(By.ID, "fairness").text
    WebDriverWait(browser, WAIT).until(lambda d: "Qualified 1" in d.find_element(By.ID, "dark-summary").text)
    assert "never contacted 1" in browser.find_element(By.ID, "dark-summary").text
    assert browser.find_elements(By.CSS_SELECTOR, '#dark-leads a[href="#/lead/%d"]' % fresh["id"])
    browser.execute_script("window.scrollTo(0, 0)")
    shot(browser, "manager-window-7")
    section_shot(browser, browser.find_element(By.ID, "fairness").find_element(By.XPATH, ".."), "manager-fairness")
    section_shot(browser, browser.find_element(By.ID, "dark-leads").find_element(By.XPATH, ".."), "manager-dark-leads")

    # ---- the dead delivery and its attempts, opened with the keyboard
    row = wait_for(browser, 'tr.delivery-row[data-delivery="%d"]' % dead["id"])
    assert row.get_attribute("data-status") == "dead" and "HTTP 400" in row.text
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.delivery-row")) == 3
    toggle = row.find_element(By.CSS_SELECTOR, "button.delivery-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.send_keys(Keys.ENTER)
    attempt = wait_for(browser, "#delivery-detail-%d tr.attempt-row" % dead["id"])
    assert toggle.get_attribute("aria-expanded") == "true"
    assert browser.execute_script("return getComputedStyle(document.activeElement).outlineStyle") == "solid"
    cells = [c.text for c in attempt.find_elements(By.TAG_NAME, "td")]
    assert cells[1] == "400" and cells[2].endswith(" ms") and cells[3]  # status, latency, verdict
    assert '{"error":"bad payload <b>"}' in cells[5]  # the answer's first bytes, as text
    assert not attempt.find_elements(By.TAG_NAME, "b")
    section_shot(browser, browser.find_element(By.ID, "deliveries-section"), "manager-deliveries")

    # the receiver is fixed: Retry delivers it, and it leaves the list
    rx.reset()
    row.find_element(By.CSS_SELECTOR, "button.delivery-retry").click()
    assert until(lambda: b.get("/v1/deliveries/%d" % dead["id"])[2]["status"] == "delivered")
    WebDriverWait(browser, WAIT).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, 'tr.delivery-row[data-delivery="%d"]' % dead["id"]))
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.delivery-row")) == 2

    # channels: their state and backlog; Enable for a disabled one
    ch = wait_for(browser, 'tr.channel-row[data-channel="hook"]')
    assert "active" in ch.text and "dead 2" in ch.text
    assert not ch.find_elements(By.CSS_SELECTOR, "button.channel-enable")
    assert b.request("POST", "/v1/deliveries/channels/hook/disable", body={})[0] == 200
    browser.refresh()
    enable = wait_for(browser, 'tr.channel-row[data-channel="hook"] button.channel-enable')
    assert "disabled" in browser.find_element(By.CSS_SELECTOR, 'tr.channel-row[data-channel="hook"]').text
    section_shot(browser, browser.find_element(By.ID, "channels"), "manager-channels-disabled")
    enable.click()
    assert until(lambda: b.get("/v1/deliveries/channels")[2]["data"][0]["state"] == "active")
    WebDriverWait(browser, WAIT).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "button.channel-enable"))

    # ---- a rep's time off (POST /v1/reps/{id}/time-off) and status
    opener = wait_for(browser, 'tr[data-rep="ben"] button.time-off-open')
    opener.click()
    form = wait_for(browser, 'tr[data-rep="ben"] form.time-off')
    # the form takes the focus, and Tab walks it: from the reason to its button
    assert browser.execute_script("return document.activeElement.className") == "time-off-from"
    form.find_element(By.CSS_SELECTOR, ".time-off-reason").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "Add time off"
    browser.execute_script(
        "var f = arguments[0];"
        "f.querySelector('.time-off-from').value = '2026-12-21T00:00';"
        "f.querySelector('.time-off-to').value = '2027-01-04T00:00';", form)
    form.find_element(By.CSS_SELECTOR, ".time-off-reason").send_keys("winter <holiday>")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, WAIT).until(
        lambda d: "winter <holiday>" in d.find_element(By.CSS_SELECTOR, 'tr[data-rep="ben"] .time-off-list').text)
    spans = b.get("/v1/reps/ben")[2]["time_off"]
    assert len(spans) == 1 and spans[0]["reason"] == "winter <holiday>"
    assert spans[0]["from"].startswith("2026-12-2")  # the browser's local time, in UTC
    section_shot(browser, browser.find_element(By.ID, "reps"), "manager-time-off")
    select = browser.find_element(By.CSS_SELECTOR, 'tr[data-rep="ben"] select.rep-status')
    select.find_element(By.CSS_SELECTOR, 'option[value="away"]').click()
    assert until(lambda: b.get("/v1/reps/ben")[2]["status"] == "away")
    select.find_element(By.CSS_SELECTOR, 'option[value="available"]').click()
    assert until(lambda: b.get("/v1/reps/ben")[2]["status"] == "available")

    # ---- the lead page, from the dark leads' list
    browser.find_element(By.CSS_SELECTOR, '#dark-leads a[href="#/lead/%d"]' % fresh["id"]).click()
    wait_for(browser, "#lead-events tr.event")
    events = browser.find_element(By.ID, "lead-events").text
    for kind in ("lead.created", "lead.assigned", "assignment.accepted"):
        assert kind in events, events
    assert "key:" in events  # the actor
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#lead-decision .decision-candidate"))
    decision = browser.find_element(By.ID, "lead-decision").text
    assert "Result assigned" in decision and "rule everyone" in decision and "pool inbound" in decision
    assert len(browser.find_elements(By.CSS_SELECTOR, "#lead-decision .decision-candidate")) == 2
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#lead-assignments tr.assignment-row"))
    assert "accepted" in browser.find_element(By.ID, "lead-assignments").text
    drow = wait_for(browser, '#lead-deliveries tr.delivery-row[data-delivery="%d"]' % dead["id"])
    assert drow.get_attribute("data-status") == "delivered"
    assert not drow.find_elements(By.CSS_SELECTOR, "button.delivery-retry")  # delivered: no retry
    drow.find_element(By.CSS_SELECTOR, "button.delivery-toggle").click()
    WebDriverWait(browser, WAIT).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#delivery-detail-%d tr.attempt-row" % dead["id"])) == 2)
    shot(browser, "lead-page-full")

    # ---- a phone: one column, nothing wider than the screen
    browser.get(base + "/ui/#/manager")
    wait_for(browser, "#deliveries tr.delivery-row")
    browser.set_window_size(390, 844)
    time.sleep(0.3)
    cols = browser.execute_script("return getComputedStyle(document.querySelector('.charts')).gridTemplateColumns")
    assert len(cols.split()) == 1, cols
    too_wide = browser.execute_script(
        "var w = document.documentElement.clientWidth, out = [];"
        "document.querySelectorAll('body *').forEach(function (e) {"
        "  var r = e.getBoundingClientRect();"
        "  if (r.right > w + 1 && !e.closest('.table-wrap'))"
        "    out.push(e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(r.right));"
        "});"
        "return document.documentElement.scrollWidth > w ? out.slice(0, 10) : [];")
    assert not too_wide, too_wide
    shot(browser, "manager-phone")
    browser.set_window_size(1280, 1000)


def section_shot(driver, element, name):
    """A screenshot of one element, scrolled into view first."""
    driver.execute_script("arguments[0].scrollIntoView(true);", element)
    os.makedirs(SHOTS, exist_ok=True)
    element.screenshot(os.path.join(SHOTS, name + ".png"))

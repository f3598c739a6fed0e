"""Website intake in a real browser: Debian's headless Chromium (driven by
chromedriver through python3-selenium) loads pages served by the test from
other loopback origins (a python http.server on 127.0.0.1 and another
port), as a company's site would be:

- a plain HTML form posts to Baton and the browser lands on the redirect;
- the embedded script (GET /v1/forms/{id}.js) sends the form by fetch()
  with a CORS preflight, the lead arrives and the success message shows;
- a page of an origin that is not allowed is refused (no lead, an error);
- per-input errors show next to the inputs;
- a filled honeypot and a form sent faster than min_fill_time look
  accepted in the page and store nothing.

scripts/install-deps.sh installs chromium and chromium-driver, so a missing
browser fails these tests rather than skipping them."""

import functools
import http.server
import os
import shutil
import tempfile
import threading
import time

import pytest

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # reported by the fixture, as a failure
    webdriver = None

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 15  # seconds for anything the page does


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Site:
    """A static site on 127.0.0.1:PORT serving a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="baton-site-")
        handler = functools.partial(_Quiet, directory=self.dir)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.origin = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def page(self, name, html):
        with open(os.path.join(self.dir, name), "w", encoding="utf-8") as f:
            f.write(html)
        return "%s/%s" % (self.origin, name)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def sites():
    allowed, other = Site(), Site()
    allowed.page("thanks.html", "<!DOCTYPE html><title>Thanks</title><h1 id=thanks>Thank you</h1>")
    yield allowed, other
    allowed.close()
    other.close()


@pytest.fixture(scope="module")
def browser():
    if webdriver is None:
        pytest.fail("python3-selenium is missing: run scripts/install-deps.sh")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail("%s is missing: run scripts/install-deps.sh" % path)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--user-data-dir=" + tempfile.mkdtemp(
                    prefix="baton-chromium-")):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(WAIT)
    yield driver
    driver.quit()


def config(site):
    return """version: 1
server:
  form_redirect_hosts: [127.0.0.1]
intake:
  allowed_origins: [%s]
forms:
  - id: demo
    source: website-demo-form
    fields:
      - {name: email, label: Work email, required: true}
      - {name: company, label: Company, required: true}
      - {name: budget}
    success_message: Thanks, we will call you today.
    min_fill_time: 1s
    rate_limit: off
  - id: plain
    fields: [{name: email, required: true}, {name: company}]
    redirect: %s/thanks.html
    rate_limit: off
  - id: quick
    fields: [{name: email, required: true}]
    min_fill_time: 30s
    rate_limit: off
""" % (site.origin, site.origin)


def script_page(b, form_id, extra=""):
    return """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Demo</title></head><body>
<form data-baton="%(id)s" novalidate>
  <label>Email <input type="text" name="email"></label>
  <label>Company <input type="text" name="company"></label>
  <label>Budget <input type="text" name="budget"></label>
  %(extra)s
  <button type="submit">Send</button>
</form>
<script src="http://127.0.0.1:%(port)d/v1/forms/%(id)s.js"></script>
</body></html>""" % {"id": form_id, "port": b.port, "extra": extra}


def wait_for(driver, css, timeout=WAIT):
    return WebDriverWait(driver, timeout).until(lambda d: d.find_element(By.CSS_SELECTOR, css))


def fill(driver, **values):
    for name, value in values.items():
        el = driver.find_element(By.NAME, name)
        el.clear()
        el.send_keys(value)


def open_form(driver, url):
    driver.get(url)
    return wait_for(driver, "form[data-baton-ready]")


def status(driver):
    el = wait_for(driver, "[data-baton-status][data-baton-state=success], "
                          "[data-baton-status][data-baton-state=error]")
    return el.get_attribute("data-baton-state"), el.text


def test_plain_form_post_and_redirect(baton_factory, browser, sites):
    site, _ = sites
    b = baton_factory(config(site))
    url = site.page("plain.html", """<!DOCTYPE html><html><body>
<form action="http://127.0.0.1:%d/v1/forms/plain" method="post">
  <input type="text" name="email"><input type="text" name="company">
  <input type="text" name="website_url" style="display:none" tabindex="-1" autocomplete="off">
  <button id="send" type="submit">Send</button>
</form></body></html>""" % b.port)
    browser.get(url)
    fill(browser, email="Plain.Post@Acme.example", company="Acme")
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, WAIT).until(lambda d: d.current_url == site.origin + "/thanks.html")
    assert browser.find_element(By.ID, "thanks").text == "Thank you"
    [lead] = b.list_leads()
    assert lead["email"] == "plain.post@acme.example" and lead["source"] == "form:plain"


def test_embedded_script_posts_by_fetch(baton_factory, browser, sites):
    site, _ = sites
    b = baton_factory(config(site))
    form = open_form(browser, site.page("demo.html", script_page(b, "demo")))
    # the script pointed the form at Baton for a plain post, and added its inputs
    assert form.get_attribute("action") == "http://127.0.0.1:%d/v1/forms/demo" % b.port
    assert browser.find_element(By.NAME, "_baton_token").get_attribute("value")
    assert browser.find_element(By.NAME, "website_url").get_attribute("value") == ""
    fill(browser, email="fetch@acme.example", company="Acme", budget="10k")
    time.sleep(1.1)  # a person takes longer than min_fill_time
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert status(browser) == ("success", "Thanks, we will call you today.")
    assert browser.current_url.endswith("/demo.html")  # no navigation: fetch()
    [lead] = b.list_leads()
    assert lead["email"] == "fetch@acme.example" and lead["fields"] == {"budget": "10k"}
    assert lead["source"] == "website-demo-form"
    st, _, body = b.get("/v1/forms")
    assert {f["id"]: f["submissions"]["accepted"] for f in body["data"]}["demo"] == 1


def test_origin_not_allowed_is_refused(baton_factory, browser, sites):
    site, other = sites
    b = baton_factory(config(site))
    open_form(browser, other.page("demo.html", script_page(b, "demo")))
    fill(browser, email="other@acme.example", company="Acme")
    time.sleep(1.1)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    state, text = status(browser)
    assert state == "error" and "could not be sent" in text
    assert b.lead_count() == 0


def test_per_field_errors_show(baton_factory, browser, sites):
    site, _ = sites
    b = baton_factory(config(site))
    open_form(browser, site.page("errors.html", script_page(b, "demo")))
    fill(browser, email="not-an-email")
    time.sleep(1.1)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    state, text = status(browser)
    assert state == "error" and text == "Please correct the fields marked."
    email_error = wait_for(browser, "[data-baton-error=email]").text
    company_error = wait_for(browser, "[data-baton-error=company]").text
    assert email_error.startswith("Work email") and "@" in email_error
    assert company_error == "Company is required"
    assert browser.find_element(By.NAME, "email").get_attribute("aria-invalid") == "true"
    assert b.lead_count() == 0
    # corrected, the errors go and the lead arrives
    fill(browser, email="fixed@acme.example", company="Acme")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "[data-baton-status]")
        .get_attribute("data-baton-state") == "success")
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-baton-error=email]")
    assert [l["email"] for l in b.list_leads()] == ["fixed@acme.example"]


def spam_counts(b, form_id):
    st, _, body = b.get("/v1/forms")
    return {f["id"]: f["submissions"]["spam"] for f in body["data"]}[form_id]


def test_honeypot_and_fill_time(baton_factory, browser, sites):
    site, _ = sites
    b = baton_factory(config(site))
    # a bot fills every input, the hidden trap included
    open_form(browser, site.page("trap.html", script_page(b, "demo")))
    fill(browser, email="bot@acme.example", company="Bots")
    browser.execute_script(
        "document.querySelector('[name=website_url]').value = 'http://spam.example';")
    time.sleep(1.1)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert status(browser) == ("success", "Thanks, we will call you today.")
    # a form sent sooner than its min_fill_time after the page loaded
    open_form(browser, site.page("quick.html", script_page(b, "quick")))
    fill(browser, email="quick@acme.example")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    state, _ = status(browser)
    assert state == "success"  # answered as if accepted
    assert b.lead_count() == 0
    assert spam_counts(b, "demo")["honeypot"] == 1
    assert spam_counts(b, "quick")["too_fast"] == 1

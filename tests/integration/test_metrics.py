"""GET /metrics against the real daemon: after intake, routing, a hold, an
SLA breach (manual clock) and a failed reload, the body passes Debian's
`promtool check metrics` with no lint problems, the counts that must have
moved did, every histogram is cumulative with +Inf equal to _count; the
access rules (loopback without a key, elsewhere an admin key, or
server.metrics.public); no query parameters; and the alert rule of
docs/metrics.md passes `promtool check rules`."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import REPO_ROOT, assert_error
from test_handoff import CONFIG, T0, advance, live
from test_routing import post

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian: prometheus) missing")

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(b, **kw):
    st, headers, body = b.request("GET", "/metrics", **kw)
    assert st == 200, body
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return body.decode("utf-8")


def parse(text):
    """{(name, frozenset(labels)): value}, and {name: type}."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        assert m, line
        labels = frozenset(LABEL_RE.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def promtool_check(text):
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), (
        r.returncode, r.stdout, r.stderr)


def check_histograms(samples, types):
    for name, kind in types.items():
        if kind != "histogram":
            continue
        series = {}
        for (n, labels), v in samples.items():
            if n == name + "_bucket":
                rest = frozenset(kv for kv in labels if kv[0] != "le")
                le = dict(labels)["le"]
                series.setdefault(rest, []).append((float("inf") if le == "+Inf" else float(le), v))
        # families whose label sets are learnt may have no series yet
        assert series or name in ("baton_timer_lateness_seconds",
                                  "baton_delivery_duration_seconds"), name
        for rest, buckets in series.items():
            buckets.sort()
            counts = [c for _, c in buckets]
            assert counts == sorted(counts), (name, rest, buckets)  # cumulative
            assert buckets[-1][0] == float("inf")
            assert samples[(name + "_count", rest)] == counts[-1], (name, rest)
            assert (name + "_sum", rest) in samples


@needs_promtool
def test_a_scrape_after_real_work_is_valid_and_counts_it(baton_factory):
    cfg = CONFIG + "server:\n  limit_loopback: false\n"
    b = baton_factory(config=cfg, started=False)
    b.start(extra_args=("--manual-clock", T0))
    before, _ = parse(scrape(b, key=None))

    # intake and routing: a hot lead (breaches in 5 minutes) and a standard one
    hot = post(b, 1, employees=5000)
    post(b, 2)
    assert live(b, hot["id"])["status"] == "pending"
    # a hold: everyone of the pool away
    for rep in ("ana", "ben", "cy"):
        st, _, body = b.request("PUT", "/v1/reps/%s/status" % rep, body={"status": "away"})
        assert st == 200, body
    post(b, 3)
    # the hot lead's accept_by passes: a breach of policy "hot"
    advance(b, 6 * 60)
    # a failed reload: the running configuration stays
    good = open(b.config_path).read()
    b.write_config("version: 1\nnonsense: [\n")
    b.signal(signal.SIGHUP)
    b.wait_stderr(r"config reload failed")
    b.write_config(good)
    # 404s count under "unmatched", never by raw path
    b.request("GET", "/v1/no/such/thing/123")

    text = scrape(b, key=None)
    promtool_check(text)
    samples, types = parse(text)
    check_histograms(samples, types)

    assert value(samples, "baton_build_info", version="0.1.0") == 1
    st, _, ready = b.get("/readyz", key=None)
    assert value(samples, "baton_config_info", version=ready["config_version"]) == 1
    assert value(samples, "baton_config_reload_failures_total") == 1
    assert value(samples, "baton_config_reloads_total") == 1

    created = value(samples, "baton_http_requests_total", method="POST", route="/v1/leads",
                    status="201")
    assert created == 3
    assert value(samples, "baton_http_request_duration_seconds_count", method="POST",
                 route="/v1/leads") == 3
    assert value(samples, "baton_http_requests_total", method="any", route="unmatched",
                 status="404") == 1
    assert not [k for k in samples if "123" in str(k)], "a raw path leaked into a label"
    assert value(samples, "baton_http_requests_total", method="GET",
                 route="/v1/leads/{id}/assignments", status="200") >= 1

    assert value(samples, "baton_engine_commands_total", kind="ingest") == 3
    assert value(samples, "baton_engine_commands_total", kind="rep_status") == 3
    assert value(samples, "baton_engine_commands_total", kind="sla_due") >= 1
    assert value(samples, "baton_engine_commits_total") >= 7
    assert value(samples, "baton_engine_commit_group_size_count") == \
        value(samples, "baton_engine_commits_total") - value(samples, "baton_engine_commit_failures_total")
    assert value(samples, "baton_engine_commit_group_size_sum") >= 7
    assert value(samples, "baton_engine_queue_depth") == 0

    assert value(samples, "baton_routing_decisions_total", outcome="assigned") >= 2
    assert value(samples, "baton_routing_decisions_total", outcome="held") >= 1
    assert value(samples, "baton_scoring_decisions_total", stage="mql") >= 3

    assert value(samples, "baton_sla_breaches_total", policy="hot", deadline="accept") == 1
    assert ("baton_sla_breaches_total",
            frozenset({("policy", "standard"), ("deadline", "accept")})) in samples
    assert value(samples, "baton_sla_breaches_total", policy="standard", deadline="accept") == 0
    assert value(samples, "baton_sla_breaches_total", policy="hot", deadline="accept") > \
        value(before, "baton_sla_breaches_total", policy="hot", deadline="accept")

    assert value(samples, "baton_hold_queue_leads") >= 1
    assert value(samples, "baton_hold_queue_oldest_age_seconds") == 6 * 60
    # the standard lead waits for ben; the hot one was taken back at its breach
    assert value(samples, "baton_assignments_open", status="pending") >= 1
    assert types["baton_assignments_open"] == "gauge"
    # every assignment by its status now, the closed ones too (the breached one expired)
    assert value(samples, "baton_assignments", status="expired") >= 1
    assert value(samples, "baton_assignments", status="pending") == \
        value(samples, "baton_assignments_open", status="pending")
    assert value(samples, "baton_assignments", status="withdrawn") == 0
    assert types["baton_assignments"] == "gauge"
    # no lead ids or emails anywhere
    assert "acme" not in text and "buyer" not in text


@needs_promtool
def test_the_alert_rule_of_the_docs_is_valid(tmp_path):
    doc = open(os.path.join(REPO_ROOT, "docs", "metrics.md"), encoding="utf-8").read()
    m = re.search(r"```yaml\n(groups:.*?)```", doc, re.S)
    assert m, "docs/metrics.md has no alert rule file"
    rules = tmp_path / "rules.yml"
    rules.write_text(m.group(1))
    r = subprocess.run([PROMTOOL, "check", "rules", str(rules)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "baton_sla_breaches_total" in m.group(1)


def test_loopback_needs_no_key_and_a_key_is_not_looked_at(baton):
    scrape(baton, key=None)
    scrape(baton, key="garbage")
    # on the real clock the sources' first runs are measured, and are not
    # late by the age of the epoch (a source due "at once" is due when set)
    deadline = time.monotonic() + 10
    while True:
        samples, types = parse(scrape(baton))
        ran = [value(samples, "baton_timer_lateness_seconds_count", source=s)
               for s in ("score decay", "hold queue", "sla deadlines")]
        if all(ran) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    check_histograms(samples, types)
    for source in ("score decay", "hold queue", "sla deadlines"):
        count = value(samples, "baton_timer_lateness_seconds_count", source=source)
        assert count >= 1, source
        assert value(samples, "baton_timer_lateness_seconds_bucket", source=source,
                     le="30") == count, source


PROXIED = "version: 1\nintake:\n  rate_limit:\n    trusted_proxies: [127.0.0.1]\n"
ELSEWHERE = {"X-Forwarded-For": "203.0.113.9"}


def test_from_elsewhere_an_admin_key(baton_factory):
    b = baton_factory(PROXIED)
    st, headers, body = b.request("GET", "/metrics", key=None, headers=ELSEWHERE)
    assert_error(st, body, 401, "unauthorized")
    assert headers["www-authenticate"].startswith("Bearer")
    st, _, body = b.request("GET", "/metrics", key="garbage", headers=ELSEWHERE)
    assert_error(st, body, 401, "unauthorized")
    ingest = b.create_key("ingest")
    st, _, body = b.request("GET", "/metrics", key=ingest, headers=ELSEWHERE)
    assert_error(st, body, 403, "forbidden")
    st, _, body = b.request("GET", "/metrics", headers=ELSEWHERE)
    assert st == 200 and b"baton_build_info" in body
    # the proxy itself, for itself, is loopback
    scrape(b, key=None)


def test_public_metrics_need_no_key_from_anywhere(baton_factory):
    b = baton_factory(PROXIED + "server:\n  metrics: {public: true}\n")
    st, _, body = b.request("GET", "/metrics", key=None, headers=ELSEWHERE)
    assert st == 200 and b"baton_build_info" in body


def test_bad_settings_and_bad_requests(baton_factory, baton):
    for bad, why in (("server:\n  metrics: {public: maybe}\n", "server.metrics.public"),
                     ("server:\n  metrics: {open: true}\n", "open"),
                     ("server:\n  metrics: true\n", "server.metrics")):
        d = tempfile.mkdtemp(prefix="baton-it-")
        path = os.path.join(d, "c.yaml")
        with open(path, "w") as f:
            f.write("version: 1\n" + bad)
        from conftest import run_baton
        r = run_baton("check", "--config", path)
        shutil.rmtree(d)
        assert r.returncode != 0 and why in r.stderr, (bad, r.stderr)
    st, _, body = baton.request("GET", "/metrics?format=json", key=None)
    assert_error(st, body, 400, "invalid", "format")
    st, _, body = baton.request("POST", "/metrics", key=None, body={})
    assert st == 405
    # a scrape writes nothing and counts itself next time
    scrape(baton, key=None)
    samples, _ = parse(scrape(baton, key=None))
    assert value(samples, "baton_http_requests_total", method="GET", route="/metrics",
                 status="200") >= 1
    assert value(samples, "baton_http_requests_total", method="GET", route="/metrics",
                 status="400") == 1

"""Rate limits on intake (intake.rate_limit): per key and per client
address, 429 with Retry-After and the error shape, recovery as the (manual)
clock moves, admin keys unaffected by default, X-Forwarded-For believed only
from trusted proxies."""

import signal
import time

from conftest import assert_error

NOW = "2026-11-21T09:00:00Z"


def start(baton_factory, rate_limit=None):
    config = "version: 1\n"
    if rate_limit is not None:
        config += "intake:\n  rate_limit:\n" + "".join(
            "    %s: %s\n" % kv for kv in rate_limit.items())
    b = baton_factory(config, started=False)
    b.start(extra_args=("--manual-clock", NOW))
    return b


def advance(b, seconds):
    st, _, body = b.request("POST", "/v1/admin/clock", body={"advance_seconds": seconds})
    assert st == 200, body


def lead(b, key, n, headers=None):
    return b.post_lead({"email": "rl%d@example.com" % n}, key=key, headers=headers)


def assert_limited(st, hdrs, body, which, retry_after):
    assert_error(st, body, 429, "rate_limited", None)
    assert which in body["error"]["message"], body
    assert "retry in" in body["error"]["message"], body
    assert hdrs.get("retry-after") == str(retry_after), hdrs


def accepted(st, body):
    assert 200 <= st < 300, (st, body)


def test_burst_over_the_key_limit_and_recovery(baton_factory):
    b = start(baton_factory, {"per_key": "6/m burst 3", "per_address": "off"})
    ingest = b.create_key("ingest", name="form")
    for i in range(3):
        st, _, body = lead(b, ingest, i)
        accepted(st, body)
    st, hdrs, body = lead(b, ingest, 3)
    assert_limited(st, hdrs, body, "this API key", 10)  # one per 10 s
    # refused requests write nothing and count nothing
    assert b.lead_count() == 3
    for _ in range(5):
        st, hdrs, body = lead(b, ingest, 3)
        assert_limited(st, hdrs, body, "this API key", 10)
    # POST /v1/activities is intake too, counted in the same budget
    st, hdrs, body = b.request("POST", "/v1/activities", key=ingest,
                               body={"email": "rl0@example.com", "type": "page_view"})
    assert_limited(st, hdrs, body, "this API key", 10)
    st, _, acts = b.get("/v1/leads/1/activities")
    assert st == 200 and acts["data"] == [], acts
    # another ingest key has its own budget; admin keys are not limited
    other = b.create_key("ingest", name="other")
    st, _, body = lead(b, other, 10)
    accepted(st, body)
    for i in range(20):
        st, _, body = lead(b, b.admin_key, 100 + i)
        accepted(st, body)
    # time brings it back: one request per 10 s, exactly
    advance(b, 9)
    st, hdrs, body = lead(b, ingest, 3)
    assert_limited(st, hdrs, body, "this API key", 1)
    advance(b, 1)
    st, _, body = lead(b, ingest, 3)
    accepted(st, body)
    st, hdrs, body = lead(b, ingest, 4)
    assert_limited(st, hdrs, body, "this API key", 10)
    # quiet for long enough: the whole burst again, and no more
    advance(b, 3600)
    for i in range(3):
        st, _, body = lead(b, ingest, 4 + i)
        accepted(st, body)
    st, hdrs, body = lead(b, ingest, 7)
    assert_limited(st, hdrs, body, "this API key", 10)
    assert b.running()


def test_defaults_limit_ingest_keys_per_address_not_admin_keys(baton_factory):
    b = start(baton_factory)  # no rate_limit section: the defaults
    ingest = b.create_key("ingest")
    # 100 at once from one address, 10 a second after that
    for i in range(100):
        st, _, body = lead(b, ingest, i)
        accepted(st, body)
    st, hdrs, body = lead(b, ingest, 100)
    assert_limited(st, hdrs, body, "this address", 1)
    advance(b, 1)
    for i in range(10):
        st, _, body = lead(b, ingest, 200 + i)
        accepted(st, body)
    st, hdrs, body = lead(b, ingest, 300)
    assert_limited(st, hdrs, body, "this address", 1)
    # from the same address, an admin key goes on
    for i in range(120):
        st, _, body = lead(b, b.admin_key, 1000 + i)
        accepted(st, body)
    # only intake is limited: reads and other writes of the ingest key's
    # address are not (and an ingest key's other requests are refused as before)
    st, _, body = b.get("/v1/leads?limit=1")
    assert st == 200, body
    st, _, body = b.get("/v1/leads?limit=1", key=ingest)
    assert_error(st, body, 403, "forbidden")


def test_admin_keys_limited_when_configured(baton_factory):
    b = start(baton_factory, {"per_key": "1/h burst 2", "per_address": "off",
                              "roles": "[ingest, admin]"})
    for i in range(2):
        st, _, body = lead(b, b.admin_key, i)
        accepted(st, body)
    st, hdrs, body = lead(b, b.admin_key, 2)
    assert_limited(st, hdrs, body, "this API key", 3600)


def test_nobody_limited_when_off(baton_factory):
    b = baton_factory("version: 1\nintake:\n  rate_limit: off\n", started=False)
    b.start(extra_args=("--manual-clock", NOW))
    ingest = b.create_key("ingest")
    for i in range(150):
        st, _, body = lead(b, ingest, i)
        accepted(st, body)


def test_an_address_over_its_limit_spends_nothing_of_its_key(baton_factory):
    b = start(baton_factory, {"per_key": "1/h burst 3", "per_address": "1/h burst 2",
                              "trusted_proxies": "[127.0.0.1]"})
    ingest = b.create_key("ingest")
    a = {"X-Forwarded-For": "203.0.113.1"}
    for i in range(2):
        st, _, body = lead(b, ingest, i, headers=a)
        accepted(st, body)
    for _ in range(5):
        st, hdrs, body = lead(b, ingest, 2, headers=a)
        assert_limited(st, hdrs, body, "this address", 3600)
    # the key spent 2 of its 3, whatever the address was refused
    st, _, body = lead(b, ingest, 3, headers={"X-Forwarded-For": "203.0.113.2"})
    accepted(st, body)
    st, hdrs, body = lead(b, ingest, 4, headers={"X-Forwarded-For": "203.0.113.3"})
    assert_limited(st, hdrs, body, "this API key", 3600)


def test_forwarded_for_only_from_trusted_proxies(baton_factory):
    b = start(baton_factory, {"per_key": "off", "per_address": "1/h burst 2",
                              "trusted_proxies": "[127.0.0.1]"})
    ingest = b.create_key("ingest")

    def send(n, xff):
        return lead(b, ingest, n, headers={"X-Forwarded-For": xff} if xff else None)

    for i in range(2):
        accepted(*send(i, "203.0.113.1")[::2])
    st, hdrs, body = send(2, "203.0.113.1")
    assert_limited(st, hdrs, body, "this address", 3600)
    # a client that writes its own header first is still the address our
    # proxy saw
    st, hdrs, body = send(3, "198.51.100.77, 203.0.113.1")
    assert_limited(st, hdrs, body, "this address", 3600)
    accepted(*send(4, "203.0.113.1, 198.51.100.77")[::2])
    # one IPv6 network is one client
    accepted(*send(5, "2001:db8:1:2::1")[::2])
    accepted(*send(6, "[2001:db8:1:2::2]:4711")[::2])
    st, hdrs, body = send(7, "2001:db8:1:2:ffff::3")
    assert_limited(st, hdrs, body, "this address", 3600)
    accepted(*send(8, "2001:db8:1:3::1")[::2])
    # garbage or no header: the proxy's own address
    for i in range(2):
        accepted(*send(10 + i, "unknown")[::2])
    st, hdrs, body = send(12, None)
    assert_limited(st, hdrs, body, "this address", 3600)


def test_forwarded_for_ignored_without_trusted_proxies(baton_factory):
    b = start(baton_factory, {"per_key": "off", "per_address": "1/h burst 2"})
    ingest = b.create_key("ingest")
    for i in range(2):
        st, _, body = lead(b, ingest, i, headers={"X-Forwarded-For": "203.0.113.%d" % i})
        accepted(st, body)
    st, hdrs, body = lead(b, ingest, 2, headers={"X-Forwarded-For": "203.0.113.99"})
    assert_limited(st, hdrs, body, "this address", 3600)


def test_a_reload_changes_the_limits(baton_factory):
    b = start(baton_factory, {"per_key": "1/h burst 1", "per_address": "off"})
    ingest = b.create_key("ingest")
    accepted(*lead(b, ingest, 0)[::2])
    st, hdrs, body = lead(b, ingest, 1)
    assert_limited(st, hdrs, body, "this API key", 3600)
    _, _, ready = b.get("/readyz", key=None)
    b.write_config("version: 1\nintake:\n  rate_limit: off\n")
    b.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while b.get("/readyz", key=None)[2]["config_version"] == ready["config_version"]:
        assert time.monotonic() < deadline, "the reload did not take effect"
        time.sleep(0.01)
    accepted(*lead(b, ingest, 1)[::2])

"""The SQLite WAL under the real daemon: the background checkpointer copies
it back in passes while leads arrive, and once the database has been idle
for a second it truncates the WAL to nothing; the passes, the truncations
and the WAL's size are metrics (docs/metrics.md)."""

import os
import time

from test_metrics import parse, scrape, value


def wal_size(b):
    path = b.db + "-wal"
    return os.path.getsize(path) if os.path.exists(path) else 0


def truncations_reach(b, n, timeout=10):
    """The counter, once it reaches n or the timeout passes. The WAL file is
    empty as soon as SQLite truncates it, but the checkpoint call (and with
    it the count) ends only after SQLite's syncs, which on a busy disk take
    a while: a test that saw the empty file must wait for the count."""
    deadline = time.monotonic() + timeout
    while True:
        got = value(parse(scrape(b))[0], "baton_store_wal_truncations_total")
        if got >= n or time.monotonic() >= deadline:
            return got
        time.sleep(0.05)


def test_wal_is_checkpointed_under_load_and_truncated_when_idle(baton):
    # ~1,500 leads write well over the 1,000 WAL pages that wake a pass
    for i in range(1500):
        st, _, body = baton.post_lead({"email": f"wal{i}@acme{i % 50}.example",
                                    "company": f"Acme {i % 50}",
                                    "fields": {"note": "x" * 400}})
        assert st == 201, body
    assert wal_size(baton) > 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and wal_size(baton) > 0:
        time.sleep(0.2)
    assert wal_size(baton) == 0, "the WAL was not truncated after the database went idle"
    assert truncations_reach(baton, 1) >= 1
    samples, types = parse(scrape(baton))
    assert types["baton_store_checkpoint_duration_seconds"] == "histogram"
    passes = value(samples, "baton_store_checkpoint_duration_seconds_count")
    assert passes >= 2  # at least one pass under load, and the truncation
    assert value(samples, "baton_store_wal_bytes") == 0
    # every lead is still there after the copy
    st, _, body = baton.get("/v1/leads?limit=1")
    assert st == 200


def test_a_truncated_wal_grows_again_and_is_truncated_again(baton):
    for i in range(50):
        st, _, _ = baton.post_lead({"email": f"a{i}@acme.example"})
        assert st == 201
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and wal_size(baton) > 0:
        time.sleep(0.2)
    assert wal_size(baton) == 0
    first = truncations_reach(baton, 1)
    assert first >= 1
    st, _, _ = baton.post_lead({"email": "again@acme.example"})
    assert st == 201
    assert wal_size(baton) > 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and wal_size(baton) > 0:
        time.sleep(0.2)
    assert wal_size(baton) == 0
    assert truncations_reach(baton, first + 1) == first + 1

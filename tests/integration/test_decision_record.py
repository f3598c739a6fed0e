"""Decision records stored compact (issue 10, item 2; docs/routing.md "The
decision record"): the store keeps what the decision saw and decided and the
configuration version, every version that decided something is kept by its
hash, and GET /v1/leads/{id}/decision serves the full record with what the
configuration of that version said, also after a reload to another one."""

import json
import signal
import sqlite3
import time

CONFIG = """version: 1
qualification:
  fast_track_when: source == "demo"
reps:
  - {id: ana, name: Ana, capacity: CAP}
  - {id: ben, name: Ben, capacity: CAP}
pools:
  - {id: main, strategy: round_robin, members: [ana, ben]}
routing:
  rules:
    - {name: spam, when: 'source == "spam"', to: hold}
    - {name: big, when: 'employees >= LIMIT', to: 'pool:main'}
    - {name: everyone, to: 'pool:main'}
"""


def config(cap, limit):
    return CONFIG.replace("CAP", str(cap)).replace("LIMIT", str(limit))


def decision(b, lead_id):
    st, _, d = b.get("/v1/leads/%d/decision" % lead_id)
    assert st == 200, d
    return d


def post(b, email, employees):
    st, _, body = b.post_lead({"email": email, "source": "demo", "employees": employees})
    assert st in (200, 201), body
    return body["lead"] if "lead" in body else body


def wait_version(b, version, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st, _, body = b.request("GET", "/readyz", key=None)
        if body.get("config_version") == version:
            return
        time.sleep(0.02)
    raise AssertionError(b.stderr_text())


def test_records_are_stored_compact_and_served_whole(baton_factory):
    b = baton_factory(config(3, 500))
    first = post(b, "big@acme.example", 800)
    d1 = decision(b, first["id"])
    v1 = d1["config_version"]
    assert d1["result"] == "assigned" and d1["rule"] == "big"
    assert [r["rule"] for r in d1["rules"]] == ["spam", "big"]
    assert d1["rules"][0] == {"rule": "spam", "target": "hold", "when": 'source == "spam"',
                              "matched": False, "step": "not_matched"}
    assert d1["rules"][1]["when"] == "employees >= 500"
    assert d1["rules"][1]["target"] == "pool:main" and d1["rules"][1]["step"] == "assigned"
    assert {c["rep"]: c["capacity"] for c in d1["candidates"]} == {"ana": 3, "ben": 3}
    assert all(c["weight"] == 1 and c["daily_cap"] is None for c in d1["candidates"])
    assert "compact" not in d1 and "rules_tried" not in d1

    # stored: no configuration in the record, the version kept once
    con = sqlite3.connect(b.db)
    (record,) = con.execute("SELECT record FROM decisions WHERE lead_id = ?",
                            (first["id"],)).fetchone()
    kept = con.execute("SELECT version FROM config_versions").fetchall()
    con.close()
    stored = json.loads(record)
    assert stored["compact"] is True and stored["rules_tried"] == 2
    assert "capacity" not in stored["candidates"][0] and "when" not in stored["rules"][0]
    assert "not_matched" not in record
    assert kept == [(v1,)]

    # another configuration: the old decision still shows its own
    b.write_config(config(9, 100))
    b.signal(signal.SIGHUP)
    st, _, ready = b.request("GET", "/readyz", key=None)
    deadline = time.monotonic() + 10
    while ready["config_version"] == v1 and time.monotonic() < deadline:
        time.sleep(0.02)
        st, _, ready = b.request("GET", "/readyz", key=None)
    v2 = ready["config_version"]
    assert v2 != v1
    again = decision(b, first["id"])
    assert again == d1
    second = post(b, "mid@acme.example", 200)
    d2 = decision(b, second["id"])
    assert d2["config_version"] == v2
    assert d2["rules"][1]["when"] == "employees >= 100"
    assert {c["rep"]: c["capacity"] for c in d2["candidates"]} == {"ana": 9, "ben": 9}
    con = sqlite3.connect(b.db)
    assert sorted(v for (v,) in con.execute("SELECT version FROM config_versions")) == \
        sorted([v1, v2])
    con.close()


def test_a_record_whose_version_is_lost_is_served_compact(baton_factory):
    b = baton_factory(config(3, 500))
    lead = post(b, "big@acme.example", 800)
    v1 = decision(b, lead["id"])["config_version"]
    b.write_config(config(4, 500))
    b.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        st, _, ready = b.request("GET", "/readyz", key=None)
        if ready["config_version"] != v1:
            break
        time.sleep(0.02)
    con = sqlite3.connect(b.db)
    with con:
        con.execute("DELETE FROM config_versions WHERE version = ?", (v1,))
    con.close()
    d = decision(b, lead["id"])
    assert d["expanded"] is False and "not kept" in d["expand_error"]
    assert d["compact"] is True and d["result"] == "assigned" and d["rep"] in ("ana", "ben")

"""The best_match pool strategy through the daemon: estimates learnt from the
outcome history (rep = the lead's owner, segment = the pool's segment fields),
the fairness bound, and the decision record with each candidate's estimate,
interval, share and bound; plus the configuration's checks."""

import json
import os
import signal
import sqlite3

from conftest import run_baton
from test_routing import BASE, start
from test_simulate_world import insert_history

REPS = """\
  - {id: ana, name: Ana}
  - {id: ben, name: Ben}
  - {id: cy, name: Cy}
"""


def config(pool_extra="", segments="segments: [industry]"):
    return (BASE + "reps:\n" + REPS + "pools:\n"
            "  - {id: inbound, strategy: best_match, members: [ana, ben, cy], "
            + segments + pool_extra + "}\n"
            "routing:\n  rules:\n    - {name: everyone, to: 'pool:inbound'}\n")


def history():
    """ana closes software, ben retail, cy is average at both."""
    deals = []
    rate = {("ana", "software"): 0.6, ("ben", "software"): 0.1, ("cy", "software"): 0.3,
            ("ana", "retail"): 0.1, ("ben", "retail"): 0.6, ("cy", "retail"): 0.3}
    for (rep, industry), p in rate.items():
        for i in range(100):
            deals.append(("h-%s-%s-%d" % (rep, industry, i), rep, {}, "2026-01-%02d" % (1 + i % 28),
                          "2026-02-01", i < p * 100, 1000, industry))
    return deals


def load_history(db):
    con = sqlite3.connect(db)
    with con:
        insert_history_con(con, history())
    con.close()


def insert_history_con(con, deals):
    for ext, owner, fields, created, closed, won, value, industry in deals:
        stage = "won" if won else "lost"
        ms = 1767225600000  # 2026-01-01
        cur = con.execute(
            "INSERT INTO leads (external_id, owner, stage, industry, fields, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, '{}', ?, ?)", (ext, owner, stage, industry, ms, ms))
        con.execute(
            "INSERT INTO lead_events (lead_id, type, actor, data, at) "
            "VALUES (?, 'lead.stage_changed', 'import', ?, ?)",
            (cur.lastrowid, json.dumps({"from": "new", "to": stage}), ms + 1000))


def post(b, n, industry):
    st, _, body = b.post_lead({"email": "buyer%d@acme%d.example" % (n, n), "source": "demo",
                               "industry": industry})
    assert st == 201, body
    return body["lead"]


def decision(b, lead_id):
    st, _, d = b.get("/v1/leads/%d/decision" % lead_id)
    assert st == 200, d
    return d


def test_best_match_learns_who_closes_what(baton_factory):
    b = start(baton_factory, config())
    load_history(b.db)
    first = post(b, 1, "software")
    assert first["owner"] == "ana"
    d = decision(b, first["id"])
    assert d["strategy"]["name"] == "best_match"
    assert d["strategy"]["reason"] == "highest_expected"
    assert "highest expected conversion" in d["strategy"]["why"]
    assert d["strategy"]["tolerance"] == 0.2 and d["strategy"]["segments"] == ["industry"]
    c = {x["rep"]: x for x in d["candidates"]}
    assert c["ana"]["estimate"] > c["cy"]["estimate"] > c["ben"]["estimate"]
    assert c["ana"]["n"] == 100
    lo, hi = c["ana"]["interval"]
    assert lo < c["ana"]["estimate"] < hi
    assert abs(c["ana"]["share"] - 1 / 3) < 1e-9
    assert c["ana"]["verdict"] == "chosen" and c["ben"]["verdict"] == "lower_expected"
    assert post(b, 2, "retail")["owner"] == "ben"
    # more software leads: ana until her bound, then the next best (cy)
    owners = [post(b, 10 + i, "software")["owner"] for i in range(4)]
    assert owners.count("ana") >= 1 and "cy" in owners
    bound = [decision(b, post(b, 20, "software")["id"])]
    reasons = {x["strategy"]["reason"] for x in bound}
    assert reasons <= {"highest_expected", "next_best", "behind_share", "all_at_bound"}


def test_best_match_without_history_decides_by_the_bound(baton_factory):
    b = start(baton_factory, config(", tolerance: 0"))
    owners = [post(b, i, "software")["owner"] for i in range(6)]
    # no history: every estimate is the same; with tolerance 0 the bound
    # makes it a strict rotation in config order
    assert owners == ["ana", "ben", "cy", "ana", "ben", "cy"]


def test_best_match_config_is_checked(tmp_path):
    def check(extra, pool="best_match"):
        text = config(extra, segments="" if "segments" in extra or pool != "best_match"
                      else "segments: [industry]").replace("strategy: best_match", "strategy: " + pool)
        p = tmp_path / "c.yaml"
        p.write_text(text)
        return run_baton("check", str(p))

    assert check("").returncode == 0
    assert check("tolerance: 0.3, objective: value, window: month, "
                 "segments: [industry, fields.product]").returncode == 0
    for extra, message in [
        (", tolerance: -1", "tolerance"),
        (", tolerance: 11", "tolerance"),
        (", objective: profit", "objective"),
        ("segments: [colour]", "colour"),
        ("segments: []", "segments"),
    ]:
        r = check(extra)
        assert r.returncode != 0, extra
        assert message in r.stderr + r.stdout, (extra, r.stderr)
    r = check("tolerance: 0.2", pool="round_robin")
    assert r.returncode != 0 and "only best_match" in r.stderr + r.stdout

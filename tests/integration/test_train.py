"""`baton train` through the CLI on a real database: the UCI bank marketing
history (held-out quality against the plain logistic regression), too little
history, and bad flags."""

import csv
import json
import os
import sqlite3
import tempfile

import pytest

from conftest import REPO_ROOT, run_baton

UCI = os.path.join(os.path.dirname(REPO_ROOT), "shared", "data", "uci_bank_marketing",
                   "bank-additional-full.csv")
if not os.path.exists(UCI):
    UCI = "/work/shared/data/uci_bank_marketing/bank-additional-full.csv"

T0 = 1210000000000  # May 2008, ms


def make_db(tmp):
    db = os.path.join(tmp, "t.db")
    r = run_baton("keys", "create", "--db", db, "--role", "admin", "--create")
    assert r.returncode == 0, r.stderr
    return db


def insert_history(db, rows):
    """rows: (fields dict, converted bool), in time order. Each becomes a lead
    created a minute after the previous one, then moved to won or lost by a
    'lead.stage_changed' event (the funnel triggers label it). Stands in for
    `baton import leads` until that lands on this branch."""
    con = sqlite3.connect(db)
    with con:
        for i, (fields, won) in enumerate(rows):
            at = T0 + i * 60000
            stage = "won" if won else "lost"
            cur = con.execute(
                "INSERT INTO leads (email, stage, fields, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                ("l%d@example.com" % i, "new", json.dumps(fields), at, at))
            con.execute(
                "INSERT INTO lead_events (lead_id, type, actor, data, at) VALUES (?, ?, ?, ?, ?)",
                (cur.lastrowid, "lead.stage_changed", "system",
                 json.dumps({"from": "new", "to": stage}), at + 1000))
            con.execute("UPDATE leads SET stage = ?, updated_at = ? WHERE id = ?",
                        (stage, at + 1000, cur.lastrowid))
    con.close()


def uci_rows():
    out = []
    with open(UCI, newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            y = row.pop("y") == "yes"
            row.pop("duration")
            fields = {}
            for k, v in row.items():
                try:
                    fields[k] = float(v)
                except ValueError:
                    fields[k] = v
            out.append((fields, y))
    return out


def parse_table(stdout):
    got = {}
    for line in stdout.splitlines():
        for name in ("model", "logistic regression", "xgboost alone"):
            if line.startswith(name + " "):
                parts = line[len(name):].split()
                if len(parts) == 3 and "stored" not in line:
                    got[name] = [float(p) for p in parts]
    return got


@pytest.mark.skipif(not os.path.exists(UCI), reason="UCI data not present")
def test_train_uci_beats_logistic_regression():
    with tempfile.TemporaryDirectory() as tmp:
        db = make_db(tmp)
        insert_history(db, uci_rows())
        r = run_baton("train", "--db", db, "--quiet", timeout=240)
        assert r.returncode == 0, r.stderr
        t = parse_table(r.stdout)
        model_auc, lr_auc = t["model"][0], t["logistic regression"][0]
        # The target (docs/predictive.md: the recipe reaches 0.761).
        assert model_auc >= 0.76, r.stdout
        assert model_auc > lr_auc, r.stdout
        assert "stored" in r.stdout
        print(r.stdout)
        con = sqlite3.connect(db)
        (n, active, metrics) = con.execute(
            "SELECT count(*), max(active), max(metrics) FROM models").fetchone()
        con.close()
        assert n == 1 and not active
        m = json.loads(metrics)
        assert abs(m["test"]["model"]["roc_auc"] - model_auc) < 1e-3
        assert m["test"]["model"]["n"] == 8238


def test_too_little_history_is_a_clear_message():
    with tempfile.TemporaryDirectory() as tmp:
        db = make_db(tmp)
        insert_history(db, [({"x": float(i % 7)}, i % 3 == 0) for i in range(300)])
        r = run_baton("train", "--db", db, "--quiet")
        assert r.returncode == 1
        assert "too little history" in r.stderr
        assert "240 labelled" in r.stderr and "1000" in r.stderr
        con = sqlite3.connect(db)
        assert con.execute("SELECT count(*) FROM models").fetchone()[0] == 0
        con.close()


def test_thresholds_are_configurable_and_activate():
    with tempfile.TemporaryDirectory() as tmp:
        db = make_db(tmp)
        rows = [({"x": float(i % 7), "kind": "a" if i % 2 else "b"}, (i % 7) >= 4 and i % 5 != 0)
                for i in range(600)]
        insert_history(db, rows)
        r = run_baton("train", "--db", db, "--quiet", "--min-labelled", "200", "--min-per-class",
                      "50", "--activate")
        assert r.returncode == 0, r.stderr
        assert "activated" in r.stdout
        con = sqlite3.connect(db)
        assert con.execute("SELECT count(*) FROM models WHERE active").fetchone()[0] == 1
        con.close()


@pytest.mark.parametrize("args,msg", [
    (["--target", "revenue"], "--target"),
    (["--since", "yesterday-ish"], "--since"),
    (["--test-from", "2020-13-45"], "--test-from"),
    (["--min-labelled", "0"], "--min-labelled"),
    (["--bogus"], "usage"),
    (["extra"], "unexpected argument"),
])
def test_bad_flags_exit_2(args, msg):
    r = run_baton("train", "--db", "/nonexistent/x.db", *args)
    assert r.returncode == 2
    assert msg in r.stderr


def test_help():
    r = run_baton("train", "--help")
    assert r.returncode == 0
    assert "--test-from" in r.stdout and "held out" in r.stdout


def test_config_exclusions_are_never_features():
    with tempfile.TemporaryDirectory() as tmp:
        db = make_db(tmp)
        rows = [({"x": float(i % 7), "won_reason": "price" if i % 2 else "fit"},
                 (i % 7) >= 4 and i % 5 != 0) for i in range(600)]
        insert_history(db, rows)
        cfg = os.path.join(tmp, "baton.yaml")
        with open(cfg, "w") as f:
            f.write("version: 1\npredictive:\n  min_labelled: 200\n  min_per_class: 50\n"
                    "  exclude_fields: [won_reason]\n")
        r = run_baton("train", "--db", db, "--config", cfg, "--quiet")
        assert r.returncode == 0, r.stderr
        con = sqlite3.connect(db)
        model = json.loads(con.execute("SELECT model FROM models").fetchone()[0])
        con.close()
        sources = {f["source"] for f in model["features"]}
        assert "fields.x" in sources
        assert "fields.won_reason" not in sources


def test_config_rules_score_is_reported_next_to_the_model():
    with tempfile.TemporaryDirectory() as tmp:
        db = make_db(tmp)
        # x >= 4 converts unless i % 5 == 0: a rule on x ranks the leads well
        rows = [({"x": float(i % 7)}, (i % 7) >= 4 and i % 5 != 0) for i in range(600)]
        insert_history(db, rows)
        cfg = os.path.join(tmp, "baton.yaml")
        with open(cfg, "w") as f:
            f.write("version: 1\nscoring:\n  fit:\n    - name: Big x\n"
                    "      when: fields.x >= 4\n      points: 30\n"
                    "predictive:\n  min_labelled: 200\n  min_per_class: 50\n")
        r = run_baton("train", "--db", db, "--config", cfg, "--quiet")
        assert r.returncode == 0, r.stderr
        assert "rules score" in r.stdout
        con = sqlite3.connect(db)
        metrics = json.loads(con.execute("SELECT metrics FROM models").fetchone()[0])
        con.close()
        rules = metrics["test"]["rules"]
        assert rules["n"] == 120
        # the rule separates x >= 4 from x < 4: AUC well above chance
        assert rules["roc_auc"] > 0.8, rules
        # mapped to a probability on validation: near the rates (~0.8 and 0)
        assert 0 <= rules["brier"] < 0.12, rules
    # without a configuration there is no rules score to report (another
    # database: the same model in the same second would repeat its version)
    with tempfile.TemporaryDirectory() as tmp:
        db = make_db(tmp)
        insert_history(db, rows)
        r = run_baton("train", "--db", db, "--quiet", "--min-labelled", "200",
                      "--min-per-class", "50")
        assert r.returncode == 0, r.stderr
        assert "rules score" not in r.stdout
        con = sqlite3.connect(db)
        last = json.loads(con.execute("SELECT metrics FROM models").fetchone()[0])
        con.close()
        assert last["test"]["rules"] is None

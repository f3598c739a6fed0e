"""The predictive score in the daemon (docs/predictive.md, "In the daemon"):
a model stored in the database and activated with `baton model activate`
scores every lead with p(convert) and its factors, fit rules read it as
`predicted`, `predictive.points` adds it to the total, a reload switches to
the model activated since, and a model whose JSON is corrupt leaves the
daemon scoring with the rules only and saying why. Also `baton model` on
bad ids."""

import json
import math
import signal
import sqlite3
import time

from conftest import run_baton

CONFIG = """version: 1
scoring:
  fit:
    - name: Likely buyer
      when: "predicted >= 0.5"
      points: 40
predictive:
  points: 10
"""


def leaf(value, cover):
    return [-1, None, -1, -1, -1, value, cover]


def model_json(base):
    """Two trees: employees < 100 (-1) or not (+1); plan = pro (+1.5) or not (-0.5)."""
    return {
        "format": "baton-predict-1",
        "features": [
            {"source": "employees", "kind": "numeric"},
            {"source": "fields.plan", "kind": "category", "category": "pro"},
        ],
        "base": base,
        "trees": [
            {"nodes": [[0, 100.0, 1, 2, 2, 0.0, 10.0], leaf(-1.0, 5.0), leaf(1.0, 5.0)]},
            {"nodes": [[1, 0.5, 1, 2, 1, 0.5, 10.0], leaf(-0.5, 5.0), leaf(1.5, 5.0)]},
        ],
        "terms": [],
        "calibration": {"kind": "none"},
    }


def insert_model(db, version, model, created_at=1_700_000_000_000):
    con = sqlite3.connect(db)
    with con:
        cur = con.execute(
            "INSERT INTO models (version, kind, target, created_at, trained_from, trained_until,"
            " test_from, test_until, n_train, n_test, model, metrics)"
            " VALUES (?, 'trees', 'converted', ?, 1600000000000, 1650000000000,"
            " 1650000000000, 1690000000000, 800, 200, ?, ?)",
            (version, created_at, model if isinstance(model, str) else json.dumps(model),
             json.dumps({"test": {"model": {"n": 200, "positives": 20, "base_rate": 0.1,
                                            "roc_auc": 0.81, "pr_auc": 0.4, "brier": 0.08,
                                            "log_loss": 0.3,
                                            "deciles": [{"decile": 1, "count": 20, "rate": 0.5,
                                                         "lift": 5.0, "mean_p": 0.45}],
                                            "calibration": [{"from": 0.0, "to": 0.1, "count": 100,
                                                             "mean_p": 0.05, "rate": 0.04}]},
                                  "rules": {"n": 200, "positives": 20, "base_rate": 0.1,
                                            "roc_auc": 0.62, "pr_auc": 0.2, "brier": 0.09,
                                            "log_loss": 0.35, "deciles": [], "calibration": []}}})))
        return cur.lastrowid


def logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


def model_cmd(b, *args):
    return run_baton("model", *args, "--db", b.db)


def reasons(lead, kind):
    return [r for r in lead["score"]["reasons"] if r["kind"] == kind]


def post(b, email, employees, plan):
    st, _, body = b.post_lead({"email": email, "employees": employees, "fields": {"plan": plan}})
    assert st in (200, 201), body
    return body["lead"] if "lead" in body else body


def reload_and_wait(b, count):
    b.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if b.stderr_text(since_start=True).count("predictive model") >= count:
            return
        time.sleep(0.02)
    raise AssertionError(b.stderr_text())


def test_scored_with_the_active_model_and_switched_on_reload(baton_factory):
    b = baton_factory(CONFIG, started=False)
    b.start()  # creates the database
    b.stop()
    first = insert_model(b.db, "pm-first", model_json(0.0))
    second = insert_model(b.db, "pm-second", model_json(-3.0), created_at=1_700_000_000_001)

    r = model_cmd(b, "activate", str(first))
    assert r.returncode == 0, r.stderr
    assert "reload the daemon" in r.stdout
    r = model_cmd(b, "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "pm-second" in lines[1] and lines[1].startswith(" ")
    assert "pm-first" in lines[2] and lines[2].startswith("*") and "0.810" in lines[2]

    b.start()
    assert "predictive model: pm-first" in b.stderr_text(since_start=True)
    big = post(b, "big@example.com", 500, "pro")
    small = post(b, "small@example.com", 10, "free")

    p = big["score"]["predicted"]
    assert p["model"] == "pm-first"
    assert abs(p["probability"] - logistic(2.5)) < 1e-4
    assert p["points"] == round(logistic(2.5) * 10)
    pos = {f["feature"]: f["contribution"] for f in p["factors"]["positive"]}
    assert set(pos) == {"employees", "fields.plan=pro"}
    assert p["factors"]["negative"] == []
    assert [r["rule"] for r in reasons(big, "fit")] == ["Likely buyer"]
    assert big["score"]["total"] == 40 + round(logistic(2.5) * 10)

    q = small["score"]["predicted"]
    assert abs(q["probability"] - logistic(-1.5)) < 1e-4
    negs = [f["feature"] for f in q["factors"]["negative"]]
    assert "employees" in negs
    assert reasons(small, "fit") == []
    assert small["score"]["total"] == round(logistic(-1.5) * 10)

    # The stored lead shows the same.
    st, _, got = b.get("/v1/leads/%d" % big["id"])
    assert st == 200
    assert got["score"]["predicted"]["model"] == "pm-first"

    # Another model activated: used only after a reload.
    assert model_cmd(b, "activate", "pm-second").returncode == 0
    again = post(b, "big2@example.com", 500, "pro")
    assert again["score"]["predicted"]["model"] == "pm-first"
    reload_and_wait(b, 2)
    assert "predictive model: pm-second" in b.stderr_text(since_start=True)
    switched = post(b, "big3@example.com", 500, "pro")
    assert switched["score"]["predicted"]["model"] == "pm-second"
    assert abs(switched["score"]["predicted"]["probability"] - logistic(-0.5)) < 1e-4
    assert reasons(switched, "fit") == []  # p < 0.5 now

    # Deactivated: rules only after the next reload.
    assert model_cmd(b, "deactivate").returncode == 0
    reload_and_wait(b, 3)
    plain = post(b, "plain@example.com", 500, "pro")
    assert plain["score"]["predicted"] is None
    assert reasons(plain, "predicted") == []


def test_corrupt_model_scores_rules_only(baton_factory):
    b = baton_factory(CONFIG, started=False)
    b.start()
    b.stop()
    good = insert_model(b.db, "pm-good", model_json(0.0))
    assert model_cmd(b, "activate", str(good)).returncode == 0
    con = sqlite3.connect(b.db)
    with con:
        con.execute("UPDATE models SET model = '{\"format\": \"baton-predict-1\", \"trees\": [' "
                    "WHERE id = ?", (good,))
    b.start()
    log = b.stderr_text(since_start=True)
    assert "predictive model not loaded" in log and "pm-good" in log
    lead = post(b, "x@example.com", 500, "pro")
    assert lead["score"]["predicted"] is None
    assert reasons(lead, "fit") == []  # `predicted` is missing: the rule does not hold
    # A model that does not parse cannot be activated again.
    r = model_cmd(b, "activate", "pm-good")
    assert r.returncode == 1 and "cannot be used" in r.stderr


def test_model_command_bad_input(baton_factory):
    b = baton_factory(CONFIG, started=False)
    b.start()
    b.stop()
    mid = insert_model(b.db, "pm-x", model_json(0.0))
    for args in (["show", "999"], ["report", "pm-nope"], ["activate", "0"], ["activate", "-1"]):
        r = model_cmd(b, *args)
        assert r.returncode in (1, 2), (args, r)
        assert "no model" in r.stderr or "usage" in r.stderr, (args, r.stderr)
    r = model_cmd(b, "show")
    assert r.returncode == 2 and "needs one model" in r.stderr
    r = model_cmd(b, "frobnicate")
    assert r.returncode == 2 and "unknown subcommand" in r.stderr
    r = run_baton("model", "list", "--db", b.db + ".missing")
    assert r.returncode == 1
    r = run_baton("model", "--help")
    assert r.returncode == 0 and "activate" in r.stdout

    r = model_cmd(b, "show", str(mid), "--json")
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)
    assert shown["features"] == 2 and shown["trees"] == 2 and shown["active"] is False
    assert {f["feature"] for f in shown["top_features"]} == {"employees", "fields.plan=pro"}

    r = model_cmd(b, "report", "pm-x")
    assert r.returncode == 0, r.stderr
    assert "0.8100" in r.stdout and "0.6200" in r.stdout and "lift by decile" in r.stdout
    r = model_cmd(b, "report", "pm-x", "--json")
    assert json.loads(r.stdout)["test"]["model"]["roc_auc"] == 0.81


def test_baton_score_with_the_active_model(baton_factory, tmp_path):
    b = baton_factory(CONFIG, started=False)
    b.start()
    b.stop()
    mid = insert_model(b.db, "pm-cli", model_json(0.0))
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps({"email": "a@example.com", "employees": 500,
                                "fields": {"plan": "pro"}}))
    r = run_baton("score", "--config", b.config_path, "--db", b.db, str(lead))
    assert r.returncode == 0, r.stderr
    assert "no model is active" in r.stderr
    assert json.loads(r.stdout)["lead"]["score"]["predicted"] is None

    assert model_cmd(b, "activate", str(mid)).returncode == 0
    r = run_baton("score", "--config", b.config_path, "--db", b.db, str(lead))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    p = out["lead"]["score"]["predicted"]
    assert p["model"] == "pm-cli" and abs(p["probability"] - logistic(2.5)) < 1e-4
    assert {f["feature"] for f in p["factors"]["positive"]} == {"employees", "fields.plan=pro"}
    assert out["lead"]["score"]["fit"] == 40

    # Without --db: the rules only, `predicted` missing.
    r = run_baton("score", "--config", b.config_path, str(lead))
    assert json.loads(r.stdout)["lead"]["score"]["fit"] == 0

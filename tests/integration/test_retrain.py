"""Background retraining in the daemon (predictive.retrain_every,
docs/predictive.md "Configuration and retraining"): with no history the run
says so and the daemon scores with the rules only; history imported over the
API is trained on at the next run, off the writer, the model is stored,
activated and loaded as on a reload, new leads are scored with it and show
its factors; later runs store further models and activate one only when it is
not worse on the held-out period."""

import json
import sqlite3
import time

CONFIG = """version: 1
predictive:
  retrain_every: 2s
  min_labelled: 400
  min_per_class: 40
  points: 10
"""


def history(n):
    """n historical leads over 2023: plan pro converts about 3 times in 5,
    plan free 1 time in 10 (a pattern by index, so every run is the same)."""
    rows = []
    for i in range(n):
        pro = i % 3 == 0
        won = (i % 5 < 3) if pro else (i % 10 == 0)
        day = 1 + (i * 364) // n
        created = time.strftime("%Y-%m-%dT09:00:00Z", time.gmtime(1672531200 + day * 86400))
        rows.append({"external_id": "h-%d" % i, "email": "h%d@hist.example" % i,
                     "created_at": created, "converted": won,
                     "plan": "pro" if pro else "free", "seats": 5 + (i * 7) % 40})
    return rows


def models(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT id, version, active, metrics FROM models ORDER BY id").fetchall()
    finally:
        con.close()


def post(b, email, plan):
    st, _, body = b.post_lead({"email": email, "fields": {"plan": plan}})
    assert st in (200, 201), body
    return body["lead"] if "lead" in body else body


def wait_for(what, predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def test_retrains_in_the_background_and_scores_with_the_new_model(baton_factory):
    b = baton_factory(CONFIG)
    # The first run finds no history: a warning, no model, rules only.
    wait_for("the first run's warning",
             lambda: "retrain: too little history" in b.stderr_text(since_start=True))
    assert models(b.db) == []
    assert post(b, "early@acme.example", "pro")["score"]["predicted"] is None

    rows = history(1200)
    for k in range(0, len(rows), 600):
        st, _, body = b.request("POST", "/v1/import/leads", body={"rows": rows[k:k + 600]})
        assert st == 201 and body["created"] == 600, body

    # The next run trains, stores, activates and reloads.
    active = wait_for("an active model", lambda: [m for m in models(b.db) if m[2]])
    mid, version, _, metrics = active[0]
    log = wait_for("the reload", lambda: ("predictive model: " + version)
                   in b.stderr_text(since_start=True) and b.stderr_text(since_start=True))
    assert "retrain: model %d activated" % mid in log
    m = json.loads(metrics)
    assert m["test"]["model"]["roc_auc"] > 0.75, m

    pro = post(b, "pro@acme.example", "pro")["score"]["predicted"]
    free = post(b, "free@acme.example", "free")["score"]["predicted"]
    assert pro["model"] == version and free["model"] == version
    assert pro["probability"] > free["probability"] + 0.2
    assert "fields.plan=pro" in [f["feature"] for f in pro["factors"]["positive"]]

    # Later runs store further models; at most one is active, and the active
    # one's held-out ROC-AUC is the best on that period (same history here,
    # so a new model is no worse and may replace it).
    later = wait_for("a second stored model", lambda: len(models(b.db)) >= 2 and models(b.db))
    assert sum(1 for x in later if x[2]) == 1
    aucs = {x[0]: json.loads(x[3])["test"]["model"]["roc_auc"] for x in later}
    act = [x[0] for x in later if x[2]][0]
    assert aucs[act] >= max(aucs.values()) - 1e-9
    # The daemon keeps serving throughout.
    st, _, _ = b.get("/readyz")
    assert st == 200

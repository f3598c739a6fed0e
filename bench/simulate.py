#!/usr/bin/python3
"""bench/simulate.py - what-if replay throughput (`baton simulate --db --config`;
standard library only).

Starts `baton serve` on bench/route.yaml (every lead qualifies and is routed
through pools), posts --leads leads (default 100,000) with client threads
over keep-alive connections, stops the daemon, then times `baton simulate`
on the database it wrote:

  identical   the same configuration against the stored decisions (one
              replay per lead; expects 0 differing leads)
  candidate   a stricter qualification (mql_when: score >= 20) against the
              stored decisions
  baseline    the candidate against --baseline route.yaml (two replays per
              lead)

Each prints leads replayed per second (the figure `baton simulate` reports:
the store walk plus the decisions, on one core). Every figure is printed as
NAME=VALUE. The machine is shared and noisy: compare figures from one run.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LISTEN_RE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")

COUNTRIES = ["DE", "US", "FR", "GB", "CA", "ES", "BR", "AT", "NL", "MX"]
TITLES = ["VP Sales", "Head of Ops", "Engineer", "Chief of Staff", "Analyst", "Director IT"]
SIZES = [5, 50, 150, 250, 800, 1500, 5000]


def lead(i):
    return {
        "email": "buyer%d@firm%d.example" % (i, i % 9973),
        "company": "Firm %d" % (i % 9973),
        "country": COUNTRIES[i % len(COUNTRIES)],
        "title": TITLES[(i * 7) % len(TITLES)],
        "employees": SIZES[(i * 13) % len(SIZES)],
    }


def start_serve(baton, config, db, log):
    proc = subprocess.Popen([baton, "serve", "--config", config, "--db", db,
                             "--listen", "127.0.0.1:0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(log.name, encoding="utf-8", errors="replace") as f:
            m = LISTEN_RE.search(f.read())
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            sys.exit("baton serve exited early; see %s" % log.name)
        time.sleep(0.05)
    proc.kill()
    sys.exit("baton serve did not start")


def post_all(port, key, n, threads):
    counter = iter(range(n))
    lock = threading.Lock()
    errors = []

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        hdrs = {"Content-Type": "application/json", "Authorization": "Bearer " + key}
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            conn.request("POST", "/v1/leads", body=json.dumps(lead(i)), headers=hdrs)
            r = conn.getresponse()
            r.read()
            if r.status != 201:
                errors.append(r.status)
                break
        conn.close()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        sys.exit("intake failed with status %s" % errors[0])
    return time.monotonic() - t0


def simulate(baton, db, config, *extra):
    t0 = time.monotonic()
    r = subprocess.run([baton, "simulate", "--db", db, "--config", config, "--json",
                        "--limit", "0", *extra],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("baton simulate failed: %s" % r.stderr)
    return json.loads(r.stdout), wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baton", default=os.path.join(REPO, "build", "baton"))
    ap.add_argument("--leads", type=int, default=100000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="baton-bench-simulate-")
    try:
        config = os.path.join(tmp, "route.yaml")
        shutil.copy(os.path.join(REPO, "bench", "route.yaml"), config)
        with open(config, "a", encoding="utf-8") as f:
            f.write("store:\n  synchronous: normal\n")
        with open(config, encoding="utf-8") as f:
            text = f.read()
        candidate = os.path.join(tmp, "candidate.yaml")
        with open(candidate, "w", encoding="utf-8") as f:
            f.write(text.replace("mql_when: score >= 0", "mql_when: score >= 20"))
        db = os.path.join(tmp, "baton.db")
        with open(os.path.join(tmp, "serve.log"), "wb") as log:
            proc, port = start_serve(a.baton, config, db, log)
            try:
                with open(db + ".admin-key", encoding="utf-8") as f:
                    key = f.read().strip()
                took = post_all(port, key, a.leads, a.threads)
                print("intake_leads=%d" % a.leads)
                print("intake_leads_per_second=%.0f" % (a.leads / took))
            finally:
                proc.terminate()
                proc.wait(timeout=60)
        print("db_bytes=%d" % os.path.getsize(db))
        for name, cfg, extra in (("identical", config, ()), ("candidate", candidate, ()),
                                 ("baseline", candidate, ("--baseline", config))):
            rep, wall = simulate(a.baton, db, cfg, *extra)
            print("%s_replayed=%d" % (name, rep["replayed"]))
            print("%s_differing=%d" % (name, rep["differing"]))
            print("%s_leads_per_second=%.0f" % (name, rep["throughput"]["leads_per_second"]))
            print("%s_wall_seconds=%.2f" % (name, wall))
    finally:
        if a.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

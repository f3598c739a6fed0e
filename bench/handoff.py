#!/usr/bin/python3
"""bench/handoff.py - the helper of bench/handoff.sh (standard library only).

    populate  fills a database made by `baton keys create --create` with N
              leads at stage assigned, each with one pending assignment whose
              accept deadline lies in the future, as routing with the SLA
              policy of bench/handoff.sh would have left them.
    window    moves W of those assignments' deadlines to a given instant and
              after, one every GAP ms (a window, or a backlog in the past),
              picked across the whole id range; writes their ids and due
              times to a file for watch.
    startup   starts `baton serve` R times on a database and measures the
              time to its "listening on" line and to the first 200 from
              /readyz, and its VmRSS then and a second later.
    watch     while the daemon runs, watches those assignments with a
              read-only connection and, once all have fired (or a grace time
              has passed), prints how late each deadline fired: by the
              store's record (closed_at - accept_by) and by when the reader
              first saw the expiry committed.

Every figure is printed as one line of NAME=VALUE fields for the shell
script. The rows written by `populate` are those the engine writes for a
routed lead (the lead, its owner and stage, the rep_open count through the
trigger, the assignment with its policy's terms copied from one the daemon
wrote), not the lead's events and decision record, which neither start-up
nor the deadlines read.
"""

import argparse
import http.client
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time

FIRST = ["Anna", "Lukas", "Sophie", "Jonas", "Marie", "Felix", "Laura", "Paul",
         "Emma", "David", "Chloe", "Oscar", "Isabel", "Mateo", "Julia", "Liam"]
LAST = ["Schneider", "Martin", "Smith", "de Vries", "Garcia", "Rossi", "Lindqvist",
        "Nowak", "Fischer", "Bernard", "Johnson", "Jansen", "Lopez", "Bianchi"]
STEMS = ["Nordwind", "Bluepeak", "Ironleaf", "Solvant", "Brightway", "Quantix",
         "Helioform", "Cobaltis", "Verdana", "Tidewater", "Orbitel", "Granitek"]
# (country, legal suffix, tld, pool): the countries bench/load sends, with the
# pool and rule bench/route.yaml routes them to.
PLACES = [("DE", "GmbH", "de", "emea"), ("AT", "GmbH", "at", "emea"),
          ("CH", "AG", "ch", "emea"), ("FR", "SAS", "fr", "emea"),
          ("GB", "Ltd", "co.uk", "emea"), ("NL", "B.V.", "nl", "emea"),
          ("ES", "S.L.", "es", "emea"), ("IT", "S.r.l.", "it", "emea"),
          ("SE", "AB", "se", "emea"), ("PL", "sp. z o.o.", "pl", "emea"),
          ("US", "Inc.", "com", "na"), ("CA", "Inc.", "ca", "na")]
POOL_REPS = {"emea": ["r01", "r02", "r03", "r04", "r05"],
             "na": ["r06", "r07", "r08", "r09", "r10"]}
TITLES = ["VP Sales", "Head of Marketing", "CTO", "Sales Manager", "Procurement Lead",
          "CEO", "IT Manager", "Director of Operations"]
EMPLOYEES = [(5, "1-10"), (30, "11-50"), (125, "51-200"), (300, "201-500"),
             (1200, "1001-5000"), (5000, "1001-5000"), (2000, "1001-5000")]
INDUSTRIES = ["Software", "Manufacturing", "Logistics", "Healthcare", "Retail",
              "Financial Services"]
SOURCES = ["webinar", "website", "trade show", "referral", "content download",
           "paid search"]
CAMPAIGNS = ["q4", "spring-launch", "partner-week", "retargeting"]

# The score bench/route.yaml gives: 15 for a senior title, 30/20 for size.
SENIOR = ("vp", "chief", "head", "director")


def score_of(title, employees):
    """The score and reasons bench/route.yaml gives: 30/20 points for the
    company's size, 15 for a senior title."""
    points, reasons = 0.0, []
    size = 30.0 if employees >= 1000 else 20.0 if employees >= 200 else 0.0
    if size:
        points += size
        reasons.append({"rule": "Enterprise" if size == 30 else "Mid-market", "kind": "fit",
                        "points": size, "after_decay": size, "counted": size, "matches": 1,
                        "group": "Company size"})
    if title.lower().startswith(SENIOR):
        points += 15.0
        reasons.append({"rule": "Senior title", "kind": "fit", "points": 15.0,
                        "after_decay": 15.0, "counted": 15.0, "matches": 1})
    grade = "A" if points >= 40 else "B" if points >= 30 else "C" if points >= 15 else "D"
    return points, grade + "4", json.dumps(reasons, separators=(",", ":"))


def pick_tables(db):
    """Small temp tables the generating query picks from by key, so that
    the million rows are made by SQLite alone (Python would take minutes)."""
    tables = {
        "first_names": [(n,) for n in FIRST],
        "last_names": [(n,) for n in LAST],
        "stems": [(n,) for n in STEMS],
        "places": PLACES,
        "owners": [(rep, pool) for pool in ("emea", "na") for rep in POOL_REPS[pool]],
        "titles_sizes": [(t, e, b) + score_of(t, e) for t in TITLES for e, b in EMPLOYEES],
        "industries": [(n,) for n in INDUSTRIES],
        "sources": [(n,) for n in SOURCES],
        "campaigns": [(json.dumps({"utm_campaign": c, "utm_medium": "email"},
                                  separators=(",", ":")),) for c in CAMPAIGNS],
    }
    for name, rows in tables.items():
        cols = ", ".join(f"c{j}" for j in range(len(rows[0])))
        db.execute(f"CREATE TEMP TABLE {name} (k INTEGER PRIMARY KEY, {cols})")
        db.executemany(f"INSERT INTO {name} VALUES (?, {', '.join('?' * len(rows[0]))})",
                       [(k,) + row for k, row in enumerate(rows)])
    return {name: len(rows) for name, rows in tables.items()}


def cmd_populate(args):
    terms = json.loads(args.terms)
    within = int(terms["accept_within_ms"])
    # accept_by = assigned_at + within, spread evenly (in no order of id)
    # between now + margin and now + within - 1 min: assignments made over
    # the last `within`, none of them due while the benchmark runs.
    first_due = args.now + args.margin_ms
    span = within - args.margin_ms - 60_000
    if span <= 0:
        sys.exit("handoff.py: the policy's accept_within is shorter than the margin")
    db = sqlite3.connect(args.db, isolation_level=None)
    # A scratch database: no rollback journal worth keeping, no syncs; WAL
    # is put back at the end (and the daemon asks for it when it opens).
    db.executescript("PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF;"
                     "PRAGMA cache_size = -1000000; PRAGMA temp_store = MEMORY;")
    if db.execute("SELECT count(*) FROM leads").fetchone()[0]:
        sys.exit("handoff.py: the database already has leads")
    n = pick_tables(db)
    started = time.monotonic()
    db.execute("BEGIN")
    # a, b: two well-mixed values per row (Knuth's multiplicative hash and an
    # LCG step on it), kept below 2^63 so that SQLite stays in integers.
    # The owner is a member of the pool the country routes to (emea: keys
    # 0-4 of owners, na: 5-9); the rep_open trigger counts it.
    db.execute(f"""
        INSERT INTO leads (id, email, first_name, last_name, company, title, phone, website,
            country, industry, source, email_domain, website_domain, employees_band, stage,
            owner, employees, fields, created_at, updated_at, score, fit, engagement, grade,
            score_reasons, scored_at)
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count),
        r(i, a, b) AS (SELECT i, (i * 2654435761) % 4294967296,
                              ((i * 2654435761) % 4294967296 * 1103515245 + 12345) % 2147483648
                       FROM n),
        v(i, a, b, company, at, domain) AS (
            SELECT i, a, b, (a >> 8) % 5000,
                   :first_due + ((a % 1048576) * 2147483648 + b) % :span - :within,
                   lower(s.c0) || ((a >> 8) % 5000) || '.' || p.c2
            FROM r JOIN stems s ON s.k = ((a >> 8) % 5000) % {n["stems"]}
                   JOIN places p ON p.k = (b >> 4) % {n["places"]})
        SELECT v.i,
               lower(f.c0) || '.' || replace(lower(l.c0), ' ', '') || '.' || v.i || '@' || domain,
               f.c0, l.c0, s.c0 || ' ' || company || ' ' || p.c1, ts.c0,
               CASE WHEN b % 2 = 0 THEN printf('+%d %d %07d', 30 + (b >> 9) % 20,
                                               10 + (b >> 13) % 90, a % 10000000) END,
               'https://www.' || domain, p.c0, ind.c0, src.c0, domain, domain, ts.c2,
               'assigned', o.c0, ts.c1, cmp.c0, at, at, ts.c3, ts.c3, 0.0, ts.c4, ts.c5, at
        FROM v JOIN first_names f ON f.k = a % {n["first_names"]}
               JOIN last_names l ON l.k = (a >> 4) % {n["last_names"]}
               JOIN stems s ON s.k = company % {n["stems"]}
               JOIN places p ON p.k = (b >> 4) % {n["places"]}
               JOIN owners o ON o.k = (CASE p.c3 WHEN 'na' THEN 5 ELSE 0 END) + (b >> 17) % 5
               JOIN titles_sizes ts ON ts.k = (a >> 22) % {n["titles_sizes"]}
               JOIN industries ind ON ind.k = (b >> 20) % {n["industries"]}
               JOIN sources src ON src.k = (b >> 23) % {n["sources"]}
               JOIN campaigns cmp ON cmp.k = (b >> 26) % {n["campaigns"]}
        ORDER BY v.i""",
               {"count": args.count, "first_due": first_due, "span": span, "within": within})
    # One pending assignment per lead, to its owner, with the terms the
    # daemon wrote: next_kind 2 is ASSIGNMENT_DUE_ACCEPT at accept_by.
    db.execute("""
        INSERT INTO assignments (id, lead_id, rep_id, pool_id, rule, assigned_at, attempt,
            status, policy, clock, accept_by, next_due, next_kind, terms)
        SELECT l.id, l.id, l.owner, o.c1, o.c1, l.created_at, 1, 'pending', :policy, :clock,
               l.created_at + :within, l.created_at + :within, 2, :terms
        FROM leads l JOIN owners o ON o.c0 = l.owner ORDER BY l.id""",
               {"policy": terms["policy"], "clock": terms["clock"], "within": within,
                "terms": args.terms})
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    # Written without syncs: flush it now, or the daemon's first checkpoint
    # would pay for the whole file in the middle of a measurement.
    fd = os.open(args.db, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    print(f"populate count={args.count} seconds={time.monotonic() - started:.1f} "
          f"db_mib={os.path.getsize(args.db) / 1048576:.0f}")


def cmd_window(args):
    """Moves `deadlines` pending accept deadlines, spread over the whole id
    range, to start + k * gap; writes "id due" lines to --ids-out for watch.
    Each is the first untouched pending assignment at or after its place,
    so that a second window shares none with the first."""
    if args.deadlines < 1 or args.deadlines > args.count:
        sys.exit("handoff.py: the window needs 1..count deadlines")
    stride = args.count // args.deadlines
    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    chosen, after = [], 0
    for k in range(args.deadlines):
        row = db.execute("SELECT id, terms FROM assignments WHERE id >= ? AND id > ? "
                         "AND status = 'pending' AND attempt = 1 AND next_kind = 2 "
                         "AND next_due > ? ORDER BY id LIMIT 1",
                         (1 + k * stride, after, args.start + 3_600_000)).fetchone()
        if not row:
            sys.exit(f"handoff.py: no pending assignment left after id {after}")
        aid, after = row[0], row[0]
        due = args.start + k * args.gap_ms
        within = json.loads(row[1])["accept_within_ms"]
        db.execute("UPDATE assignments SET assigned_at = ?, accept_by = ?, next_due = ? "
                   "WHERE id = ?", (due - within, due, due, aid))
        chosen.append((aid, due))
    db.execute("COMMIT")
    db.close()
    with open(args.ids_out, "w") as f:
        f.writelines(f"{aid} {due}\n" for aid, due in chosen)
    print(f"window deadlines={len(chosen)} first={args.start} gap_ms={args.gap_ms}")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def ready(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/readyz")
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except OSError:
        return False


def one_start(args, log):
    """One start: (ms to the listen line, ms to /readyz, RSS KiB at ready,
    RSS KiB a second later)."""
    cmd = [args.baton, "serve", "--config", args.config, "--db", args.db,
           "--listen", "127.0.0.1:0"]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        buf, port = b"", None
        while port is None:
            left = 30 - (time.monotonic() - t0)
            if left <= 0 or not select.select([p.stderr], [], [], left)[0]:
                raise SystemExit("handoff.py: baton serve printed no listen line in 30 s")
            chunk = os.read(p.stderr.fileno(), 4096)
            if not chunk:
                raise SystemExit("handoff.py: baton serve exited before listening:\n" +
                                 buf.decode(errors="replace"))
            buf += chunk
            log.write(chunk)
            for line in buf.split(b"\n"):
                if b"listening on http://127.0.0.1:" in line:
                    port = int(line.rsplit(b":", 1)[1])
        t_listen = time.monotonic()
        while not ready(port):
            if time.monotonic() - t0 > 30:
                raise SystemExit("handoff.py: /readyz did not answer 200 in 30 s")
            time.sleep(0.002)
        t_ready = time.monotonic()
        rss0 = rss_kib(p.pid)
        time.sleep(1)
        rss1 = rss_kib(p.pid)
        return (t_listen - t0) * 1000, (t_ready - t0) * 1000, rss0, rss1
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        # Drain what it said while stopping, for the log.
        rest = p.stderr.read()
        if rest:
            log.write(rest)
        p.stderr.close()


def cmd_startup(args):
    runs = []
    with open(args.log, "ab") as log:
        for _ in range(args.runs):
            runs.append(one_start(args, log))
    med = sorted(runs, key=lambda r: r[1])[len(runs) // 2]
    print(f"startup label={args.label} runs={len(runs)} "
          f"listen_ms={','.join(f'{r[0]:.0f}' for r in runs)} "
          f"ready_ms={','.join(f'{r[1]:.0f}' for r in runs)} "
          f"median_ready_ms={med[1]:.0f} median_listen_ms={med[0]:.0f} "
          f"rss_ready_kib={med[2]} rss_settled_kib={med[3]} "
          f"max_rss_settled_kib={max(r[3] for r in runs)}")


def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(-(-q * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def cmd_watch(args):
    due = {}
    with open(args.ids) as f:
        for line in f:
            aid, at = line.split()
            due[int(aid)] = int(at)
    ids = sorted(due, key=lambda aid: (due[aid], aid))
    since = args.since
    end = max(max(due.values()), time.time() * 1000) + args.grace * 1000
    db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 1000")
    seen = {}  # id -> ms by which the reader first saw it closed (an upper bound)
    waiting, nxt = [], 0
    while len(seen) < len(ids):
        now = time.time() * 1000
        if now > end:
            break
        while nxt < len(ids) and due[ids[nxt]] <= now:
            waiting.append(ids[nxt])
            nxt += 1
        if waiting:
            # The snapshot is taken when the query starts: a row seen closed
            # was committed before `now`.
            marks = ",".join("?" * min(len(waiting), 500))
            got = db.execute(f"SELECT id FROM assignments WHERE id IN ({marks}) "
                             "AND closed_at IS NOT NULL", waiting[:500]).fetchall()
            for (aid,) in got:
                seen[aid] = now
            if got:
                done = {aid for (aid,) in got}
                waiting = [aid for aid in waiting if aid not in done]
        time.sleep(args.poll_ms / 1000)
    # The store's own record of each deadline that fired.
    rows = {}
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        marks = ",".join("?" * len(part))
        for aid, accept_by, closed_at, status, successor in db.execute(
                f"SELECT id, accept_by, closed_at, status, successor FROM assignments "
                f"WHERE id IN ({marks})", part):
            rows[aid] = (accept_by, closed_at, status, successor)
    # What else happened since the daemon started: other expiries (there
    # should be none), the expired events and the re-routed leads' new
    # assignments (one each).
    expired_events = db.execute(
        "SELECT count(*) FROM lead_events WHERE type = 'assignment.expired' "
        "AND at >= ?", (since,)).fetchone()[0]
    expired_all = db.execute("SELECT count(*) FROM assignments WHERE status = 'expired' "
                             "AND closed_at >= ?", (since,)).fetchone()[0]
    rerouted = db.execute(
        "SELECT count(*) FROM assignments WHERE attempt = 2 AND closed_at IS NULL "
        "AND assigned_at >= ?", (since,)).fetchone()[0]
    db.close()
    fired = [r for r in rows.values() if r[1] is not None and r[2] == "expired"]
    recorded = sorted(r[1] - r[0] for r in fired)
    observed = sorted(seen[aid] - due[aid] for aid in seen)
    early = sum(1 for x in recorded if x < 0)

    def stats(name, xs):
        top = xs[-1] if xs else float("nan")
        return (f"{name}_p50={percentile(xs, 50):.1f}ms {name}_p99={percentile(xs, 99):.1f}ms "
                f"{name}_max={top:.1f}ms")
    print(f"lateness deadlines={len(ids)} fired={len(fired)} early={early} "
          f"missed={len(ids) - len(fired)} other_expired={expired_all - len(fired)} "
          f"expired_events={expired_events} rerouted={rerouted} {stats('recorded', recorded)} "
          f"{stats('seen', observed)} seen_count={len(observed)} "
          f"last_closed_at={max((r[1] for r in fired), default=0)} "
          f"last_seen_at={max(seen.values(), default=0):.0f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("populate")
    p.add_argument("--db", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--now", type=int, required=True, help="ms since the epoch")
    p.add_argument("--terms", required=True, help="an assignment's terms as the daemon wrote them")
    p.add_argument("--margin-ms", type=int, default=3_600_000,
                   help="no deadline before now + this")
    p = sub.add_parser("window")
    p.add_argument("--db", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--deadlines", type=int, required=True)
    p.add_argument("--start", type=int, required=True, help="ms since the epoch")
    p.add_argument("--gap-ms", type=int, required=True)
    p.add_argument("--ids-out", required=True)
    p = sub.add_parser("startup")
    p.add_argument("--baton", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--label", required=True)
    p.add_argument("--log", required=True)
    p = sub.add_parser("watch")
    p.add_argument("--db", required=True)
    p.add_argument("--ids", required=True, help="the file window wrote")
    p.add_argument("--since", type=int, required=True,
                   help="ms before the daemon started (what it did since is counted)")
    p.add_argument("--grace", type=float, default=30,
                   help="seconds after the last deadline (or now, if later)")
    p.add_argument("--poll-ms", type=float, default=5)
    args = ap.parse_args()
    # A TERM from the shell script runs the finally blocks (servers stop).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    {"populate": cmd_populate, "window": cmd_window, "startup": cmd_startup,
     "watch": cmd_watch}[args.cmd](args)


if __name__ == "__main__":
    main()

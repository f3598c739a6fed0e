#!/usr/bin/python3
"""bench/deliver.py - delivery's figures (make bench-deliver; standard library only).

Starts a webhook receiver on loopback and `baton serve` with one webhook
channel on lead.created, then measures:

  reference   the receiver alone: POSTs per second that this machine's
              client threads get through it directly, keep-alive (the
              ceiling any sender could reach here)
  throughput  leads posted as fast as the client threads can: messages
              delivered per second, first post to last arrival, and that as a
              ratio of the reference
  latency     leads posted at a paced rate (--rate, default 1000/s) for
              --seconds: p50 / p99 / max from the intake POST being sent to
              the webhook arriving at the receiver, beside the intake reply's
              own p50 / p99 in the same run

Every figure is printed as NAME=VALUE. The machine is shared and noisy:
compare ratios from one run, not absolute figures across runs.
"""

import argparse
import http.client
import http.server
import json
import os
import re
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Receiver(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops connection attempts under
    # load, and a dropped SYN is retried after a second: that would be the
    # receiver's figure, not Baton's.
    request_queue_size = 1024

    def __init__(self):
        self.arrivals = {}  # email -> monotonic arrival time
        self.count = 0
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        now = time.monotonic()
        email = None
        m = re.search(rb'"email":"([^"]+)"', body)
        if m:
            email = m.group(1).decode()
        srv = self.server
        with srv.lock:
            srv.count += 1
            if email and email not in srv.arrivals:
                srv.arrivals[email] = now
            srv.changed.notify_all()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def percentile(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def reference(port, n, threads):
    """POSTs per second straight at the receiver, keep-alive."""
    body = json.dumps({"type": "lead.created", "lead": {"email": "ref@example.com"}})
    per = n // threads

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(per):
            c.request("POST", "/ref", body=body, headers={"Content-Type": "application/json"})
            c.getresponse().read()
        c.close()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return per * threads / (time.monotonic() - t0)


class Baton:
    def __init__(self, binary, hook_url, concurrency):
        self.dir = tempfile.mkdtemp(prefix="baton-bench-deliver-")
        cfg = os.path.join(self.dir, "baton.yaml")
        with open(cfg, "w") as f:
            f.write("version: 1\n"
                    "store: {synchronous: normal}\n"
                    "intake:\n  rate_limit: off\n"
                    "delivery:\n  channels:\n"
                    "    - {id: hook, type: webhook, events: [lead.created], url: \"%s\",\n"
                    "       concurrency: %d,\n"
                    "       secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n"
                    % (hook_url, concurrency))
        self.db = os.path.join(self.dir, "baton.db")
        self.log = open(os.path.join(self.dir, "stderr.log"), "wb")
        self.proc = subprocess.Popen([binary, "serve", "--config", cfg, "--db", self.db,
                                      "--listen", "127.0.0.1:0"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        deadline = time.monotonic() + 15
        self.port = None
        while time.monotonic() < deadline and self.port is None:
            with open(os.path.join(self.dir, "stderr.log"), "rb") as f:
                m = re.search(rb"listening on http://127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                sys.exit("baton serve exited: see %s" % self.dir)
            else:
                time.sleep(0.01)
        if self.port is None:
            sys.exit("baton serve did not start")
        with open(self.db + ".admin-key") as f:
            self.key = f.read().strip()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def post_leads(baton, emails, threads, rate=None):
    """Posts one lead per email; returns {email: send time} and the reply latencies.
    With `rate`, paces the posts (leads/s over all threads)."""
    sent, replies = {}, []
    lock = threading.Lock()
    chunks = [emails[i::threads] for i in range(threads)]
    t0 = time.monotonic() + 0.05

    def worker(k, mine):
        c = http.client.HTTPConnection("127.0.0.1", baton.port, timeout=30)
        hdrs = {"Content-Type": "application/json", "Authorization": "Bearer " + baton.key}
        for i, email in enumerate(mine):
            if rate:
                due = t0 + (i * threads + k) / rate
                d = due - time.monotonic()
                if d > 0:
                    time.sleep(d)
            body = json.dumps({"email": email, "first_name": "Bench", "company": "Load"})
            s = time.monotonic()
            c.request("POST", "/v1/leads", body=body, headers=hdrs)
            r = c.getresponse()
            r.read()
            e = time.monotonic()
            if r.status != 201:
                sys.exit("intake answered %d" % r.status)
            with lock:
                sent[email] = s
                replies.append(e - s)
        c.close()

    ts = [threading.Thread(target=worker, args=(k, ch)) for k, ch in enumerate(chunks)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sent, replies


def wait_arrivals(rx, emails, timeout):
    deadline = time.monotonic() + timeout
    with rx.lock:
        while not all(e in rx.arrivals for e in emails):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            rx.changed.wait(min(left, 0.5))
        return {e: rx.arrivals.get(e) for e in emails}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baton", default=os.path.join(REPO, "build", "baton"))
    ap.add_argument("--leads", type=int, default=5000, help="leads in the throughput run")
    ap.add_argument("--rate", type=float, default=1000.0, help="leads/s in the latency run")
    ap.add_argument("--seconds", type=float, default=5.0, help="length of the latency run")
    ap.add_argument("--threads", type=int, default=8, help="client threads")
    ap.add_argument("--concurrency", type=int, default=64,
                    help="the channel's concurrency (requests in flight; default 64)")
    a = ap.parse_args()

    rx = Receiver()
    threading.Thread(target=rx.serve_forever, daemon=True).start()
    port = rx.server_address[1]
    ref = reference(port, 4000, a.threads)
    print("reference_posts_per_s=%.0f" % ref)

    baton = Baton(a.baton, "http://127.0.0.1:%d/hook" % port, a.concurrency)
    try:
        emails = ["t%d@bench.example" % i for i in range(a.leads)]
        t0 = time.monotonic()
        sent, replies = post_leads(baton, emails, a.threads)
        t_posted = time.monotonic()
        arr = wait_arrivals(rx, emails, 120)
        got = [t for t in arr.values() if t is not None]
        if len(got) < len(emails):
            print("throughput_missing=%d" % (len(emails) - len(got)))
        last = max(got)
        rate = len(got) / (last - t0)
        print("throughput_leads=%d intake_per_s=%.0f delivered_per_s=%.0f ratio_to_reference=%.3f"
              % (len(emails), len(emails) / (t_posted - t0), rate, rate / ref))

        n = int(a.rate * a.seconds)
        emails = ["l%d@bench.example" % i for i in range(n)]
        t0 = time.monotonic()
        sent, replies = post_leads(baton, emails, a.threads, rate=a.rate)
        achieved = n / (time.monotonic() - t0)
        arr = wait_arrivals(rx, emails, 60)
        lat = [(arr[e] - sent[e]) * 1000 for e in emails if arr.get(e) is not None]
        slow = [i for i, e in enumerate(emails) if arr.get(e) and (arr[e] - sent[e]) > 0.5]
        missing = n - len(lat)
        print("latency_target_per_s=%.0f achieved_per_s=%.0f leads=%d missing=%d"
              % (a.rate, achieved, n, missing))
        print("intake_to_webhook_ms p50=%.2f p99=%.2f max=%.2f"
              % (percentile(lat, 50), percentile(lat, 99), max(lat) if lat else float("nan")))
        if slow:
            print("over_500ms=%d first_at_index=%d" % (len(slow), slow[0]))
        rl = [x * 1000 for x in replies]
        print("intake_reply_ms p50=%.2f p99=%.2f" % (percentile(rl, 50), percentile(rl, 99)))
    finally:
        baton.stop()
        rx.shutdown()


if __name__ == "__main__":
    main()

"""Reloads that explain themselves: the log line and GET /readyz say what a
reload added, removed and changed, or why it failed; `baton reload` checks
a file before it signals and prints the outcome; settings read only at start
are reported as ignored until a restart."""

import json
import os
import re
import signal
import subprocess
import time

from conftest import BATON_BIN, REPO_ROOT, run_baton

EXAMPLE = os.path.join(REPO_ROOT, "examples", "baton.yaml")

TWO_REPS = """version: 1
teams:
  - id: emea
reps:
  - id: anna
    team: emea
  - id: bob
routing:
  rules:
    - name: default
      to: rep:anna
"""

THREE_REPS = TWO_REPS.replace("  - id: bob\n", "  - id: bob\n  - id: carl\n")

# unknown key at line 8, column 5
BROKEN = TWO_REPS.replace("  - id: bob\n", "  - id: bob\n    tema: emea\n")


def readyz(b):
    st, _, body = b.request("GET", "/readyz", key=None)
    assert st == 200, body
    return body


def wait_reload(b, seq, timeout=10.0):
    """Waits until /readyz shows reload number `seq`; returns the body."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = readyz(b)
        last = body["last_reload"]
        if last is not None and last["seq"] >= seq:
            assert last["seq"] == seq, last
            return body
        time.sleep(0.01)
    raise AssertionError("no reload %d in /readyz: %r\n%s" % (seq, readyz(b), b.stderr_text()))


def ids_by_section(text):
    """{section: [ids]} for the `- id:` entries of each top-level list."""
    out, section = {}, None
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+):", line)
        if m:
            section = m.group(1)
        m = re.match(r"^  - id: (\S+)", line)
        if m and section:
            out.setdefault(section, []).append(m.group(1))
    return out


def reload_cmd(b, *args, config=None, timeout=60):
    return run_baton("reload", "--config", config or b.config_path, "--db", b.db, *args,
                     timeout=timeout)


def deploy(b, text):
    """The documented safe way: a temporary file, checked, renamed over."""
    tmp = b.config_path + ".new"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    r = run_baton("check", tmp)
    assert r.returncode == 0, r.stderr
    os.rename(tmp, b.config_path)


# ---- the log and /readyz ----

def test_before_any_reload(baton_factory):
    b = baton_factory(TWO_REPS)
    body = readyz(b)
    assert body["status"] == "ready"
    assert body["last_reload"] is None
    assert set(body) == {"status", "config_version", "schema_version", "last_reload"}


def test_example_cut_short_is_a_loud_reload(baton_factory):
    """The probe: SIGHUP while an editor writes the example file."""
    with open(EXAMPLE, encoding="utf-8") as f:
        full = f.read()
    # the first 5,000 bytes, to the last blank line (a write that stopped
    # between two entries: a valid file)
    head = full.encode("utf-8")[:5000]
    cut = head[:head.rindex(b"\n\n") + 1].decode("utf-8")
    b = baton_factory(full)
    v1 = readyz(b)["config_version"]
    with open(b.config_path + ".cut", "w", encoding="utf-8") as f:
        f.write(cut)
    assert run_baton("check", b.config_path + ".cut").returncode == 0, \
        "the first 5,000 bytes of the example no longer parse: cut elsewhere"
    b.write_config(cut)
    b.signal(signal.SIGHUP)
    body = wait_reload(b, 1)

    ids = ids_by_section(full)
    assert ids["teams"] and ids["reps"] and ids["pools"]
    last = body["last_reload"]
    assert last["result"] == "applied"
    assert last["previous_version"] == v1
    assert last["version"] == body["config_version"] != v1
    assert last["error"] is None
    s = last["summary"]
    assert s["teams"] == {"added": [], "removed": ids["teams"], "changed": []}
    assert s["reps"]["removed"] == ids["reps"]
    assert s["pools"]["removed"] == ids["pools"]
    assert len(s["routing_rules"]["removed"]) == 8
    assert "default" in s["routing_rules"]["removed"]
    assert s["qualification"]["removed"] == ["mql_when", "fast_track_when", "disqualify_when"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", last["at"])

    # one warning line that names what went
    m = b.wait_stderr(r"(?m)^\S+ warn config reloaded: version %s \(was %s\): removed (.*)$"
                      % (last["version"], v1))
    assert m, b.stderr_text()
    line = m.group(1)
    assert "3 teams (%s)" % ", ".join(ids["teams"]) in line
    assert "%d reps (%s" % (len(ids["reps"]), ids["reps"][0]) in line
    assert "8 routing rules (" in line
    assert line == s["text"][len("removed "):]

    # the daemon runs on with what it was given
    assert b.running()
    st, _, body = b.post_lead({"email": "still@example.com"})
    assert st == 201, body


def test_only_additions_are_info(baton_factory):
    b = baton_factory(TWO_REPS)
    b.write_config(THREE_REPS)
    b.signal(signal.SIGHUP)
    body = wait_reload(b, 1)
    s = body["last_reload"]["summary"]
    assert s["reps"] == {"added": ["carl"], "removed": [], "changed": []}
    assert s["text"] == "added 1 rep (carl)"
    assert b.wait_stderr(r"(?m)^\S+ info config reloaded: .*: added 1 rep \(carl\)$")
    assert " warn config reloaded" not in b.stderr_text()


def test_broken_file_is_reported_and_changes_nothing(baton_factory):
    b = baton_factory(TWO_REPS)
    v1 = readyz(b)["config_version"]
    b.write_config(BROKEN)
    b.signal(signal.SIGHUP)
    body = wait_reload(b, 1)
    last = body["last_reload"]
    assert last["result"] == "failed"
    assert last["summary"] is None
    assert last["version"] == last["previous_version"] == v1 == body["config_version"]
    assert last["error"].startswith("%s:8:5: unknown key 'tema'" % b.config_path), last
    assert b.wait_stderr(r"(?m)^\S+ error config reload failed, keeping version %s: %s"
                         % (v1, re.escape(b.config_path + ":8:5:")))
    # the running configuration still has both reps
    st, _, reps = b.get("/v1/reps")
    assert st == 200, reps
    assert sorted(r["id"] for r in reps["reps"]) == ["anna", "bob"]

    # a good file afterwards is reload 2, compared with the running one
    b.write_config(THREE_REPS)
    b.signal(signal.SIGHUP)
    body = wait_reload(b, 2)
    assert body["last_reload"]["result"] == "applied"
    assert body["last_reload"]["previous_version"] == v1
    assert body["last_reload"]["summary"]["text"] == "added 1 rep (carl)"


def test_listen_change_is_ignored_until_restart(baton_factory):
    b = baton_factory(TWO_REPS)
    port = b.port
    b.write_config(TWO_REPS + "server:\n  listen: 127.0.0.1:1\n  max_body_bytes: 2MiB\n")
    b.signal(signal.SIGHUP)
    body = wait_reload(b, 1)
    s = body["last_reload"]["summary"]
    assert s["ignored_until_restart"] == ["server.listen"]
    assert s["settings"] == ["server.max_body_bytes"]
    assert s["text"] == "changed server.max_body_bytes; ignored until restart: server.listen"
    assert b.wait_stderr(r"(?m)^\S+ warn config reloaded: .*ignored until restart: server\.listen$")
    assert b.port == port and readyz(b)["status"] == "ready"  # still on the old address

    # still not in effect at the next reload, which changes something else
    b.write_config(THREE_REPS + "server:\n  listen: 127.0.0.1:1\n  max_body_bytes: 2MiB\n")
    b.signal(signal.SIGHUP)
    s = wait_reload(b, 2)["last_reload"]["summary"]
    assert s["text"] == "added 1 rep (carl); ignored until restart: server.listen"


# ---- baton reload ----

def test_baton_reload_refuses_a_bad_file_without_signalling(baton_factory):
    b = baton_factory(TWO_REPS)
    v1 = readyz(b)["config_version"]
    b.write_config(BROKEN)
    r = reload_cmd(b)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stderr.startswith("%s:8:5: unknown key 'tema'" % b.config_path), r.stderr
    assert "nothing was signalled" in r.stderr
    time.sleep(0.3)
    body = readyz(b)
    assert body["last_reload"] is None and body["config_version"] == v1
    assert "config reload" not in b.stderr_text()


def test_baton_reload_applies_a_good_file_and_prints_the_summary(baton_factory):
    b = baton_factory(TWO_REPS)
    v1 = readyz(b)["config_version"]
    deploy(b, THREE_REPS.replace("  - id: bob\n", ""))
    r = reload_cmd(b)
    assert r.returncode == 0, (r.stdout, r.stderr)
    body = readyz(b)
    v2 = body["config_version"]
    assert v2 != v1
    out = r.stdout.splitlines()
    assert out[0] == "%s: ok (config version %s)" % (b.config_path, v2)
    assert out[1] == "baton serve (pid %d) runs version %s" % (b.proc.pid, v1)
    assert out[-1] == ("reloaded: version %s (was %s): removed 1 rep (bob); added 1 rep (carl)"
                       % (v2, v1))
    assert body["last_reload"]["result"] == "applied" and body["last_reload"]["seq"] == 1

    # --status shows the same; --json the file as the daemon wrote it
    r = run_baton("reload", "--status", "--db", b.db)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "baton serve (pid %d) runs version %s of %s" % (
        b.proc.pid, v2, b.config_path)
    assert "last reload (#1): applied at " in r.stdout
    assert r.stdout.rstrip().endswith("removed 1 rep (bob); added 1 rep (carl)")
    r = run_baton("reload", "--status", "--json", "--db", b.db)
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["pid"] == b.proc.pid and st["version"] == v2
    assert st["last_reload"] == body["last_reload"]


def test_baton_reload_by_pid(baton_factory):
    b = baton_factory(TWO_REPS)
    b.write_config(THREE_REPS)
    r = run_baton("reload", "--config", b.config_path, "--pid", str(b.proc.pid))
    assert r.returncode == 0, r.stderr
    assert "without --db the outcome is not waited for" in r.stdout
    assert wait_reload(b, 1)["last_reload"]["summary"]["text"] == "added 1 rep (carl)"


def test_baton_reload_a_file_the_daemon_does_not_read(baton_factory, tmp_path):
    b = baton_factory(TWO_REPS)
    other = tmp_path / "other.yaml"
    other.write_text(THREE_REPS)
    r = reload_cmd(b, config=str(other))
    assert r.returncode == 1
    assert "the daemon reads %s, not %s" % (b.config_path, other) in r.stderr
    time.sleep(0.2)
    assert readyz(b)["last_reload"] is None


def test_baton_reload_reports_a_refusal(baton_factory, tmp_path):
    """The file passes the check and is broken before the daemon reads it:
    the command reports the daemon's refusal, and the old version stays."""
    b = baton_factory(TWO_REPS)
    v1 = readyz(b)["config_version"]
    b.write_config(THREE_REPS)
    out_path = tmp_path / "reload.out"
    b.signal(signal.SIGSTOP)  # the daemon takes the SIGHUP only once it runs again
    try:
        with open(out_path, "w") as out:
            p = subprocess.Popen([BATON_BIN, "reload", "--config", b.config_path, "--db", b.db],
                                 stdout=out, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        while "runs version" not in out_path.read_text():  # printed once the file is checked
            assert time.monotonic() < deadline and p.poll() is None, out_path.read_text()
            time.sleep(0.01)
        b.write_config(BROKEN)
    finally:
        b.signal(signal.SIGCONT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1, (out_path.read_text(), err)
    assert "the daemon refused the file: %s:8:5:" % b.config_path in err, err
    assert "it keeps version %s" % v1 in err
    assert readyz(b)["config_version"] == v1


def test_baton_reload_waits_a_bounded_time(baton_factory):
    b = baton_factory(TWO_REPS)
    b.write_config(THREE_REPS)
    b.signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        r = reload_cmd(b, "--timeout", "1")
        took = time.monotonic() - t0
    finally:
        b.signal(signal.SIGCONT)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "reported no reload" in r.stderr and "within 1 s" in r.stderr
    assert took < 10
    # the signal was sent: the daemon reloads once it runs again
    assert wait_reload(b, 1)["last_reload"]["summary"]["text"] == "added 1 rep (carl)"


def test_baton_reload_without_a_daemon(tmp_path):
    cfg = tmp_path / "baton.yaml"
    cfg.write_text(TWO_REPS)
    db = str(tmp_path / "baton.db")
    r = run_baton("reload", "--config", str(cfg), "--db", db)
    assert r.returncode == 1
    assert "%s.pid" % db in r.stderr and "running?" in r.stderr
    r = run_baton("reload", "--status", "--db", db)
    assert r.returncode == 1
    # a pid file a crashed daemon left, naming a process that is not baton
    # by now: it is not signalled (SIGHUP would end it)
    other = subprocess.Popen(["sleep", "60"])
    try:
        with open(db + ".pid", "w") as f:
            f.write("%d\n" % other.pid)
        r = run_baton("reload", "--config", str(cfg), "--db", db)
        assert r.returncode == 1
        assert "names process %d, but no baton serve holds it" % other.pid in r.stderr
        time.sleep(0.2)
        assert other.poll() is None, "a process that is not baton was signalled"
    finally:
        other.kill()
        other.wait()
    for args in ([], ["--config", str(cfg)], ["--status"], ["--db", db, "--json"],
                 ["--db", db, "--timeout", "0"], ["--pid", "abc"]):
        r = run_baton("reload", *args)
        assert r.returncode == 2, (args, r.stderr)


def test_pid_and_status_files_live_with_the_daemon(baton_factory):
    b = baton_factory(TWO_REPS)
    with open(b.db + ".pid") as f:
        assert f.read() == "%d\n" % b.proc.pid
    assert os.stat(b.db + ".reload").st_mode & 0o777 == 0o600
    assert run_baton("reload", "--status", "--db", b.db).returncode == 0
    assert b.stop() == 0
    assert not os.path.exists(b.db + ".pid")
    assert not os.path.exists(b.db + ".reload")


def test_files_of_a_killed_daemon_are_not_trusted(baton_factory):
    b = baton_factory(TWO_REPS)
    pid = b.proc.pid
    b.kill()  # SIGKILL: the files stay behind
    assert os.path.exists(b.db + ".pid") and os.path.exists(b.db + ".reload")
    r = run_baton("reload", "--status", "--db", b.db)
    assert r.returncode == 1
    assert "names process %d, but no baton serve holds it" % pid in r.stderr
    r = reload_cmd(b)
    assert r.returncode == 1 and "no baton serve holds it" in r.stderr
    # the next start replaces them
    b.start()
    with open(b.db + ".pid") as f:
        assert f.read() == "%d\n" % b.proc.pid
    assert run_baton("reload", "--status", "--db", b.db).returncode == 0

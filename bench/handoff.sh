#!/usr/bin/env bash
# bench/handoff.sh - the handoff benchmark: `baton serve` with a million
# pending assignments. Start-up time and memory, how late SLA deadlines fire
# while intake runs at half its peak, and what the handoff costs routed
# intake.
#
# 1. The ceiling: build/bench/null_server under a closed-loop build/bench/load.
# 2. Routed intake (bench/route.yaml, synchronous full), closed loop, on
#    fresh databases: without an sla section (as before the handoff), and
#    with one (every routed lead gets an assignment with a deadline), the
#    two alternating for BENCH_ROUNDS rounds. Before the first sla run,
#    start-up time and RSS on that empty database.
# 3. A database with BENCH_ASSIGNMENTS leads, each assigned with one pending
#    assignment whose accept deadline lies 1 h to 30 days ahead, written by
#    bench/handoff.py with the policy terms the daemon wrote in step 2.
#    Start-up time and RSS on it; routed intake's peak on it.
# 4. Lateness: BENCH_WINDOW seconds' worth of those deadlines (one every
#    BENCH_DEADLINE_GAP_MS, spread over the whole table) are moved to fall
#    due from a few seconds after the daemon starts; intake runs paced at
#    half step 3's peak all the while; each expiry re-routes its lead.
#    Lateness is the store's record: closed_at (the engine's clock when it
#    expired the assignment) - accept_by, and, as a check, when a read-only
#    reader polling every 5 ms first saw the expiry committed.
# 5. A restart with a backlog: BENCH_BACKLOG other deadlines passed during
#    the minute before the daemon starts (docs/handoff.md: they are
#    processed at once, in deadline order); how many fire within 30 s, and
#    how soon the last one did.
# 6. The figures, against the targets (start-up < 2 s, p99 lateness < 100 ms).
#
# Everything binds to 127.0.0.1; servers and helpers are stopped and temp
# dirs removed on any exit. About 4-5 minutes with the defaults.
#
#   BENCH_ASSIGNMENTS      pending assignments (default 1000000; 100000 for a quick run)
#   BENCH_WINDOW           seconds over which deadlines fall due (default 60)
#   BENCH_DEADLINE_GAP_MS  ms between two of them (default 5: 12,000 in 60 s)
#   BENCH_SECONDS          measured seconds per closed-loop run (default 10)
#   BENCH_CONNECTIONS      client connections (default 32)
#   BENCH_WARMUP           seconds of load before measuring (default 2)
#   BENCH_BACKLOG          deadlines passed before the restart of step 5 (default 1000; 0: no step 5)
#   BENCH_ROUNDS           closed-loop runs of each mode on fresh databases, alternating (default 2)
#   BENCH_BASELINE_BATON   another baton binary (say, a build from before the handoff) whose
#                          routed intake without an sla section is measured too, in step 2
#   BUILD                  build folder (default build)
set -euo pipefail

cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
ASSIGNMENTS=${BENCH_ASSIGNMENTS:-1000000}
WINDOW=${BENCH_WINDOW:-60}
GAP_MS=${BENCH_DEADLINE_GAP_MS:-5}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
WARMUP=${BENCH_WARMUP:-2}
BACKLOG=${BENCH_BACKLOG:-1000}
ROUNDS=${BENCH_ROUNDS:-2}
BASELINE=${BENCH_BASELINE_BATON:-}
PYTHON=/usr/bin/python3

BATON=$BUILD/baton
NULL_SERVER=$BUILD/bench/null_server
LOAD=$BUILD/bench/load
HELPER=bench/handoff.py

. bench/lib.sh

is_count "$ASSIGNMENTS" 1000 10000000 || die "BENCH_ASSIGNMENTS must be 1000..10000000, not '$ASSIGNMENTS'"
is_count "$WINDOW" 5 600 || die "BENCH_WINDOW must be 5..600, not '$WINDOW'"
is_count "$GAP_MS" 1 10000 || die "BENCH_DEADLINE_GAP_MS must be 1..10000, not '$GAP_MS'"
is_count "$SECONDS_PER_RUN" 1 600 || die "BENCH_SECONDS must be 1..600, not '$SECONDS_PER_RUN'"
is_count "$CONNECTIONS" 1 1024 || die "BENCH_CONNECTIONS must be 1..1024, not '$CONNECTIONS'"
is_count "$WARMUP" 0 600 || die "BENCH_WARMUP must be 0..600, not '$WARMUP'"
is_count "$BACKLOG" 0 100000 || die "BENCH_BACKLOG must be 0..100000, not '$BACKLOG'"
is_count "$ROUNDS" 1 10 || die "BENCH_ROUNDS must be 1..10, not '$ROUNDS'"
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || die "BENCH_BASELINE_BATON: $BASELINE is not an executable"
DEADLINES=$((WINDOW * 1000 / GAP_MS))
[ "$DEADLINES" -ge 1 ] && [ $((2 * (DEADLINES + BACKLOG))) -le "$ASSIGNMENTS" ] ||
    die "BENCH_WINDOW / BENCH_DEADLINE_GAP_MS gives $DEADLINES deadlines; with BENCH_BACKLOG that must be at most half of BENCH_ASSIGNMENTS"
for bin in "$BATON" "$NULL_SERVER" "$LOAD"; do
    [ -x "$bin" ] || die "$bin is missing: build first (make bench-handoff builds everything)"
done
[ -x "$PYTHON" ] || die "$PYTHON is missing"

bench_traps

# run_helper ARGS...: bench/handoff.py in the background (so that a signal
# reaches the trap at once, and cleanup stops it and the servers it started),
# its output line left in helper_line.
run_helper() {
    local out=$work/helper.out status=0
    "$PYTHON" "$HELPER" "$@" >"$out" &
    helper_pids+=($!)
    wait $! || status=$?
    forget_helper $!
    [ "$status" -eq 0 ] || die "bench/handoff.py $1 failed (status $status)"
    helper_line=$(tail -n 1 "$out")
    echo "  $helper_line"
}

# forget_helper PID: it has exited; cleanup need not stop it.
forget_helper() {
    local pid kept=()
    for pid in "${helper_pids[@]}"; do
        [ "$pid" = "$1" ] || kept+=("$pid")
    done
    helper_pids=("${kept[@]}")
}

now_ms() { date +%s%3N; }

# config FILE with_sla: bench/route.yaml, synchronous full, no rate limit,
# and (with_sla = 1) one SLA policy for every lead. Its window is long so
# that a month of assignments can be pending; what the handoff costs intake
# does not depend on its length (a wall clock: one addition).
config() {
    cp bench/route.yaml "$1"
    printf 'store:\n  synchronous: full\nintake:\n  rate_limit: off\n' >>"$1"
    if [ "$2" = 1 ]; then
        cat >>"$1" <<'EOF'
sla:
  policies:
    - name: standard
      accept_within: 30d
EOF
    fi
}

# ingest_key DB: a new ingest key (creating the database), in key.
ingest_key() {
    key=$("$BATON" keys create --create --db "$1" --role ingest --name bench 2>/dev/null) ||
        die "baton keys create failed"
    key=$(printf '%s\n' "$key" | head -n 1)
    [ -n "$key" ] || die "baton keys create printed no key"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

new_temp_dir
work=$dir
started_at=$(date +%s)
load_at_start=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo '?')
echo "handoff benchmark: $ASSIGNMENTS pending assignments; $DEADLINES deadlines over ${WINDOW} s" \
    "(one every ${GAP_MS} ms); $CONNECTIONS connections, ${SECONDS_PER_RUN} s measured after ${WARMUP} s warm-up"

# 1. The ceiling.
start_server "$work/null_server.log" "$NULL_SERVER" 0
run_load ceiling "http://127.0.0.1:$server_port/v1/leads" --key bench-null-server-ignores-it
ceiling_line=$load_line
stop_server null_server
ceiling=$(field "$ceiling_line" throughput)
ceiling=${ceiling%/s}

# 2. Routed intake on fresh databases, without and with an sla section
#    (and the baseline binary), in ROUNDS rounds that alternate the modes so
#    that the machine's drift hits them alike. Start-up on an empty
#    database is measured before the first sla run.
declare -A peak p50 p99 rss errors runs
# peak_run MODE DB CONFIG [BINARY]: the closed-loop figures of MODE (the
# throughput added to its runs), the server left running.
peak_run() {
    local mode=$1 line tput
    start_server "$work/baton-$mode.log" "${4:-$BATON}" serve --config "$3" --db "$2" --listen 127.0.0.1:0
    run_load "routed-$mode-peak" "http://127.0.0.1:$server_port/v1/leads" --key "$key"
    line=$load_line
    tput=$(field "$line" throughput)
    runs[$mode]="${runs[$mode]:+${runs[$mode]},}${tput%/s}"
    peak[$mode]=$(printf '%s\n' "${runs[$mode]}" | tr ',' '\n' |
        awk '{ s += $1; n++ } END { printf "%.1f", s / n }')
    p50[$mode]=$(field "$line" p50)
    p99[$mode]=$(field "$line" p99)
    rss[$mode]=$(field "$line" server_peak_rss)
    errors[$mode]=$((${errors[$mode]:-0} + $(field "$line" errors)))
}

config "$work/plain.yaml" 0
config "$work/sla.yaml" 1
fresh_modes="plain sla"
[ -z "$BASELINE" ] || fresh_modes="base $fresh_modes"
for round in $(seq 1 "$ROUNDS"); do
    for mode in $fresh_modes; do
        db=$work/$mode.db
        case $mode in
        base)
            echo "routed intake, no sla section, $BASELINE (fresh database, round $round)"
            key=$("$BASELINE" keys create --create --db "$db" --role ingest --name bench 2>/dev/null |
                head -n 1) || die "$BASELINE keys create failed"
            peak_run base "$db" "$work/plain.yaml" "$BASELINE"
            ;;
        plain)
            echo "routed intake, no sla section (fresh database, round $round)"
            ingest_key "$db"
            peak_run plain "$db" "$work/plain.yaml"
            ;;
        sla)
            ingest_key "$db"
            if [ "$round" = 1 ]; then
                echo "start-up on an empty database (sla section)"
                run_helper startup --baton "$BATON" --config "$work/sla.yaml" --db "$db" --runs 3 \
                    --label empty --log "$work/startup.log"
                startup_empty=$helper_line
            fi
            echo "routed intake, sla section (fresh database, round $round)"
            peak_run sla "$db" "$work/sla.yaml"
            ;;
        esac
        stop_server "baton ($mode)"
        if [ "$mode" = sla ]; then
            # The terms exactly as the engine wrote them for a routed lead.
            terms=$("$PYTHON" -c 'import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute(
    "SELECT terms FROM assignments WHERE terms IS NOT NULL LIMIT 1").fetchone()
print(row[0] if row else "")' "$db")
            [ -n "$terms" ] || die "the sla run wrote no assignment with terms"
        fi
        rm -f "$db"*
    done
done
modes="$fresh_modes big"

# 3. The big database.
echo "writing $ASSIGNMENTS leads with pending assignments"
big=$work/big.db
ingest_key "$big"
run_helper populate --db "$big" --count "$ASSIGNMENTS" --now "$(now_ms)" --terms "$terms"
populate_line=$helper_line

echo "start-up with $ASSIGNMENTS pending assignments"
run_helper startup --baton "$BATON" --config "$work/sla.yaml" --db "$big" --runs 3 \
    --label big --log "$work/startup.log"
startup_big=$helper_line

echo "routed intake, sla section, $ASSIGNMENTS pending"
peak_run big "$big" "$work/sla.yaml"
stop_server "baton ($ASSIGNMENTS pending)"

# 4. Lateness. The window starts once the daemon has had time to start
#    (four times its median start-up, at least 1 s) and load's warm-up is
#    over, plus a second; load runs a second past its end.
echo "deadlines falling due with intake at half the peak"
half=$(awk -v t="${peak[big]}" 'BEGIN { printf "%.1f", t / 2 }')
awk -v h="$half" 'BEGIN { exit !(h > 0) }' || die "baton accepted no leads on the big database"
ready_ms=$(field "$startup_big" median_ready_ms)
lead_ms=$((4 * ready_ms > 1000 ? 4 * ready_ms : 1000))
lead_ms=$((lead_ms + WARMUP * 1000 + 2000)) # + the window update itself (well under 1 s) + 1 s
window_start=$(($(now_ms) + lead_ms))
run_helper window --db "$big" --count "$ASSIGNMENTS" --deadlines "$DEADLINES" \
    --start "$window_start" --gap-ms "$GAP_MS" --ids-out "$work/window.ids"
since=$(now_ms)
start_server "$work/baton-window.log" "$BATON" serve --config "$work/sla.yaml" --db "$big" \
    --listen 127.0.0.1:0
"$PYTHON" "$HELPER" watch --db "$big" --ids "$work/window.ids" --since "$since" --grace 30 \
    >"$work/watch.out" &
watch_pid=$!
helper_pids+=("$watch_pid")
now=$(now_ms)
[ "$now" -lt "$window_start" ] || die "the daemon took too long to start: the window began before the load"
window_end=$((window_start + (DEADLINES - 1) * GAP_MS))
duration=$(awk -v e="$window_end" -v n="$now" -v w="$WARMUP" \
    'BEGIN { printf "%.1f", (e + 1000 - n) / 1000 - w }')
window_load=$("$LOAD" --url "http://127.0.0.1:$server_port/v1/leads" --key "$key" \
    --connections "$CONNECTIONS" --duration "$duration" --warmup "$WARMUP" --rate "$half" \
    --server-pid "$server_pid" --label routed-big-half) ||
    die "the load during the window failed (see the messages above)"
echo "  $window_load"
status=0
wait "$watch_pid" || status=$?
forget_helper "$watch_pid"
[ "$status" -eq 0 ] || die "bench/handoff.py watch failed (status $status)"
lateness=$(tail -n 1 "$work/watch.out")
echo "  $lateness"
stop_server "baton (window)"
window_failures=$(grep -c 'sla deadlines failed' "$work/baton-window.log" || true)

# 5. A restart with a backlog: BACKLOG deadlines fell due, one every
#    60000 / BACKLOG ms, during the minute before the start.
if [ "$BACKLOG" -gt 0 ]; then
    echo "restart with $BACKLOG deadlines passed during the minute before it"
    backlog_gap=$((60000 / BACKLOG))
    backlog_start=$(($(now_ms) - 60000))
    run_helper window --db "$big" --count "$ASSIGNMENTS" --deadlines "$BACKLOG" \
        --start "$backlog_start" --gap-ms "$backlog_gap" --ids-out "$work/backlog.ids"
    since=$(now_ms)
    start_server "$work/baton-backlog.log" "$BATON" serve --config "$work/sla.yaml" --db "$big" \
        --listen 127.0.0.1:0
    run_helper watch --db "$big" --ids "$work/backlog.ids" --since "$since" --grace 30
    backlog=$helper_line
    stop_server "baton (backlog)"
    backlog_failures=$(grep -c 'sla deadlines failed' "$work/baton-backlog.log" || true)
    backlog_error=$(grep -m 1 'sla deadlines failed' "$work/baton-backlog.log" | sed 's/^[^ ]* //' || true)
fi

# 6. The figures.
echo
printf 'null server ceiling: %s req/s (p50 %s, p99 %s)\n' "$ceiling" \
    "$(field "$ceiling_line" p50)" "$(field "$ceiling_line" p99)"
echo
printf '%-32s %9s %9s  %-22s %9s %9s %9s %6s\n' "routed intake (closed loop)" "leads/s" \
    "% ceiling" "each run" "p50" "p99" "peak RSS" errors
for mode in $modes; do
    case $mode in
    base) name="no sla section, baseline" ;;
    plain) name="no sla section" ;;
    sla) name="sla section" ;;
    big) name="sla section, $ASSIGNMENTS pending" ;;
    esac
    ratio=$(awk -v p="${peak[$mode]}" -v c="$ceiling" 'BEGIN { printf "%.1f%%", (c > 0 ? 100 * p / c : 0) }')
    printf '%-32s %9s %9s  %-22s %9s %9s %9s %6s\n' "$name" "${peak[$mode]}" "$ratio" \
        "${runs[$mode]}" "${p50[$mode]}" "${p99[$mode]}" "${rss[$mode]}" "${errors[$mode]}"
done
echo "leads/s: the mean of the runs; p50, p99 and RSS: the last run; errors: all runs."
cost=$(awk -v a="${peak[plain]}" -v b="${peak[sla]}" 'BEGIN { printf "%+.1f%%", (a > 0 ? 100 * (b - a) / a : 0) }')
echo "the sla section changes routed intake by $cost (means, fresh databases, alternating runs)"
if [ -n "$BASELINE" ]; then
    awk -v a="${peak[base]}" -v b="${peak[plain]}" -v c="${peak[sla]}" 'BEGIN {
        printf "against the baseline binary: no sla section %+.1f%%, sla section %+.1f%%\n",
               (a > 0 ? 100 * (b - a) / a : 0), (a > 0 ? 100 * (c - a) / a : 0) }'
fi

echo
printf 'populate: %s leads with pending assignments in %s s; database %s MiB\n' \
    "$(field "$populate_line" count)" "$(field "$populate_line" seconds)" "$(field "$populate_line" db_mib)"
printf '%-30s %12s %12s %16s %14s %14s\n' "start-up (3 runs)" "listen" "/readyz" "/readyz, each" \
    "RSS at ready" "RSS after 1 s"
for which in empty big; do
    line=$startup_empty name="empty database"
    [ "$which" = big ] && line=$startup_big name="$ASSIGNMENTS pending"
    printf '%-30s %12s %12s %16s %14s %14s\n' "$name" "$(field "$line" median_listen_ms) ms" \
        "$(field "$line" median_ready_ms) ms" "$(field "$line" ready_ms)" \
        "$(mib "$(field "$line" rss_ready_kib)")" "$(mib "$(field "$line" rss_settled_kib)")"
done
awk -v a="$(field "$startup_empty" median_ready_ms)" -v b="$(field "$startup_big" median_ready_ms)" \
    -v ra="$(field "$startup_empty" rss_settled_kib)" -v rb="$(field "$startup_big" rss_settled_kib)" \
    'BEGIN { printf "ratio big/empty: start-up %.2fx, RSS %.2fx; target start-up < 2 s: %s\n",
             (a > 0 ? b / a : 0), (ra > 0 ? rb / ra : 0), (b < 2000 ? "met" : "NOT met") }'

echo
printf 'deadlines: %s due over %s s with intake paced at %s leads/s (half the peak above): %s fired' \
    "$(field "$lateness" deadlines)" "$WINDOW" "$half" "$(field "$lateness" fired)"
printf ' (%s early, %s missed, %s other assignments expired; %s re-routed)\n' \
    "$(field "$lateness" early)" "$(field "$lateness" missed)" "$(field "$lateness" other_expired)" \
    "$(field "$lateness" rerouted)"
p99_late=$(field "$lateness" recorded_p99)
printf 'lateness, closed_at - accept_by:     p50 %s  p99 %s  max %s; target p99 < 100 ms: %s\n' \
    "$(field "$lateness" recorded_p50)" "$p99_late" "$(field "$lateness" recorded_max)" \
    "$(awk -v p="${p99_late%ms}" -v m="$(field "$lateness" missed)" 'BEGIN { print (p < 100 && m == 0 ? "met" : "NOT met") }')"
printf 'lateness, seen committed (5 ms poll): p50 %s  p99 %s  max %s (%s seen)\n' \
    "$(field "$lateness" seen_p50)" "$(field "$lateness" seen_p99)" "$(field "$lateness" seen_max)" \
    "$(field "$lateness" seen_count)"
printf 'failed SLA sweeps in the daemon log (each retried a second later): %s\n' "$window_failures"
printf 'intake meanwhile: %s offered, %s accepted, p50 %s, p99 %s, %s errors; server peak RSS %s\n' \
    "$half/s" "$(field "$window_load" throughput)" "$(field "$window_load" p50)" \
    "$(field "$window_load" p99)" "$(field "$window_load" errors)" "$(field "$window_load" server_peak_rss)"
if [ "$BACKLOG" -gt 0 ]; then
    echo
    fired=$(field "$backlog" fired)
    printf 'restart with %s deadlines passed: %s fired within 30 s' "$BACKLOG" "$fired"
    if [ "$fired" -gt 0 ]; then
        # The reader's time: a sweep's expiries all carry the instant it began.
        awk -v l="$(field "$backlog" last_seen_at)" -v s="$since" \
            'BEGIN { printf ", the last seen committed %.0f ms after the start", l - s }'
    fi
    printf '; %s failed sweeps in the log%s\n' "$backlog_failures" "${backlog_error:+ ($backlog_error)}"
fi
echo
echo "Client, server and helper share this machine's $(nproc 2>/dev/null || echo '?') CPUs;" \
    "$(($(date +%s) - started_at)) s in all; load average $load_at_start at the start," \
    "$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo '?') at the end."

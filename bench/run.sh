#!/usr/bin/env bash
# bench/run.sh - the intake benchmark: how many leads/s `baton serve` accepts.
#
# 1. The ceiling: build/bench/null_server (same MHD threading as Baton, no
#    work) under a closed-loop build/bench/load.
# 2. For store.synchronous full and normal: a fresh database, an ingest key,
#    `baton serve`, then load closed-loop (the peak) and paced at half the peak
#    (latency when not saturated), with the server's peak RSS.
# 3. A table of the figures.
#
# Run by `make bench` after the binaries are built. Everything binds to
# 127.0.0.1, servers are stopped and temp dirs removed on any exit.
#
#   BENCH_SECONDS      measured seconds per load run (default 10)
#   BENCH_CONNECTIONS  client connections (default 32)
#   BENCH_WARMUP       seconds of load before measuring (default 2)
#   BUILD              build folder (default build)
set -euo pipefail

cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
WARMUP=${BENCH_WARMUP:-2}

BATON=$BUILD/baton
NULL_SERVER=$BUILD/bench/null_server
LOAD=$BUILD/bench/load

. bench/lib.sh

is_count "$SECONDS_PER_RUN" 1 600 || die "BENCH_SECONDS must be 1..600, not '$SECONDS_PER_RUN'"
is_count "$CONNECTIONS" 1 1024 || die "BENCH_CONNECTIONS must be 1..1024, not '$CONNECTIONS'"
is_count "$WARMUP" 0 600 || die "BENCH_WARMUP must be 0..600, not '$WARMUP'"
for bin in "$BATON" "$NULL_SERVER" "$LOAD"; do
    [ -x "$bin" ] || die "$bin is missing: build first (make bench builds everything)"
done

bench_traps

echo "intake benchmark: $CONNECTIONS connections, ${SECONDS_PER_RUN} s measured after ${WARMUP} s warm-up"

# 1. The ceiling.
new_temp_dir
start_server "$dir/null_server.log" "$NULL_SERVER" 0
run_load ceiling "http://127.0.0.1:$server_port/v1/leads" --key bench-null-server-ignores-it
ceiling_line=$load_line
stop_server null_server
ceiling=$(field "$ceiling_line" throughput)
ceiling=${ceiling%/s}

# 2. Baton, once per mode: synchronous full and normal with no scoring or
#    routing (intake alone), and "routed": synchronous full with
#    bench/route.yaml, where every lead is scored, qualifies and is routed.
declare -A peak p50_peak p99_peak p50_half p99_half max_half rss errors ckpt
modes="full normal routed"
for sync in $modes; do
    new_temp_dir
    # The ingest key's rate limits (intake.rate_limit) are off: the load
    # comes from one address with one key, far over any public form's rate.
    if [ "$sync" = routed ]; then
        cp bench/route.yaml "$dir/baton.yaml"
        printf 'store:\n  synchronous: full\nintake:\n  rate_limit: off\n' >>"$dir/baton.yaml"
    else
        cat >"$dir/baton.yaml" <<EOF
version: 1
store:
  synchronous: $sync
intake:
  rate_limit: off
EOF
    fi
    key=$("$BATON" keys create --create --db "$dir/baton.db" --role ingest --name bench) ||
        die "baton keys create failed"
    key=$(printf '%s\n' "$key" | head -n 1)
    [ -n "$key" ] || die "baton keys create printed no key"

    start_server "$dir/baton.log" "$BATON" serve --config "$dir/baton.yaml" --db "$dir/baton.db" \
        --listen 127.0.0.1:0
    url="http://127.0.0.1:$server_port/v1/leads"

    run_load "baton-$sync-peak" "$url" --key "$key"
    line=$load_line
    tput=$(field "$line" throughput)
    peak[$sync]=${tput%/s}
    p50_peak[$sync]=$(field "$line" p50)
    p99_peak[$sync]=$(field "$line" p99)
    errors[$sync]=$(field "$line" errors)

    half=$(awk -v t="${peak[$sync]}" 'BEGIN { printf "%.1f", t / 2 }')
    awk -v h="$half" 'BEGIN { exit !(h > 0) }' || die "baton ($sync) accepted no leads"
    run_load "baton-$sync-half" "$url" --key "$key" --rate "$half"
    line=$load_line
    p50_half[$sync]=$(field "$line" p50)
    p99_half[$sync]=$(field "$line" p99)
    max_half[$sync]=$(field "$line" max)
    errors[$sync]=$((errors[$sync] + $(field "$line" errors)))
    rss[$sync]=$(field "$line" server_peak_rss) # VmHWM: the peak over both runs

    # The checkpointer's passes over both runs (docs/metrics.md): count, mean,
    # the bucket of the longest, and the WAL's size after the last pass.
    ckpt[$sync]=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
        "http://127.0.0.1:$server_port/metrics" | awk '
        /^baton_store_checkpoint_duration_seconds_bucket/ {
            match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5)
            if ($2 > prev) { longest = le }; prev = $2 }
        /^baton_store_checkpoint_duration_seconds_sum/ { sum = $2 }
        /^baton_store_checkpoint_duration_seconds_count/ { n = $2 }
        /^baton_store_wal_bytes/ { wal = $2 }
        END { printf "%d passes, mean %.1f ms, longest <= %s s, WAL %.1f MiB", n,
              (n > 0 ? 1000 * sum / n : 0), longest, wal / 1048576 }')
    stop_server "baton ($sync)"
done

# 3. The table.
echo
printf 'null server ceiling: %s req/s (p50 %s, p99 %s)\n' "$ceiling" \
    "$(field "$ceiling_line" p50)" "$(field "$ceiling_line" p99)"
echo
printf '%-8s %12s %10s %10s %10s %10s %10s %10s %10s %7s\n' mode "leads/s" "% ceiling" "p50 peak" \
    "p99 peak" "p50 half" "p99 half" "max half" "peak RSS" errors
for sync in $modes; do
    ratio=$(awk -v p="${peak[$sync]}" -v c="$ceiling" 'BEGIN { printf "%.1f%%", (c > 0 ? 100 * p / c : 0) }')
    printf '%-8s %12s %10s %10s %10s %10s %10s %10s %10s %7s\n' "$sync" "${peak[$sync]}" "$ratio" \
        "${p50_peak[$sync]}" "${p99_peak[$sync]}" "${p50_half[$sync]}" "${p99_half[$sync]}" \
        "${max_half[$sync]}" "${rss[$sync]}" "${errors[$sync]}"
done
echo
for sync in $modes; do
    printf 'checkpoints (%s): %s\n' "$sync" "${ckpt[$sync]}"
done
echo
echo "peak: closed loop, $CONNECTIONS connections; half: paced at half the peak, latency from" \
    "each request's scheduled time; errors: non-2xx or failed requests in both runs."
echo "Client and server share this machine's $(nproc 2>/dev/null || echo '?') CPUs."

# 4. The engine and store alone (no HTTP): where the ceiling of the write path is.
echo
# Then its peer, raw SQLite with Baton's schema writing what an intake writes
# in groups of the size the engine reached (bench/sqlite_peer.c): the
# engine's share of it.
if [ -x "$BUILD/bench/engine" ]; then
    engine_out=$("$BUILD/bench/engine" --threads "$CONNECTIONS" --seconds "$SECONDS_PER_RUN" \
        --dir "${TMPDIR:-/tmp}") || die "the engine benchmark failed"
    printf '%s\n' "$engine_out"
    if [ -x "$BUILD/bench/sqlite_peer" ]; then
        printf '%s\n' "$engine_out" | while read -r line; do
            sync=$(printf '%s' "$line" | sed -n 's/.*synchronous=\([a-z]*\).*/\1/p')
            rate=$(printf '%s' "$line" | sed -n 's/.*throughput=\([0-9]*\)\/s.*/\1/p')
            group=$(printf '%s' "$line" | sed -n 's/.*avg_group=\([0-9.]*\).*/\1/p')
            [ -n "$sync" ] && [ -n "$rate" ] && [ -n "$group" ] || continue
            group=$(printf '%.0f' "$group")
            [ "$group" -ge 1 ] || group=1
            peer=$("$BUILD/bench/sqlite_peer" --group "$group" --sync "$sync" \
                --seconds "$SECONDS_PER_RUN" --dir "${TMPDIR:-/tmp}") ||
                die "the SQLite peer benchmark failed"
            printf '%s\n' "$peer"
            peer_rate=$(printf '%s' "$peer" | sed -n 's/.*throughput=\([0-9]*\)\/s.*/\1/p')
            awk -v e="$rate" -v p="$peer_rate" -v s="$sync" \
                'BEGIN { if (p > 0) printf "engine / sqlite peer (%s): %.1f %%\n", s, 100 * e / p }'
        done
    fi
fi

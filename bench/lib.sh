# bench/lib.sh - what the benchmark scripts share (sourced, not run):
# checking settings, temp dirs and servers cleaned up on any exit, starting
# and stopping a server that prints "listening on http://127.0.0.1:PORT",
# and running build/bench/load.
#
# The sourcing script sets LOAD, CONNECTIONS, SECONDS_PER_RUN and WARMUP
# before it calls run_load, and installs the traps with bench_traps.

die() {
    echo "bench: $*" >&2
    exit 1
}

# is_count VALUE MIN MAX: VALUE is a whole number in MIN..MAX.
is_count() {
    case $1 in
    '' | *[!0-9]*) return 1 ;;
    *) [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] ;;
    esac
}

# Cleanup state: the running server (if any), helpers running in the
# background, and every temp dir made.
server_pid=
helper_pids=()
temp_dirs=()

cleanup() {
    local pid
    if [ -n "$server_pid" ]; then
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
    # Helpers get TERM so that they can stop servers of their own, and KILL
    # after 8 s (one busy in a long SQLite statement cannot act on TERM
    # until it returns).
    for pid in "${helper_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${helper_pids[@]}"; do
        local tries=0
        while kill -0 "$pid" 2>/dev/null && [ $tries -lt 80 ]; do
            sleep 0.1
            tries=$((tries + 1))
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    helper_pids=()
    if [ ${#temp_dirs[@]} -gt 0 ]; then
        rm -rf "${temp_dirs[@]}"
    fi
}

bench_traps() {
    trap cleanup EXIT
    trap 'echo "bench: interrupted" >&2; exit 130' INT TERM
}

# Sets dir to a new temp dir (not via $(...): the list must grow in this shell).
new_temp_dir() {
    dir=$(mktemp -d "${TMPDIR:-/tmp}/baton-bench.XXXXXX")
    temp_dirs+=("$dir")
}

# start_server LOG COMMAND... : starts COMMAND in the background with stderr
# in LOG and waits for its "listening on http://127.0.0.1:PORT" line; sets
# server_pid and server_port.
start_server() {
    local log=$1
    shift
    : >"$log" # exists before the child opens it, so the first sed cannot miss it
    "$@" 2>"$log" >/dev/null &
    server_pid=$!
    server_port=
    local tries=0
    while [ $tries -lt 100 ]; do
        server_port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$log" | head -n 1)
        [ -n "$server_port" ] && return 0
        if ! kill -0 "$server_pid" 2>/dev/null; then
            wait "$server_pid" 2>/dev/null || true
            server_pid=
            tail -n 20 "$log" >&2
            die "$1 exited before listening"
        fi
        sleep 0.1
        tries=$((tries + 1))
    done
    tail -n 20 "$log" >&2
    die "$1 did not print its port within 10 s"
}

# Stops the server with SIGTERM, as an operator would, and waits for it
# (SIGKILL after 20 s, beyond Baton's default 10 s shutdown timeout).
stop_server() {
    local name=$1 tries=0 status=0
    kill -TERM "$server_pid" 2>/dev/null || true
    while kill -0 "$server_pid" 2>/dev/null && [ $tries -lt 200 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        echo "bench: $name ignored SIGTERM for 20 s; killing it" >&2
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" || status=$?
    server_pid=
    [ "$status" -eq 0 ] || echo "bench: warning: $name exited with status $status after SIGTERM" >&2
}

# field LINE NAME: the value of NAME=... in a line printed by load (or by
# bench/handoff.py).
field() {
    printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# run_load LABEL URL [load options...]: runs load against the current server,
# shows its line as progress and leaves it in load_line. (Not meant for $(...):
# a failure must stop this shell so that the EXIT trap cleans up.)
run_load() {
    local label=$1 url=$2
    shift 2
    load_line=$("$LOAD" --url "$url" --connections "$CONNECTIONS" --duration "$SECONDS_PER_RUN" \
        --warmup "$WARMUP" --server-pid "$server_pid" --label "$label" "$@") ||
        die "load run '$label' failed (see the messages above)"
    echo "  $load_line"
}

#!/bin/sh
# fuzz.sh smoke RUNS BIN...   a short pass per target over its seed corpus
# fuzz.sh long SECONDS BIN... a longer run per target; new inputs are kept in
#                             build/fuzz/corpus/NAME (seeds stay untouched)
set -eu
mode=$1; amount=$2; shift 2
for bin in "$@"; do
    name=$(basename "$bin")
    seeds="fuzz/corpus/${name#fuzz_}"
    work="build/fuzz/corpus/$name"
    mkdir -p "$work"
    if [ "$mode" = smoke ]; then
        "$bin" -runs="$amount" -max_len=65536 -timeout=10 "$work" "$seeds" 2>build/fuzz/"$name".log \
            || { tail -40 build/fuzz/"$name".log; exit 1; }
    else
        "$bin" -max_total_time="$amount" -max_len=65536 -timeout=10 "$work" "$seeds"
    fi
    echo "fuzz $name: ok ($mode $amount)"
done

#!/bin/sh
# Runs each unit-test binary (one process per test file, like libuv's runner)
# and prints a summary line; exits non-zero when any failed.
set -u
passed=0; failed=0
for t in "$@"; do
    if "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $t" >&2; fi
done
echo "unit test files: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# Installs the Debian packages Baton needs to build, run and test, skipping
# those already present. Uses sudo when not run as root.
set -eu

PACKAGES="build-essential pkg-config clang libclang-rt-dev
libmicrohttpd-dev libjansson-dev libsqlite3-dev sqlite3 libfyaml-dev
libssl-dev libpcre2-dev libicu-dev libcurl4-openssl-dev libcmocka-dev libcsv-dev
libxgboost-dev liblinear-dev
python3 python3-pytest python3-aiosmtpd python3-yaml python3-jsonschema python3-icalendar
chromium chromium-driver python3-selenium libjs-chart.js
prometheus"
# prometheus ships promtool, which the tests run on GET /metrics (its
# daemon is not used).
# Node.js and npm run the OpenAPI linter (scripts/install-node-tools.sh); a
# machine that has them already (from its image) keeps its own.
if ! command -v npm >/dev/null 2>&1; then
    PACKAGES="$PACKAGES nodejs npm"
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install:$missing" >&2; exit 1; }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >&2

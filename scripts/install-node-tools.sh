#!/bin/sh
# Installs the Node.js tools the test suite uses (the OpenAPI linter) into
# build/tools/openapi from the npm registry, at the versions pinned in
# tools/openapi/package-lock.json, never globally. Reinstalls only when the
# pinned versions changed. Node.js and npm come from scripts/install-deps.sh.
set -eu
cd "$(dirname "$0")/.."
src=tools/openapi
dst=${BUILD:-build}/tools/openapi
if [ -x "$dst/node_modules/.bin/redocly" ] && cmp -s "$src/package-lock.json" "$dst/package-lock.json"; then
    exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "install-node-tools: npm is missing (run scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p "$dst"
cp "$src/package.json" "$src/package-lock.json" "$dst/"
echo "install-node-tools: installing the OpenAPI linter into $dst" >&2
(cd "$dst" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2)

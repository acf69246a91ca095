#!/usr/bin/env bash
# The one test command (`npm test`): installs what is missing (Debian packages, npm deps),
# builds, and runs every test. Safe to run on a fresh clone of a fresh Debian 12 + Node 20.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
exec npx vitest run "$@"

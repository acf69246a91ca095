#!/usr/bin/env bash
# The one start command (`npm start`): installs what is missing (redis-server for the
# embedded queue, npm deps), builds, and runs `mxspool start`. Extra arguments go to
# mxspool, e.g. `npm start -- --config /etc/mxspool.yaml --roles smtp,worker`.
# Without a config it creates ./mxspool.yaml from the commented example and stops, so you
# can set your hostname and domains first.
set -euo pipefail
cd "$(dirname "$0")/.."
MXSPOOL_RUNTIME_ONLY=1 bash scripts/install-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
[ -f dist/src/cli/main.js ] && [ -z "$(find src queues policies -newer dist/src/cli/main.js -name '*.ts' -print -quit)" ] || npm run build --silent
has_config=0
for a in "$@"; do [ "$a" = "--config" ] && has_config=1; done
if [ $has_config -eq 0 ] && [ -z "${MXSPOOL_CONFIG:-}" ] && [ ! -f mxspool.yaml ]; then
  cp policies/mxspool.example.yaml mxspool.yaml
  echo "Created ./mxspool.yaml from policies/mxspool.example.yaml." >&2
  echo "Edit hostname and domains (and smtp.listen), then run 'npm start' again." >&2
  exit 1
fi
exec node dist/src/cli/main.js start "$@"

#!/usr/bin/env bash
# The one start command (`npm start`): installs what is missing (redis-server for the
# embedded queue, npm deps), builds, and runs `mxspool start`. Extra arguments go to
# mxspool, e.g. `npm start -- --config /etc/mxspool.yaml --roles smtp,worker`.
# Without a config it runs `mxspool init --yes` first (safe local defaults: SMTP on
# 127.0.0.1:2525 only, nothing reachable from outside) and starts, saying what to do next.
# MXSPOOL_INIT_ARGS passes options to that first init, e.g. "--domain example.org --primary mx".
set -euo pipefail
cd "$(dirname "$0")/.."
MXSPOOL_RUNTIME_ONLY=1 bash scripts/install-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
[ -f dist/src/cli/main.js ] && [ -z "$(find src queues policies -newer dist/src/cli/main.js -name '*.ts' -print -quit)" ] || npm run build --silent
config="${MXSPOOL_CONFIG:-mxspool.yaml}"
prev=""
for a in "$@"; do [ "$prev" = "--config" ] && config="$a"; prev="$a"; done
if [ ! -f "$config" ]; then
  # shellcheck disable=SC2086 # MXSPOOL_INIT_ARGS is a list of options
  node dist/src/cli/main.js init --yes --config "$config" ${MXSPOOL_INIT_ARGS:-} >&2
  listen=$(CONFIG="$config" node -e 'const y = require("yaml").parse(require("fs").readFileSync(process.env.CONFIG, "utf8")); console.log(y.smtp.listen[0])')
  cat >&2 <<EOT

First run: $config was written with local defaults and mxspool starts now.
  Try it:      swaks --server $listen --to postmaster@example.test
  See it:      node dist/src/cli/main.js status --config $config    (no token needed on this box)
  The primary in $config is a placeholder: mail waits in the queue until something
  answers there (e.g. 'smtp-sink 127.0.0.1:2526 10'), then it drains.
  For real:    node dist/src/cli/main.js init --force --config $config   (asks for your domains)
               then listen on 0.0.0.0:25 and publish the DNS records it prints. See README "First run".

EOT
fi
exec node dist/src/cli/main.js start "$@"

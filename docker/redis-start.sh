#!/bin/sh
# Starts one Redis of the replicated set (docker-compose.ha.yml):
#   redis-start.sh NAME PORT [redis-server arguments...]
# NAME and PORT: how the sentinels know this node (it announces NAME to them).
#
# A node that was down while the sentinels failed over must not come back as it was. A killed
# master restarted as it was is a master again, with the data of before its death, until a
# sentinel demotes it seconds later; a second failover in that window can promote it, and the
# replica holding the acknowledged mail then resyncs from it: the mail is gone. A replica
# restarted as it was follows a node that may no longer be the master. So this asks the
# sentinels first:
#   - they name another node as master: start as that node's replica;
#   - they name this node: start as a master (a quick restart before any failover);
#   - none answers (the set's first start): start as the arguments say.
# MXSPOOL_SENTINELS: "host:port ..." (default: the compose file's three sentinels);
# MXSPOOL_REDIS_NAME: the master's name in sentinel.conf (mxspool);
# MXSPOOL_REDIS_EXEC: the command that runs the server (the image's entrypoint, which drops root).
set -eu
name="$1"; port="$2"; shift 2
sentinels="${MXSPOOL_SENTINELS:-sentinel-1:26379 sentinel-2:26379 sentinel-3:26379}"
master_host=""; master_port=""
for s in $sentinels; do
  reply=$(timeout 3 redis-cli -h "${s%:*}" -p "${s##*:}" --raw SENTINEL GET-MASTER-ADDR-BY-NAME "${MXSPOOL_REDIS_NAME:-mxspool}" 2>/dev/null) || continue
  host=$(printf '%s\n' "$reply" | sed -n 1p); mport=$(printf '%s\n' "$reply" | sed -n 2p)
  case "$mport" in ''|*[!0-9]*) continue ;; esac
  master_host="$host"; master_port="$mport"
  break
done
if [ -z "$master_port" ]; then
  echo "redis-start: no sentinel answered: starting as configured"
  set -- "$@"
elif [ "$master_host" = "$name" ] && [ "$master_port" = "$port" ]; then
  echo "redis-start: the sentinels name this node as master: starting as master"
  set -- "$@" --replicaof no one
else
  echo "redis-start: the sentinels name $master_host:$master_port as master: starting as its replica"
  set -- "$@" --replicaof "$master_host" "$master_port"
fi
# shellcheck disable=SC2086 # MXSPOOL_REDIS_EXEC may be a command and its first argument
exec ${MXSPOOL_REDIS_EXEC:-redis-server} "$@" --port "$port" --replica-announce-ip "$name"

#!/bin/sh
# Starts one Redis of the replicated set (docker-compose.ha.yml):
#   redis-start.sh NAME PORT [redis-server arguments...]
# NAME and PORT: how the sentinels know this node (it announces NAME to them).
#
# A node that was down while the sentinels failed over must not come back as it was. A killed
# master restarted as it was is a master again, with the data of before its death, until a
# sentinel demotes it seconds later; a second failover in that window can promote it, and the
# replica holding the acknowledged mail then resyncs from it: the mail is gone. A replica
# restarted as it was follows a node that may no longer be the master. So this asks every
# sentinel first, and follows the answer with the highest config epoch (Sentinel's own rule:
# the newest failover wins; right after one, the sentinels that have not heard of it yet still
# name the old master, and they may be the majority):
#   - another node is the master: start as that node's replica;
#   - this node is: start as a master (a quick restart before any failover);
#   - none answers: on the set's first start (no data here yet), start as the arguments say;
#     with data here (a reboot: the sentinels may still be starting), ask again every second
#     for MXSPOOL_SENTINEL_WAIT seconds (60) before starting as the arguments say;
#   - the sentinel with the newest configuration is failing this very node over: with data
#     here, ask again the same way.
# The arguments' own --replicaof is dropped when the sentinels answer, never overridden by a
# second one: `--replicaof no one` after `--replicaof H P` leaves Redis 7.0 dialling (null):P.
# So the config file must not carry replicaof: give it as an argument.
# MXSPOOL_SENTINELS: "host:port ..." (default: the compose file's three sentinels);
# MXSPOOL_REDIS_NAME: the master's name in sentinel.conf (mxspool);
# MXSPOOL_REDIS_DATA: this node's data dir (/data); REDISCLI_AUTH: the sentinels' password;
# MXSPOOL_REDIS_EXEC: the command that runs the server (the image's entrypoint, which drops root).
set -eu
name="$1"; port="$2"; shift 2
sentinels="${MXSPOOL_SENTINELS:-sentinel-1:26379 sentinel-2:26379 sentinel-3:26379}"
data="${MXSPOOL_REDIS_DATA:-/data}"

# sentinel HOST:PORT SUBCOMMAND: the reply of SENTINEL SUBCOMMAND <name>, bounded, raw
sentinel() { timeout 3 redis-cli -h "${1%:*}" -p "${1##*:}" --raw SENTINEL "$2" "${MXSPOOL_REDIS_NAME:-mxspool}" 2>/dev/null; }

# "settled host port": the master as named by the sentinel with the newest configuration
# (SENTINEL MASTER's config-epoch; GET-MASTER-ADDR-BY-NAME's address, which the sentinel leading
# a failover already gives as the promoted replica once it reconfigures the others); empty when
# none answers. settled is 0 while that sentinel is failing the master over
# (failover_in_progress), 1 otherwise; at the same epoch a settled answer wins.
ask_sentinels() {
  for s in $sentinels; do
    state=$(sentinel "$s" MASTER \
      | awk 'NR % 2 == 1 { k = $0; next } k == "config-epoch" { e = $0 } k == "flags" { f = $0 }
             END { if (e ~ /^[0-9]+$/) print e, (f ~ /failover_in_progress/ ? 0 : 1) }') || continue
    addr=$(sentinel "$s" GET-MASTER-ADDR-BY-NAME \
      | awk 'NR == 1 { h = $0 } NR == 2 { p = $0 } END { if (h != "" && p ~ /^[0-9]+$/) print h, p }') || continue
    [ -n "$state" ] && [ -n "$addr" ] && echo "$state $addr"
  done | sort -k1,1nr -k2,2nr | head -n 1 | cut -d' ' -f2-
}

# with data here, wait for a better answer than none (a reboot: the sentinels may still be
# starting) or than one naming this node from a sentinel in the middle of failing it over
unsure() { [ -z "$answer" ] || [ "$answer" = "0 $name $port" ]; }
answer=$(ask_sentinels)
if [ -n "$(ls -A "$data" 2>/dev/null)" ] && unsure; then
  echo "redis-start: $data holds data and no sentinel answered for sure: asking again for ${MXSPOOL_SENTINEL_WAIT:-60} s"
  waited=0
  while unsure && [ "$waited" -lt "${MXSPOOL_SENTINEL_WAIT:-60}" ]; do
    sleep 1; waited=$((waited + 1))
    answer=$(ask_sentinels)
  done
fi
master=${answer#* }

if [ -z "$master" ]; then
  echo "redis-start: no sentinel answered: starting as the arguments say"
else
  # the arguments without their --replicaof HOST PORT (or --slaveof)
  first=1; skip=0
  for a in "$@"; do
    [ "$first" = 1 ] && { set --; first=0; }
    if [ "$skip" -gt 0 ]; then skip=$((skip - 1)); continue; fi
    case "$a" in --replicaof|--slaveof) skip=2; continue ;; esac
    set -- "$@" "$a"
  done
  if [ "$master" = "$name $port" ]; then
    echo "redis-start: the sentinels name this node as master: starting as master"
  else
    echo "redis-start: the sentinels name ${master% *}:${master#* } as master: starting as its replica"
    set -- "$@" --replicaof "${master% *}" "${master#* }"
  fi
fi
# shellcheck disable=SC2086 # MXSPOOL_REDIS_EXEC may be a command and its first argument
exec ${MXSPOOL_REDIS_EXEC:-redis-server} "$@" --port "$port" --replica-announce-ip "$name"

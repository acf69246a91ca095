#!/usr/bin/env bash
# A private Postfix instance configured as a backup MX on loopback, for `npm run bench`
# (test/bench/run.ts drives it). Nothing outside DIR is touched: own config_directory,
# queue_directory and data_directory; the system's /etc/postfix is never read or changed.
#
#   bench-postfix.sh setup DIR SMTP_PORT SINK_PORT   write DIR/etc/{main,master}.cf, create the queue
#   bench-postfix.sh start DIR                       postfix -c DIR/etc start
#   bench-postfix.sh flush DIR                       postqueue -f (deliver the deferred queue now)
#   bench-postfix.sh count DIR                       number of queue files (incoming+active+deferred+maildrop+hold)
#   bench-postfix.sh pids DIR                        the master and its children, one pid a line
#   bench-postfix.sh stop DIR                        postfix stop (then kills any leftover of this instance)
#   bench-postfix.sh settings DIR                    the non-default main.cf settings (postconf -n)
#
# Everything not listed in main.cf below is Postfix's default (3.7, compatibility_level 3.6):
# e.g. default_destination_concurrency_limit 20, default_process_limit 100, fsync of each
# queue file before the 250, smtp_connection_cache_on_demand yes.
set -euo pipefail

cmd=${1:?usage: bench-postfix.sh setup|start|flush|count|pids|stop|settings DIR ...}
dir=${2:?DIR missing}
etc="$dir/etc"
spool="$dir/spool"
export PATH="/usr/sbin:/usr/bin:/sbin:/bin"

case "$cmd" in
  setup)
    port=${3:?SMTP_PORT missing}
    sink=${4:?SINK_PORT missing}
    mkdir -p "$etc" "$spool" "$dir/data"
    chmod 755 "$dir"   # mktemp -d makes it 0700: the postfix user must reach its data and queue
    chown postfix "$dir/data"
    cat >"$etc/main.cf" <<EOF
# private backup-MX instance for the benchmark; all else is Postfix's default
compatibility_level = 3.6
config_directory = $etc
queue_directory = $spool
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx2-postfix.bench.test
mydomain = bench-postfix.test
myorigin = \$myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains = bench.test
relay_recipient_maps =
smtpd_relay_restrictions = reject_unauth_destination
transport_maps = inline:{ bench.test=relay:[127.0.0.1]:$sink }
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
EOF
    # only the services a relay needs; nothing chrooted (the private queue has no chroot set-up)
    cat >"$etc/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    postfix -c "$etc" check >/dev/null 2>&1 || true
    postfix -c "$etc" set-permissions >/dev/null 2>&1 || true
    postfix -c "$etc" check
    ;;
  start)
    postfix -c "$etc" start 2>&1
    ;;
  flush)
    # Messages still in incoming/active when the queue is flushed are deferred a moment later
    # by the dead-destination cache ("delivery temporarily suspended") and wait for the next
    # queue run, minutes away: one bench run's drain waited 10 minutes for 95 of 43,000. So the
    # flush waits until they have all landed in deferred (bounded: 30 s).
    for _ in $(seq 300); do
      # a file can move between queues while find walks them (pipefail would stop the script)
      busy=$(find "$spool/incoming" "$spool/active" -type f 2>/dev/null | wc -l || true)
      [ "$busy" -eq 0 ] && break
      sleep 0.1
    done
    postqueue -c "$etc" -f
    ;;
  count)
    n=0
    for q in incoming active deferred maildrop hold; do
      [ -d "$spool/$q" ] || continue
      c=$(find "$spool/$q" -type f | wc -l)
      n=$((n + c))
    done
    echo "$n"
    ;;
  pids)
    pidfile="$spool/pid/master.pid"
    [ -s "$pidfile" ] || exit 0
    m=$(tr -d ' \n' <"$pidfile")
    kill -0 "$m" 2>/dev/null || exit 0
    echo "$m"
    pgrep -P "$m" || true
    ;;
  stop)
    pidfile="$spool/pid/master.pid"
    m=""
    [ -s "$pidfile" ] && m=$(tr -d ' \n' <"$pidfile")
    postfix -c "$etc" stop >/dev/null 2>&1 || true
    if [ -n "$m" ]; then
      for _ in $(seq 1 100); do kill -0 "$m" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$m" 2>/dev/null && postfix -c "$etc" abort >/dev/null 2>&1 || true
      kids=$(pgrep -P "$m" || true)
      kill -9 "$m" $kids 2>/dev/null || true
    fi
    ;;
  settings)
    postconf -c "$etc" -n
    ;;
  *)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac

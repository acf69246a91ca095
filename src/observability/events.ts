/**
 * Every log event code mxspool writes, as data: the `event` field of each JSON log line is a
 * key of EVENTS. The typed Logger (event-logger.ts) makes tsc reject a code that is not here
 * or logged at a level the entry does not list; the logger reports an unknown code at run time
 * (UNKNOWN_EVENT_CODE; in tests it throws); docs/events.md is generated from this table
 * (`npm run docs:events`) and test/unit/observability/events.test.ts fails when the doc is stale,
 * when a code in src/ is missing here, or when an entry is logged nowhere.
 *
 * Adding a code: one entry below (level(s) it is logged at, the fields beside pid/role/time/msg,
 * and what it means to an operator and what to do), then `npm run docs:events`.
 */

export type EventLevel = "debug" | "info" | "warn" | "error";

export interface EventSpec {
  /** The level(s) the code is logged at; a list when call sites differ. */
  readonly level: EventLevel | readonly EventLevel[];
  /** The fields of the line besides the ones every line has (level, time, pid, role, msg). */
  readonly fields: readonly string[];
  /** What happened, what it means for the mail, and what to do (terse, for operators). */
  readonly meaning: string;
}

export const EVENTS = {
  // --- process lifecycle ---------------------------------------------------------------------
  READY: { level: "info", fields: ["processes", "inProcess", "roles"], meaning: "Every process of `mxspool start` is up: the supervisor plus `processes` forked workers, or (`inProcess: true`, smtp.processes) the supervisor running SMTP and delivery itself. Nothing to do." },
  SHUTDOWN: { level: "info", fields: ["signal", "during"], meaning: "SIGTERM/SIGINT received: new SMTP sessions get 421 4.3.2, DATA in progress finishes, then the processes stop. `during: start`: the start step in progress is abandoned and what was started is stopped (no READY follows)." },
  STOPPED: { level: "info", fields: [], meaning: "The supervisor stopped cleanly (exit 0)." },
  SHUTDOWN_FORCED: { level: "warn", fields: [], meaning: "Shutdown did not finish in time, usually because Redis did not answer; the process exits 1. Anything acknowledged is already in Redis; check Redis." },
  CHILD_EXIT: { level: "error", fields: ["code", "signal", "restartInMs", "failures"], meaning: "A forked worker process died unexpectedly and is restarted after `restartInMs`: 200 ms, doubling to 10 s while it keeps dying (`failures` in a row), 200 ms again once it stayed up a minute. Its deliveries are taken over after `delivery.lockDuration`. Repeated: look for the crash on stderr." },
  TLS_CERT_GENERATED: { level: "info", fields: ["dir"], meaning: "STARTTLS is on without `smtp.tls.cert`: a self-signed certificate was generated in `dataDir` (once). Set `smtp.tls.cert`/`key` for a real one." },
  START_FAILED: { level: "error", fields: ["address", "key", "err"], meaning: "`mxspool start` could not start (exit 3 when an address in `smtp.listen`/`http.listen` is in use, naming it; exit 1 otherwise). Every part it had started, embedded Redis included, was stopped first. Free the address or fix the cause, then start again." },
  UNKNOWN_EVENT_CODE: { level: "error", fields: ["code", "loggedAt", "text"], meaning: "A log line carried an event code missing from src/observability/events.ts (a bug; logged once per code and process; the line itself is still written). Report it." },

  // --- Redis ---------------------------------------------------------------------------------
  REDIS_UNREACHABLE: { level: "error", fields: ["err"], meaning: "A Redis connection failed; it reconnects by itself (logged at most every 5 s). Sessions wait, then get 451 4.3.0: nothing is accepted that is not stored. Check that Redis runs and `redis.url`." },
  JOBS_APART: { level: "warn", fields: ["err"], meaning: "On one Redis or Sentinel a message's delivery jobs are written in the MULTI of its bytes and records, with BullMQ's add script; this process could not take that script from BullMQ (`err` says why), so its jobs are added after the MULTI, as on Cluster: one more round trip per message, and a crash between the two leaves an orphan the sweeper removes. Mail is accepted as before. Report it with the BullMQ version." },
  REDIS_NOT_PERSISTENT: { level: "warn", fields: [], meaning: "The Redis at `redis.url` has neither AOF nor RDB: every queued message is lost when it restarts. Set `appendonly yes` and `appendfsync always`." },
  REDIS_NO_AOF: { level: "warn", fields: [], meaning: "The Redis at `redis.url` has RDB snapshots only: mail accepted since the last snapshot is lost on a crash. Set `appendonly yes`." },
  REDIS_FSYNC_RELAXED: { level: "warn", fields: ["appendfsync"], meaning: "Redis fsyncs its AOF less often than on every write: up to about a second of accepted mail can be lost on power loss. Set `appendfsync always`." },
  STORE_FORMAT_MIGRATED: { level: "warn", fields: ["from", "to", "what"], meaning: "The spool in Redis was written by an older mxspool and was migrated at start to the format this one uses (`<prefix>:format`). Nothing to do; the old release cannot read it any more." },
  STORE_FORMAT_NEWER: { level: "error", fields: ["format", "supported"], meaning: "The spool in Redis was written by a newer mxspool: this one refuses to start rather than misread it. Run that release (or newer) on it." },
  EMBEDDED_REDIS_UP: { level: "info", fields: ["socket", "dir"], meaning: "The embedded redis-server (no `redis.url`) answers on its unix socket, AOF with `appendfsync always`." },
  EMBEDDED_REDIS_STALE_PID: { level: "warn", fields: ["redisPid", "pidFile"], meaning: "The data dir's redis.pid names a process that is not this data dir's redis-server (after a host crash the number can belong to anything): the pid file is removed and nothing is signalled." },
  EMBEDDED_REDIS_STALE: { level: "warn", fields: ["redisPid"], meaning: "A redis-server from a previous run still held the data dir; it is stopped with SIGTERM (it fsyncs its AOF) before a new one starts. Usually after a kill -9 of mxspool." },
  EMBEDDED_REDIS_EXIT: { level: "error", fields: ["code", "signal"], meaning: "The embedded redis-server exited; it is restarted from its AOF after 500 ms. Repeated: read `<dataDir>/redis/redis.log` (disk full?)." },
  EMBEDDED_REDIS_SPAWN: { level: "error", fields: ["err"], meaning: "redis-server could not be started (not installed, not executable). Install Debian's redis-server (scripts/install-deps.sh) or set `redis.url`." },
  AOF_REWRITE: { level: "info", fields: ["aofBytes", "liveBytes"], meaning: "Purged mail (messages whose `retention.delivered` ended after their delivery or bounce) had left at least half of the embedded Redis's AOF dead, and 64 MiB or more: mxspool asked Redis to rewrite it (BGREWRITEAOF; Redis forks and writes the live data to a new file while it serves). A spool that is only growing is never rewritten. Nothing to do." },
  AOF_CHECK_FAILED: { level: "warn", fields: ["err"], meaning: "mxspool could not read the embedded Redis's AOF size or start its rewrite; it tries again every 10 s. Until then the AOF only grows (disk). Read `<dataDir>/redis/redis.log`." },

  // --- SMTP ingress --------------------------------------------------------------------------
  SMTP_LISTENING: { level: "info", fields: ["listen", "tls"], meaning: "The SMTP listener is up on `smtp.listen`; `tls` tells whether STARTTLS is offered." },
  SMTP_SERVER_ERROR: { level: "error", fields: ["err"], meaning: "The SMTP listener reported an error outside a session (socket error). Sessions go on; repeated: check the network and file-descriptor limits." },
  CONNECTION_REFUSED: { level: "info", fields: ["client", "reason"], meaning: "A connection got 421 4.7.0 before the banner: `reason` too-many-connections, too-many-connections-ip or rate-limit (`smtp.maxConnections`, `smtp.maxConnectionsPerIp`, `smtp.connectionRatePerMinute`). Many from one client: a flood or a misbehaving sender." },
  RCPT_REJECTED: { level: "info", fields: ["client", "rcpt", "reason", "code"], meaning: "RCPT TO refused with `code` (unknown user, relay attempt, too many recipients, verification tempfail...). `reason` says which rule; one line per refused recipient." },
  RCPT_CHECK_FAILED: { level: "error", fields: ["rcpt", "err"], meaning: "Checking a recipient threw (Redis down, callout error): the client got 451 4.3.0 and will retry. Check Redis and the primary." },
  RCPT_CALLOUT: { level: "info", fields: ["domain", "rcpt", "reply"], meaning: "A recipient was verified against the primary (RCPT callout, `recipients.verify`); `reply` is the primary's answer, cached for the positive or negative TTL." },
  RCPT_CACHE_WRITE_FAILED: { level: "warn", fields: ["err"], meaning: "Recipient results learnt from a delivery could not be cached (Redis error). Harmless: the next callout asks again." },
  RECIPIENTS_RELOADED: { level: "info", fields: ["domain", "count"], meaning: "A `recipients` file changed and was read again; `count` addresses now accepted for `domain`." },
  RECIPIENTS_RELOAD_FAILED: { level: "error", fields: ["domain", "err"], meaning: "A changed `recipients` file could not be read; the previous list stays in force. Fix the file (permissions, encoding)." },
  BACKUP_TRAFFIC_DEFERRED: { level: "info", fields: ["domain", "rcpt", "client", "inWindow"], meaning: "A recipient of a `acceptWhen: primaryDown` domain got 450 4.7.1 because its primary is up: the sender should use the primary MX. `inWindow` counts them in the current 10-minute window (a backup-traffic event opens at 20). Many: spam aimed at the highest MX, or a sender that cannot reach the primary (it is deferred, not refused; check from its side)." },
  TRAFFIC_WRITE_FAILED: { level: "warn", fields: ["err"], meaning: "A traffic-series count (accepted, refused, delivered, queue depth...) could not be written to Redis; the mail went on as if nothing happened, and the bucket is short by that much. Repeated lines are collapsed. Check Redis." },
  BACKUP_TRAFFIC_RECORD_FAILED: { level: "warn", fields: ["domain", "err"], meaning: "A backup-traffic deferral could not be counted (Redis error); the 450 was sent anyway. Check Redis." },
  SMTP_TRANSACTION: { level: "info", fields: ["id", "client", "helo", "from", "rcpts", "rejected", "tls", "decision", "reason", "code", "size", "flags", "err", "ms", "txnMs"], meaning: "One line per mail transaction, accepted or not: `decision` accept (queued as `id`), reject, tempfail or abandoned (RSET, QUIT or drop before DATA ended); `reason` names the rule or fault." },

  // --- content filters -----------------------------------------------------------------------
  FILTERS_ENABLED: { level: "info", fields: ["scanners"], meaning: "At start, per SMTP process: the configured scanners (clamd, spamd) with their slot limits." },
  FILTERS_DISABLED: { level: "warn", fields: [], meaning: "No scanner configured under `filters`: mail is relayed to the primary unscanned. Intended only if the primary scans." },
  FILTER_UP: { level: "info", fields: ["scanner", "address", "was"], meaning: "A scanner answers again after being down (or at its first answer)." },
  FILTER_DOWN: { level: "error", fields: ["scanner", "address", "error", "detail", "was"], meaning: "A scanner stopped answering (no connection, timeout, broken reply). Messages get 451 or are accepted unscanned per its `onError`. Check clamd/spamd." },
  FILTER_TIMEOUT: { level: "warn", fields: ["id", "scanner", "address", "error", "detail"], meaning: "One scan got no answer within the scanner's `timeout`. Frequent: the scanner is overloaded; raise `timeout` or give it more CPU." },
  FILTER_ERROR: { level: ["warn", "error"], fields: ["id", "scanner", "address", "error", "detail", "err"], meaning: "warn: one scan failed (refused, cut connection, error answer). error: the filter session itself failed and the client got 451 4.7.1. Check the scanner's own log." },
  FILTER_UNSCANNED: { level: "warn", fields: ["id", "from", "rcpts", "client", "virus", "spam"], meaning: "A message was accepted without a complete scan: scanner failed with `onError: accept`, or the message exceeded the scanner's `maxSize`." },
  FILTER_BUSY: { level: "warn", fields: ["id", "from", "rcpts", "client"], meaning: "A message got no scan slot within `queueTimeout`: 451 4.3.2, the sender retries. Frequent: raise `maxConcurrent` or scanner capacity." },
  FILTERS_SATURATED: { level: "warn", fields: ["scanners"], meaning: "Every scan slot and queue place is taken: new transactions get 451 4.3.2 at MAIL FROM until FILTERS_UNSATURATED." },
  FILTERS_UNSATURATED: { level: "info", fields: ["refused"], meaning: "Scanners have free slots again; `refused` counts the MAIL FROM refused meanwhile." },
  VIRUS_FOUND: { level: "warn", fields: ["id", "from", "rcpts", "client", "signature"], meaning: "clamd found `signature`: the message was refused with 554 5.7.1 and not stored." },
  SPAM_REJECTED: { level: "info", fields: ["id", "from", "rcpts", "client", "score"], meaning: "Spam score at or above `rejectScore`: refused with 550 5.7.1 and not stored." },
  SPAM_TAGGED: { level: "info", fields: ["id", "from", "rcpts", "client", "score"], meaning: "Spam score at or above `tagScore`: accepted with X-Spam-* headers for the primary to file." },
  FILTER_RESULT: { level: "debug", fields: ["id", "action", "ms", "virus", "virusMs", "spam", "spamMs"], meaning: "Per message (debug): each scanner's outcome and time, and the verdict." },
  SCANNER_REPORT_FAILED: { level: "debug", fields: ["err"], meaning: "A process could not publish its scanner health to Redis for the status API; the next report (every few seconds) retries." },

  // --- delivery to the primary ---------------------------------------------------------------
  DELIVERED: { level: "info", fields: ["id", "rcpt", "primary", "reply", "attempt"], meaning: "The primary accepted `rcpt` of message `id` (its `reply`, on `attempt`). One line per recipient." },
  BOUNCED: { level: "warn", fields: ["id", "rcpt", "primary", "reply"], meaning: "The primary refused `rcpt` permanently (5xx): a bounce (DSN) goes to the sender. Many: the recipient list accepts addresses the primary does not know." },
  DELIVERY_DEFERRED: { level: "info", fields: ["id", "rcpt", "reply"], meaning: "The primary answered 4xx (or the transaction failed) for `rcpt`; retried per `delivery.retry`." },
  PRIMARY_UNREACHABLE: { level: "info", fields: ["id", "domain", "error"], meaning: "No connection to any primary of `domain` for this message: it waits one `monitor.interval` without spending an attempt, and a probe is triggered." },
  EXPIRED: { level: "warn", fields: ["id", "rcpt", "rcpts", "reply"], meaning: "Undelivered after `delivery.maxLifetime`: given up, and a bounce goes to the sender. A primary down that long needs attention." },
  SPOOL_BODY_MISSING: { level: "error", fields: ["id", "domain"], meaning: "A delivery or DSN job found no message bytes in Redis (the message is failed, the DSN dropped). Should never happen: Redis lost data (no AOF?) or keys were deleted by hand." },
  QUEUE_ERROR: { level: "error", fields: ["queue", "err"], meaning: "A BullMQ queue (a domain's delivery queue, or `dsn`) lost its Redis connection; repeats are collapsed into a count every 10 s. It reconnects by itself; check Redis." },
  WORKER_ERROR: { level: "error", fields: ["domain", "queue", "err"], meaning: "A BullMQ worker (delivery per `domain`, or the DSN `queue`) reported an error, usually Redis unreachable. It recovers by itself; check Redis." },
  WORKER_RECREATED: { level: "warn", fields: ["queue", "waiting"], meaning: "A BullMQ worker had jobs waiting for two watchdog checks (5 s apart) without starting one, or had stopped: it was closed and replaced (BullMQ's failover trap). Once after a Redis failover is expected; often means Redis trouble." },
  ORPHAN_REMOVED: { level: "warn", fields: ["id", "domain", "age", "rcpts"], meaning: "A message stored without its delivery job (a process died between the store and the job, before the 250) was removed with its bytes and index entries, `delivery.orphanAge` after arrival. Never acknowledged: the sender retries it. Nothing to do unless frequent (then look for crashes)." },
  SWEEP_FAILED: { level: "error", fields: ["err"], meaning: "The periodic sweep (delay warnings, expiry, retention purge) failed; it runs again after `delivery.sweepInterval`. Usually Redis." },
  RETENTION_PURGED: { level: "info", fields: ["count"], meaning: "`count` final messages (delivered, bounced, deleted) passed `retention` and were removed from Redis." },

  // --- primary monitor and drain pace --------------------------------------------------------
  PRIMARY_DOWN: { level: "warn", fields: ["domain", "error"], meaning: "The monitor's probe of every primary of `domain` failed: its queue is paused and mail is held, no attempts spent. Expected while the primary is down." },
  PRIMARY_UP: { level: "info", fields: ["domain", "endpoint"], meaning: "A primary of `domain` answers again: its queue is resumed (unless an admin paused it) and drained with slow start (see DRAIN_BACKOFF)." },
  PRIMARY_CHANGED: { level: ["info", "warn"], fields: ["domain", "id", "field", "old", "new"], meaning: "The primary of `domain` is not what it was at the probe before (`field`: banner, size, starttls, capabilities, cert, cert-expiry, addresses, mx, mx-missing-us, mx-preferred; `old` and `new` values): this node recorded a primary-change event (`mxspool primary history DOMAIN`). warn: the spool's mail is at risk (a smaller SIZE than queued messages, STARTTLS or SMTPUTF8 gone, a certificate about to expire, mxspool out of the MX set, a new MX preferred over the primary); check the change with whoever runs the primary." },
  FINGERPRINT_FAILED: { level: "warn", fields: ["domain", "err"], meaning: "The primary's fingerprint could not be recorded (Redis error); the probe's up/down decision stands and the next probe tries again. Check Redis." },
  OUTAGE_STARTED: { level: "warn", fields: ["domain", "id", "startedAt", "detectedAt"], meaning: "This node opened the continuity event of an outage of `domain`'s primary (one node per outage; `mxspool events show ID` for the report). Mail is spooled meanwhile." },
  OUTAGE_RECOVERED: { level: "info", fields: ["domain", "id", "outageMs"], meaning: "The outage event of `domain` recorded the primary's return; the drain starts. The event closes once its queue is empty (OUTAGE_DRAINED)." },
  OUTAGE_DRAINED: { level: "info", fields: ["domain", "id", "messages", "drainMs"], meaning: "The queue of `domain` is empty after an outage: the event is closed and its report final (`mxspool events show ID`)." },
  CONTINUITY_OPENED: { level: "warn", fields: ["kind", "domain", "id"], meaning: "A continuity condition holds (queue-stale: mail waits although the primary is up; scanner-down; redis-memory; cert-expiry; from the learned baselines: traffic-surge, traffic-silent, dictionary-attack, queue-growth — README \"Learned baselines\"): this node opened its event. See `mxspool events`." },
  CONTINUITY_CLOSED: { level: "info", fields: ["kind", "domain", "id"], meaning: "A continuity condition no longer holds: its event is closed." },
  CONTINUITY_FAILED: { level: "warn", fields: ["domain", "step", "err"], meaning: "Recording a continuity event failed (Redis), or (step `baseline`) reading a domain's traffic series for the learned baselines did; the mail is not affected and the next probe or check tries again." },
  DRAIN_BACKOFF: { level: "info", fields: ["domain", "from", "to"], meaning: "While draining, the primary said it is busy (421, 451/452 busy, timeouts) or answered slower than the pace limit: delivery concurrency halved from `from` to `to`. Frequent: the primary is the bottleneck." },
  PACER_FAILED: { level: "warn", fields: ["err"], meaning: "A step of the drain pacer failed (Redis); the next step retries." },

  // --- outbound mail (users sending during an outage) -----------------------------------------
  OUTBOUND_ACCEPTED: { level: "info", fields: ["id", "user", "via", "local", "remote", "size", "dkim"], meaning: "An authenticated user's message was accepted: `local` recipients spooled, `remote` ones queued for the outbound worker; `dkim`: signed." },
  OUTBOUND_REFUSED: { level: "info", fields: ["user", "via", "code", "enhanced", "reason"], meaning: "A user's message was refused (identity 553 5.7.1, rate 450 4.7.1, size, recipients, outbound disabled). Nothing was queued. Repeated rate refusals for one user: a compromised account?" },
  OUTBOUND_SUBMIT_FAILED: { level: "error", fields: ["id", "user", "err"], meaning: "Queueing a user's message failed part way (Redis trouble); the client got 451 4.3.0 and may send again. Check Redis." },
  OUTBOUND_SENT_COPY_FAILED: { level: "warn", fields: ["id", "user", "code", "text"], meaning: "The message went out but its copy for the sender's mailbox at the primary was not spooled (outbound.sentCopies)." },
  OUTBOUND_DELIVERED: { level: "info", fields: ["id", "message", "domain", "rcpts", "endpoint", "reply"], meaning: "Outside recipients' server (or outbound.relay) accepted the message." },
  OUTBOUND_DEFERRED: { level: "info", fields: ["id", "message", "domain", "rcpts", "reply"], meaning: "Outside recipients could not be reached or deferred; retried with the delivery retry table until outbound.maxLifetime." },
  OUTBOUND_FAILED: { level: "warn", fields: ["id", "message", "domain", "rcpts", "reply"], meaning: "Outside recipients refused the message or outbound.maxLifetime passed: a failure DSN goes to the sender's own mailbox (their webmail inbox)." },
  OUTBOUND_DSN_FAILED: { level: "error", fields: ["id", "user", "err"], meaning: "The failure report for the sender could not be spooled; the sender sees the failure only in the Sent view." },
  // --- DSN -----------------------------------------------------------------------------------
  DSN_BOUNCE_QUEUED: { level: "info", fields: ["id", "dsn", "to", "rcpts"], meaning: "A failure DSN (bounce) for message `id` was stored as `dsn` and queued to the sender `to`." },
  DSN_DELAY_QUEUED: { level: "info", fields: ["id", "dsn", "to", "rcpts"], meaning: "A delay warning DSN for message `id` was queued to the sender (message waited `delivery.delayWarning`)." },
  DSN_SUPPRESSED: { level: "info", fields: ["id", "kind", "from"], meaning: "No DSN sent: null sender or the message is itself a report (no bounce loops)." },
  DSN_SENT: { level: "info", fields: ["id", "dsn", "kind", "to", "reply"], meaning: "The sender's server (or `bounces.relay`) accepted the DSN." },
  DSN_REFUSED: { level: "info", fields: ["id", "dsn", "kind", "to", "reply"], meaning: "The sender's server refused the DSN permanently; it is dropped (no double bounce)." },
  DSN_EXPIRED: { level: "warn", fields: ["id", "dsn", "to", "reply"], meaning: "A DSN could not be delivered within `bounces.maxLifetime`; dropped. Check outbound port 25 or `bounces.relay`." },

  // --- continuity alerts -------------------------------------------------------------------
  ALERT_SENT: { level: "info", fields: ["channel", "key", "attempts", "reply"], meaning: "An alert (`key` = event id and transition) reached one destination (`channel` webhook or email). Nothing to do." },
  ALERT_FAILED: { level: "warn", fields: ["channel", "key", "attempts", "err"], meaning: "An alert could not be sent to one destination; it is retried with backoff (`alerts.retry`) until `alerts.maxAge`. Mail is not affected. Check the webhook URL or the e-mail relay." },
  ALERT_EXPIRED: { level: "error", fields: ["channel", "key", "attempts", "err"], meaning: "An alert was not sent within `alerts.maxAge` and was dropped: operators were not told of that transition through this destination. Fix the destination; `mxspool doctor --send-test-alert` checks it." },
  ALERT_DESTINATION_GONE: { level: "warn", fields: ["channel", "key"], meaning: "A queued alert's webhook or e-mail is no longer in the config (changed since it was queued); it is dropped." },

  // --- admin API -----------------------------------------------------------------------------
  HTTP_CONNECTIONS_FULL: { level: "warn", fields: ["maxConnections", "ip"], meaning: "`http.maxConnections` HTTP connections are open: new ones are closed at once (logged at most every 10 s). Many idle clients or a flood; raise the limit only if they are legitimate." },
  HTTP_LISTENING: { level: "info", fields: ["listen"], meaning: "The admin HTTP API (and webmail, if enabled) is up on `http.listen`." },
  API_NO_TOKEN: { level: "warn", fields: [], meaning: "No `http.adminToken` / MXSPOOL_ADMIN_TOKEN: the admin API answers 401 to everything but /api/health. Set a token to use it." },
  HTTP_ERROR: { level: "error", fields: ["requestId", "method", "path", "err", "stack"], meaning: "An API handler threw: the client got 500 INTERNAL (or 503 if Redis is down) naming `requestId`. A bug unless Redis was down; report it with the stack." },
  HTTP_TIMEOUT: { level: "warn", fields: ["requestId", "route", "ms"], meaning: "An API request took longer than its route's limit: 503 TIMEOUT. Usually a slow Redis." },
  HTTP_STREAM_ERROR: { level: "error", fields: ["err"], meaning: "A streamed response (message download) failed midway; the connection was cut. Usually the message was purged or Redis failed meanwhile." },
  ADMIN_ACTION: { level: "info", fields: ["action", "id", "actor", "ip", "note", "queuePaused"], meaning: "An admin held, released, retried, redelivered or deleted message `id` through the API (audit line)." },
  ADMIN_BULK: { level: "info", fields: ["action", "matched", "touched", "skipped", "filter", "actor", "ip"], meaning: "An admin ran a bulk action on the messages matching `filter` (audit line)." },
  DOMAIN_PAUSED: { level: "warn", fields: ["domain", "actor", "ip"], meaning: "An admin paused delivery to `domain`: mail is held until resumed, even when the primary is up." },
  DOMAIN_RESUMED: { level: "info", fields: ["domain", "actor", "ip", "primaryUp"], meaning: "An admin lifted the pause of `domain`; the queue runs now if `primaryUp`, else when the monitor sees the primary up." },
  DOMAIN_FLUSHED: { level: "info", fields: ["domain", "promoted", "queuePaused", "actor", "ip"], meaning: "An admin made the deferred messages of `domain` due now (`promoted`) and triggered a probe." },
  PROBE_FAILED: { level: "warn", fields: ["domain", "err"], meaning: "A probe of the primary of `domain` ran but its result could not be recorded (Redis unreachable, or closing at a stop); repeats are collapsed. The next probe tries again; mail is not affected." },
  PROBE_REQUESTED: { level: "info", fields: ["domain", "actor", "ip"], meaning: "An admin asked for an immediate probe of the primary of `domain`." },
  DRILL_PASSED: { level: "info", fields: ["domain", "drillId", "queueId", "acceptMs", "spoolMs", "deliveryMs", "reason"], meaning: "A failover drill of `domain` passed: the marked message was accepted while delivery was paused and delivered after resume (figures in ms)." },
  DRILL_FAILED: { level: "warn", fields: ["domain", "drillId", "queueId", "acceptMs", "spoolMs", "deliveryMs", "reason"], meaning: "A failover drill of `domain` failed; `reason` says at which step (our listener, the spool, or the primary)." },
  DRILL_SCHEDULE_ERROR: { level: "error", fields: ["domain", "err"], meaning: "A scheduled drill (drills.every) could not run; the next period tries again." },

  // --- webmail -------------------------------------------------------------------------------
  WEBMAIL_ENABLED: { level: "info", fields: ["users"], meaning: "Webmail is served under / with the users file `users`." },
  WEBMAIL_USERS_LOADED: { level: "info", fields: ["file", "users"], meaning: "The webmail users file was (re)read: `users` accounts." },
  WEBMAIL_USERS_INVALID: { level: ["error", "warn"], fields: ["file", "problem"], meaning: "error: the users file cannot be read, the last good one stays in force. warn: one line of it is ignored. Fix the file." },
  WEBMAIL_USER_CREATED: { level: "info", fields: ["address", "reset"], meaning: "An admin created a webmail user (or reset its password, `reset`) with a one-time password." },
  WEBMAIL_LOGIN: { level: "info", fields: ["address", "ip"], meaning: "A webmail user logged in." },
  WEBMAIL_LOGIN_FAILED: { level: "warn", fields: ["address", "ip", "lockedAccount", "lockedIp"], meaning: "Wrong address or password; `lockedAccount`/`lockedIp` say whether this failure locked the account or the address out. Many from one ip: password guessing." },
  WEBMAIL_LOGIN_BUSY: { level: "warn", fields: ["address", "ip", "scope"], meaning: "A login or password change was refused before hashing: too many password checks under way from this ip (429, `webmail.login.maxConcurrentPerIp`) or in total (503, `webmail.login.maxConcurrent`). Many: a password-guessing flood." },
  WEBMAIL_LOGIN_LOCKED: { level: "warn", fields: ["address", "ip", "scope"], meaning: "A login was refused with 429 because the account or ip (`scope`) is locked out after repeated failures." },
  WEBMAIL_LOGOUT: { level: "info", fields: ["address", "ip"], meaning: "A webmail user logged out." },
  WEBMAIL_PASSWORD_CHANGED: { level: "info", fields: ["address", "ip"], meaning: "A webmail user changed their password; other sessions of that user end." },
  WEBMAIL_PASSWORD_CHANGE_FAILED: { level: "warn", fields: ["address", "ip"], meaning: "A password change gave a wrong current password (counts towards the lock-out)." },
  WEBMAIL_CSRF_REJECTED: { level: "warn", fields: ["address", "ip", "path"], meaning: "A form was posted without a valid CSRF token (expired page, or a cross-site request): 403. Many: someone is trying cross-site requests." },
  WEBMAIL_DOWNLOAD: { level: "info", fields: ["id", "address", "what", "index"], meaning: "A user downloaded the original message (`what` raw) or an attachment (`index`) of message `id` (audit line)." },
  WEBMAIL_ERROR: { level: "error", fields: ["path", "address", "err", "problem"], meaning: "A webmail request failed (500) or a new password could not be saved. Usually Redis or the users file's permissions." },
  WEBMAIL_SEND: { level: "info", fields: ["address", "id", "rcpts", "kind", "attachments"], meaning: "A webmail user sent a message (`kind`: new, reply, reply-all, forward); the outbound submitter queued it as `id`." },
  WEBMAIL_SEND_REFUSED: { level: "warn", fields: ["address", "code", "enhanced", "problem"], meaning: "A webmail send was refused: by the outbound submitter (`code`/`enhanced`: not the user's address, rate limit, size) or by the form (`problem`: bad address, too large an upload). The user saw why." },
  SUBMISSION_LISTENING: { level: "info", fields: ["listen", "implicitTls"], meaning: "SMTP submission listens: `listen` (STARTTLS before AUTH) and/or `implicitTls`." },
  SUBMISSION_AUTH: { level: "info", fields: ["address", "ip"], meaning: "A mail program authenticated for SMTP submission." },
  SUBMISSION_AUTH_FAILED: { level: "warn", fields: ["address", "ip", "lockedAccount", "lockedIp"], meaning: "Submission AUTH with a wrong address or password (535 5.7.8); counts towards the same lock-out as webmail logins. Many from one ip: password guessing." },
  SUBMISSION_AUTH_LOCKED: { level: "warn", fields: ["address", "ip", "scope"], meaning: "Submission AUTH refused with 454 4.7.0: the account or ip (`scope`) is locked out (webmail.login), or too many password checks are under way." },
  SUBMISSION_TRANSACTION: { level: "info", fields: ["user", "from", "rcpts", "client", "decision", "ms", "id", "size", "code", "enhanced"], meaning: "One submitted message and its outcome: accept (queued as `id`), reject/tempfail with the submitter's `code`/`enhanced`." },
  SUBMISSION_ERROR: { level: "error", fields: ["phase", "user", "err"], meaning: "A submission AUTH check or hand-over failed unexpectedly (the client got 454/451 and may retry). Usually Redis." },
  CONSOLE_ENABLED: { level: "info", fields: [], meaning: "The admin console is served under /admin on the http role (`admin.console`)." },
  CONSOLE_LOGIN: { level: "info", fields: ["ip"], meaning: "Someone logged in to the admin console with the admin token." },
  CONSOLE_LOGIN_FAILED: { level: "warn", fields: ["ip", "tokenConfigured"], meaning: "A wrong admin token was typed into the console's login (counts towards the webmail's lock-out rules, in the console's own counters). Many from one ip: token guessing." },
  CONSOLE_LOGIN_LOCKED: { level: "warn", fields: ["ip", "outcome", "scope"], meaning: "A console login was refused before checking: locked out after repeated failures (429) or too many checks under way (`outcome` busy)." },
  CONSOLE_LOGOUT: { level: "info", fields: ["ip"], meaning: "An admin logged out of the console." },
  CONSOLE_CSRF_REJECTED: { level: "warn", fields: ["ip", "path"], meaning: "A console form was posted without a valid CSRF token or from another origin: 403, nothing done." },
  CONSOLE_ERROR: { level: "error", fields: ["path", "err"], meaning: "A console page failed (500). Usually Redis is away." },
} as const satisfies Record<string, EventSpec>;

export type EventCode = keyof typeof EVENTS;

/** The levels an entry lists, as a union type. */
type LevelsOf<C extends EventCode> = (typeof EVENTS)[C]["level"] extends readonly (infer L)[] ? L : (typeof EVENTS)[C]["level"];

/** The codes that may be logged at level L. */
export type EventCodeAt<L extends EventLevel> = { [C in EventCode]: L extends LevelsOf<C> ? C : never }[EventCode];

export function isEventCode(code: unknown): code is EventCode {
  return typeof code === "string" && Object.hasOwn(EVENTS, code);
}

/** An entry's levels as a list. */
export function eventLevels(spec: EventSpec): readonly EventLevel[] {
  return typeof spec.level === "string" ? [spec.level] : spec.level;
}

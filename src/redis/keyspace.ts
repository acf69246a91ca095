/**
 * Every Redis key mxspool reads or writes, named here and nowhere else. One Keyspace is built
 * from `redis.prefix` in the composition root (src/main.ts) and passed down; the modules that
 * talk to Redis ask it for their keys instead of gluing strings. The names are those an
 * existing spool already holds: changing one strands the data under the old name.
 * test/unit/redis/keyspace.test.ts lists the whole layout and fails if a key is built elsewhere.
 *
 * Hash slots (Redis Cluster), the rules in one place:
 * - BullMQ's keys all start with `{<prefix>}` (bullPrefix): one slot, as its Lua scripts need.
 *   deliveryJob() is one of them, so the orphan check can read it in the same script only on
 *   a single Redis (see SLOTS below).
 * - A message's own keys (raw, part, meta, ledger) carry the tag `{<queue id>}`: they share a
 *   slot, so one MULTI changes them together, and messages spread over the Cluster.
 * - A DSN gathering carries `{<base id>}`; a recipient-cache entry and a traffic-series chunk `{<domain>}`.
 * - Everything else is global (untagged): the indexes, counters and stats, primary states, backup-traffic windows,
 *   pace, rate counters, sweep marks, the format version, webmail sessions and locks. A MULTI that joins a
 *   message's keys with indexes and counters (accept, transition, purge) would need these
 *   under one tag on Cluster; single Redis and Sentinel are what is supported today.
 *
 * This module sits below every step (ingress, store, delivery, dsn, api, webmail): it imports
 * nothing from them.
 */
import crypto from "node:crypto";

/** One delivery queue per domain, so that one dead primary pauses only its own mail. */
export const deliveryQueueName = (domain: string) => `delivery-${domain}`;

/** Delivery status notifications (bounces, delay warnings) to senders. */
export const DSN_QUEUE = "dsn";

/** Continuity alerts (webhooks, e-mail, reminders) to operators, sent out of band (src/alerts/). */
export const ALERTS_QUEUE = "alerts";

/** Which keys share a hash slot (what a Cluster move would have to keep true). */
export const SLOTS = {
  bullmq: "every BullMQ key (queues, jobs, deliveryJob) is tagged {<prefix>}: one slot",
  message: "messageRaw, messagePart, messageMeta, messageLedger of one id are tagged {<id>}: one slot per message",
  dsn: "dsnPending and dsnPendingRcpts of one base id and kind are tagged {<base id>}: one slot",
  recipientCache: "recipient-cache entries are tagged {<domain>}: one slot per domain",
  traffic: "traffic-series chunks of one domain are tagged {<domain>}: one slot per domain (with its recipient cache)",
  global: "indexes, stats, primary, pace, rate, backup-traffic windows, sweep marks, continuity events, webmail keys: untagged (one tag of their own on Cluster)",
} as const;

const sha256 = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

export class Keyspace {
  /** BullMQ's `prefix` option: our prefix in braces, so all BullMQ keys share one slot. */
  readonly bullPrefix: string;

  constructor(readonly prefix: string) {
    this.bullPrefix = `{${prefix}}`;
  }

  private key(...parts: string[]): string { return [this.prefix, ...parts].join(":"); }

  // ── one message (tag {<id>}) ─────────────────────────────────────────────────────────

  /** String: the client's bytes as received: since spool format 2 framed and compressed (src/store/frame-codec.ts), before that plain. TTL: maxLifetime + 2 days (bytes never outlive a lost job for long); a final message's is cut to its retention. */
  messageRaw(id: string) { return this.key("msg", `{${id}}`, "raw"); }
  /** String: the bytes of a message still being received (a frame appended per piece as they arrive, copied to messageRaw at commit: COPY allocates it tight). TTL: as messageRaw. */
  messagePart(id: string) { return this.key("msg", `{${id}}`, "part"); }
  /** Hash: the record (envelope, subject, size, state, attempts, last error, outcomes, heldJob). TTL: none until final, then retention. */
  messageMeta(id: string) { return this.key("msg", `{${id}}`, "meta"); }
  /** List: the message's events as JSON (received, attempts, admin actions). TTL: as messageMeta. */
  messageLedger(id: string) { return this.key("msg", `{${id}}`, "ledger"); }

  // ── indexes (global; sorted sets of queue ids, score = arrival ms, or purge time for indexPurge) ──

  /** Zset: every message. No TTL (entries go with purge). */
  indexAll() { return this.index("all"); }
  /** Zset: final messages, scored by the time their retention ends. No TTL. */
  indexPurge() { return this.index("purge"); }
  /** Zset: the messages in one state. No TTL. */
  indexState(state: string) { return this.index(`state:${state}`); }
  /** Zset: the messages for one configured domain. No TTL. */
  indexDomain(domain: string) { return this.index(`domain:${domain}`); }
  /** Zset: the messages for one recipient (compared case-insensitively). No TTL. */
  indexRcpt(address: string) { return this.index(`rcpt:${address.toLowerCase()}`); }
  private index(name: string) { return this.key("idx", name); }

  // ── stats (global hashes, no TTL) ───────────────────────────────────────────────────

  /** Hash: accepted, delivered, bounced, deleted … and rcpt_* counts that reconcile with the queue. */
  counters() { return this.key("stats", "counters"); }
  /** Hash: alerts by outcome and channel (`sent:webhook`, `failed:email`, ...), for the metrics. */
  alertStats() { return this.key("stats", "alerts"); }
  /** Hash: SMTP refusals by reason (RejectCounter). */
  rejected() { return this.key("stats", "rejected"); }
  /** Hash: delivery attempts by result (delivered, deferred, bounced, unreachable). */
  attempts() { return this.key("stats", "attempts"); }
  /** Hash: delivery latency buckets (field per upper bound, sum_ms, count). */
  latency() { return this.key("stats", "latency"); }
  /** Hash: RCPTs deferred by `acceptWhen: primaryDown` while the primary was up (field = domain): mxspool_backup_deferred_total. */
  backupDeferred() { return this.key("stats", "backupDeferred"); }
  /** Hash: scanner reports from the processes that run a content filter (field = host:pid, stale ones removed by readers). */
  scanners() { return this.key("stats", "scanners"); }

  // ── primaries and pacing (global) ───────────────────────────────────────────────────

  /** Hash: the monitor's view of a domain's primary (state, lastError, since, pace, admin pause). No TTL. */
  primary(domain: string) { return this.key("primary", domain); }
  /** Pub/sub channel (not a key): a domain name published here asks the monitor to probe it now. */
  probeChannel() { return this.key("probe"); }
  /** Hash: what delivery workers report for the drain pacer (ok, busy, total latency), reset by each pacer step. No TTL. */
  pace(domain: string) { return this.key("pace", domain); }
  /** String (JSON): the primary's last fingerprint (policies/primary-change.ts), swapped by a Lua compare so one node raises each change. No TTL. */
  primaryFingerprint(domain: string) { return this.key("primary", "fp", domain); }
  /** List (JSON, newest first): the primary's last `monitor.fingerprintHistory` fingerprints, each with when it was first seen. No TTL. */
  primaryHistory(domain: string) { return this.key("primary", "fph", domain); }

  // ── ingress ─────────────────────────────────────────────────────────────────────────

  /** String counter: connections from `ip` in one minute (`minute` = epoch ms / 60 000, floored). TTL 120 s. */
  connRate(ip: string, minute: number) { return this.key("rate", "conn", ip, String(minute)); }
  /** String "ok" | "bad": what the primary said of a recipient of a `verify` domain. TTL: the cache's (days / hours). Tag {<domain>}. */
  recipientCache(domain: string, address: string) { return this.key("rcpt", `{${domain}}`, address.toLowerCase()); }

  /** String counter: backup-traffic deferrals of `domain` in one window (`window` = epoch ms / window length, floored). TTL two windows. */
  backupWindow(domain: string, window: number) { return this.key("backup", domain, String(window)); }

  /** Hash: one domain's traffic series over CHUNK buckets of `bucketSeconds` (src/observability/traffic-series.ts; field = bucket index + metric code). Tag {<domain>}; domain "*" holds refusals made before a domain is known. TTL: the chunk's end + baselines.retention. */
  traffic(domain: string, bucketSeconds: number, chunk: number) { return this.key("traffic", `{${domain}}`, String(bucketSeconds), String(chunk)); }
  /** Hash: one domain's traffic counters since the start (field = metric name, e.g. `accepted`, `rejected.spam`), for mxspool_traffic_total. Tag {<domain>}. No TTL. */
  trafficTotals(domain: string) { return this.key("traffic", `{${domain}}`, "total"); }

  // ── DSN gathering (tag {<base id>}) ──────────────────────────────────────────────────

  /** Hash: a message's pending DSN of `kind` (subject, collector). TTL one day. */
  dsnPending(base: string, kind: string) { return this.key("dsn", `{${base}}`, kind); }
  /** List: the recipients waiting to be named in that DSN (JSON). TTL one day. */
  dsnPendingRcpts(base: string, kind: string) { return this.key("dsn", `{${base}}`, kind, "rcpts"); }

  // ── the spool as a whole ────────────────────────────────────────────────────────────

  /** String: the spool's format version (src/store/store-format.ts). Global, no TTL. */
  format() { return this.key("format"); }
  /** String: a counter written just before each WAIT, so the WAIT covers every earlier write (src/redis/replica-ack.ts). Global, no TTL. */
  replicaAck() { return this.key("replica-ack"); }
  /** SCAN MATCH patterns that find any key of this spool (ours and BullMQ's): is this Redis new? */
  spoolPatterns() { return [`${this.prefix}:*`, `${this.bullPrefix}:*`]; }

  // ── sweep marks (global strings, no TTL) ─────────────────────────────────────────────

  /** String: arrival time (ms) up to which delay warnings were sent. */
  sweepDelayWarned() { return this.key("sweep", "delayWarnedUpTo"); }
  /** String: arrival time (ms) up to which the queued index was checked for orphans. */
  sweepOrphansChecked() { return this.key("sweep", "orphansCheckedUpTo"); }

  // ── continuity events (global, no TTL: the history of outages outlives restarts) ─────────

  /** Hash: one continuity event (field `event` = its JSON, `t:<transition>` = when each transition was recorded). */
  continuityEvent(id: string) { return this.key("cont", "ev", id); }
  /** Zset: every continuity event id, score = startedAt (listed newest first). */
  continuityIndex() { return this.key("cont", "idx"); }
  /** String: the id of the open event of one kind (and domain): SET NX, so one node opens it. */
  continuityOpen(kind: string, domain?: string) { return this.key("cont", "open", kind, domain ?? "-"); }
  /** Hash: outage figures for the metrics, per domain: `outage_ms:<d>` (sum of finished outages), `detect_ms:<d>` (the last time to detect). */
  continuityStats() { return this.key("cont", "stats"); }

  // ── webmail (global; subjects hashed so a Redis dump hands out no session nor address) ──

  /** String (JSON session) under the SHA-256 of the cookie token. TTL: sessionIdle, capped by sessionMax. */
  webmailSession(token: string) { return this.key("webmail", "session", sha256(token)); }
  /** String counter (fail) or flag (lock) of login failures per account or client IP, under 32 hex of SHA-256. TTL: failureWindow / lockout. */
  webmailLogin(kind: "fail" | "lock", scope: "acct" | "ip", subject: string) { return this.key("webmail", kind, scope, sha256(subject).slice(0, 32)); }

  // ── admin console (global; subjects hashed like the webmail's, in a namespace of their own) ──

  /** Hash: an admin console session under the SHA-256 of the cookie token (webmail cookies never match). TTL: sessionIdle, capped by sessionMax. */
  consoleSession(token: string) { return this.key("console", "session", sha256(token)); }
  /** String counter (fail) or flag (lock) of console login failures per account or client IP. TTL: failureWindow / lockout. */
  consoleLogin(kind: "fail" | "lock", scope: "acct" | "ip", subject: string) { return this.key("console", kind, scope, sha256(subject).slice(0, 32)); }
  /** String (JSON): the counters and queue depth at one sample slot (epoch ms / admin.sampleEvery, floored), for the console's charts; SET NX, one node per slot. TTL 8 days. */
  consoleSample(slot: number) { return this.key("console", "sample", String(slot)); }

  // ── doctor and drills (global) ──────────────────────────────────────────────────────

  /** String (JSON): the last drill of a domain (id, passed, figures, at) — what the doctor reads for "last tested". No TTL. */
  drillLast(domain: string) { return this.key("drill", "last", domain); }
  /** String: the last drill of a domain that passed (same JSON). No TTL. */
  drillLastPassed(domain: string) { return this.key("drill", "passed", domain); }
  /** String NX lock: the node that runs the scheduled drills of period `period` (epoch ms / drills.every, floored). TTL drills.every. */
  drillLock(period: number) { return this.key("drill", "lock", String(period)); }

  // ── BullMQ (tag {<prefix>}) ──────────────────────────────────────────────────────────

  /** Hash: BullMQ's record of one delivery job (its layout: `<bull prefix>:<queue>:<job id>`). Written by BullMQ; read here only to check it exists. */
  deliveryJob(domain: string, id: string) { return `${this.bullPrefix}:${deliveryQueueName(domain)}:${id}`; }
}

/**
 * Every Redis key mxspool reads or writes, named here and nowhere else. One Keyspace is built
 * from `redis.prefix` in the composition root (src/main.ts) and passed down; the modules that
 * talk to Redis ask it for their keys instead of gluing strings. The names are those an
 * existing spool already holds: changing one strands the data under the old name.
 * test/unit/redis/keyspace.test.ts lists the whole layout and fails if a key is built elsewhere.
 *
 * Hash slots. On one Redis (and Sentinel) the layout is the one existing spools hold:
 * - BullMQ's keys all start with `{<prefix>}` (bullPrefixOf): one slot, as its Lua scripts need.
 * - A message's own keys (raw, part, meta, ledger) carry the tag `{<queue id>}`.
 * - A DSN gathering carries `{<base id>}`; a recipient-cache entry and a traffic-series chunk `{<domain>}`.
 * - Everything else is untagged: indexes, counters, stats, primary states, ...
 * With Redis Cluster (`new Keyspace(prefix, true)`) every key that a MULTI, a pipeline or a Lua
 * script touches together shares a hash tag (test/unit/redis/cluster-slots.test.ts checks each):
 * - messages are spread over CLUSTER_SHARDS shards, tag `{<prefix>:s<n>}`, n from the base queue
 *   id (a message's per-domain copies `<id>.2`, ... land in its shard: one accept MULTI). A
 *   shard holds its messages' keys AND the indexes, counters and attempt/latency stats of those
 *   messages: a state change stays one slot. Readers of an index or a counter go over shards().
 * - each BullMQ queue has its own tag `{<prefix>:<queue name>}`: one slot per delivery domain.
 * - the remaining global keys (primary states, pace, rate, webmail, continuity, ...) share one
 *   tag `{<prefix>}`: they are small and written together by some scripts.
 * - DSN gatherings, recipient-cache entries and traffic-series chunks keep their own tags.
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

/** Mail authenticated users send to addresses outside the configured domains (src/outbound/). */
export const OUTBOUND_QUEUE = "outbound";

/** Redis Cluster: how many shards (hash tags) the messages, their indexes and counters are spread over. Changing it strands data. */
export const CLUSTER_SHARDS = 16;

/** A message shard: always 0 on one Redis, 0..CLUSTER_SHARDS-1 on Redis Cluster. */
export type Shard = number;

/** The base queue id of a per-domain copy (`<id>.2` → `<id>`): copies share their message's shard and DSN gathering. */
export const baseQueueId = (id: string) => id.split(".")[0]!;

/** Which keys share a hash slot (what a Cluster move would have to keep true). */
export const SLOTS = {
  bullmq: "every BullMQ key (queues, jobs, deliveryJob) is tagged {<prefix>} (one Redis) or {<prefix>:<queue>} (Cluster): one slot per queue",
  message: "messageRaw, messagePart, messageMeta, messageLedger of one id are tagged {<id>}: one slot per message",
  dsn: "dsnPending and dsnPendingRcpts of one base id and kind are tagged {<base id>}: one slot",
  recipientCache: "recipient-cache entries are tagged {<domain>}: one slot per domain",
  traffic: "traffic-series chunks of one domain are tagged {<domain>}: one slot per domain (with its recipient cache)",
  shard: "Cluster only: a message's keys, the indexes, counters, attempts and latency of its shard are tagged {<prefix>:s<n>}",
  global: "indexes, stats, primary, pace, rate, backup-traffic windows, sweep marks, continuity events, webmail keys: untagged on one Redis; on Cluster the per-message ones go to their shard and the rest is tagged {<prefix>}",
} as const;

const sha256 = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

/** FNV-1a, 32 bits: a stable, cheap spread of queue ids over the shards. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export class Keyspace {
  /** `cluster`: the Redis Cluster layout (tagged keys, sharded indexes); else the single-Redis layout. */
  constructor(readonly prefix: string, readonly cluster = false) {}

  /** BullMQ's `prefix` option for one queue: braces make all of the queue's keys share one slot. */
  bullPrefixOf(queue: string): string { return this.cluster ? `{${this.prefix}:${queue}}` : `{${this.prefix}}`; }

  /** Every shard: what a reader of an index or a counter goes over (one on a single Redis). */
  shards(): Shard[] { return this.cluster ? Array.from({ length: CLUSTER_SHARDS }, (_, i) => i) : [0]; }

  /** The shard of a message (and of its per-domain copies). */
  shardOf(id: string): Shard { return this.cluster ? fnv1a(baseQueueId(id)) % CLUSTER_SHARDS : 0; }

  /** A global key: untagged on one Redis, tagged {<prefix>} on Cluster. */
  private key(...parts: string[]): string { return [this.prefix, ...(this.cluster ? [`{${this.prefix}}`] : []), ...parts].join(":"); }
  /** A key that carries its own tag in `parts` (DSN, recipient cache, traffic series): the same on one Redis and on Cluster. */
  private own(...parts: string[]): string { return [this.prefix, ...parts].join(":"); }
  /** A per-shard key: the global key on one Redis, tagged {<prefix>:s<n>} on Cluster. */
  private sharded(shard: Shard, ...parts: string[]): string {
    return this.cluster ? [this.prefix, `{${this.prefix}:s${shard}}`, ...parts].join(":") : this.key(...parts);
  }
  /** A message's own key: tag {<id>} on one Redis, its shard's tag on Cluster. */
  private msg(id: string, part: string): string {
    return this.cluster ? this.sharded(this.shardOf(id), "msg", id, part) : this.own("msg", `{${id}}`, part);
  }

  // ── one message (tag {<id>}) ─────────────────────────────────────────────────────────

  /** String: the client's bytes as received: since spool format 2 framed and compressed (src/store/frame-codec.ts), before that plain. TTL: maxLifetime + 2 days (bytes never outlive a lost job for long); a final message's is cut to its retention. */
  messageRaw(id: string) { return this.msg(id, "raw"); }
  /** String: the bytes of a message still being received (a frame appended per piece as they arrive, copied to messageRaw at commit: COPY allocates it tight). TTL: as messageRaw. */
  messagePart(id: string) { return this.msg(id, "part"); }
  /** Hash: the record (envelope, subject, size, state, attempts, last error, outcomes, heldJob). TTL: none until final, then retention. */
  messageMeta(id: string) { return this.msg(id, "meta"); }
  /** List: the message's events as JSON (received, attempts, admin actions). TTL: as messageMeta. */
  messageLedger(id: string) { return this.msg(id, "ledger"); }

  // ── indexes (per shard; sorted sets of queue ids, score = arrival ms, or purge time for indexPurge) ──

  /** Zset: every message. No TTL (entries go with purge). */
  indexAll(shard: Shard) { return this.index(shard, "all"); }
  /** Zset: final messages, scored by the time their retention ends. No TTL. */
  indexPurge(shard: Shard) { return this.index(shard, "purge"); }
  /** Zset: the messages in one state. No TTL. */
  indexState(shard: Shard, state: string) { return this.index(shard, `state:${state}`); }
  /** Zset: the messages for one configured domain. No TTL. */
  indexDomain(shard: Shard, domain: string) { return this.index(shard, `domain:${domain}`); }
  /** Zset: the messages for one recipient (compared case-insensitively). No TTL. */
  indexRcpt(shard: Shard, address: string) { return this.index(shard, `rcpt:${address.toLowerCase()}`); }
  /** Zset: the messages users sent (records flagged "outbound": local copies and remote jobs). No TTL (entries go with purge). */
  indexOutbound(shard: Shard) { return this.index(shard, "direction:outbound"); }
  private index(shard: Shard, name: string) { return this.sharded(shard, "idx", name); }

  // ── stats (global hashes, no TTL) ───────────────────────────────────────────────────

  /** Hash: accepted, delivered, bounced, deleted … and rcpt_* counts that reconcile with the queue. */
  counters(shard: Shard) { return this.sharded(shard, "stats", "counters"); }
  /** Hash: alerts by outcome and channel (`sent:webhook`, `failed:email`, ...), for the metrics. */
  alertStats() { return this.key("stats", "alerts"); }
  /** Hash: SMTP refusals by reason (RejectCounter). */
  rejected() { return this.key("stats", "rejected"); }
  /** Hash: delivery attempts by result (delivered, deferred, bounced, unreachable). */
  attempts(shard: Shard) { return this.sharded(shard, "stats", "attempts"); }
  /** Hash: delivery latency buckets (field per upper bound, sum_ms, count). */
  latency(shard: Shard) { return this.sharded(shard, "stats", "latency"); }
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
  recipientCache(domain: string, address: string) { return this.own("rcpt", `{${domain}}`, address.toLowerCase()); }

  /** String counter: backup-traffic deferrals of `domain` in one window (`window` = epoch ms / window length, floored). TTL two windows. */
  backupWindow(domain: string, window: number) { return this.key("backup", domain, String(window)); }

  /** Hash: one domain's traffic series over CHUNK buckets of `bucketSeconds` (src/observability/traffic-series.ts; field = bucket index + metric code). Tag {<domain>}; domain "*" holds refusals made before a domain is known. TTL: the chunk's end + baselines.retention. */
  traffic(domain: string, bucketSeconds: number, chunk: number) { return this.own("traffic", `{${domain}}`, String(bucketSeconds), String(chunk)); }
  /** Hash: one domain's traffic counters since the start (field = metric name, e.g. `accepted`, `rejected.spam`), for mxspool_traffic_total. Tag {<domain>}. No TTL. */
  trafficTotals(domain: string) { return this.own("traffic", `{${domain}}`, "total"); }
  /** String: set NX by the node that judges `domain`'s bucket `bucket` against its learned baseline (src/continuity/baseline-watch.ts). Tag {<domain>}. TTL two buckets. */
  baselineTurn(domain: string, bucket: number) { return this.own("traffic", `{${domain}}`, "turn", String(bucket)); }

  // ── DSN gathering (tag {<base id>}) ──────────────────────────────────────────────────

  /** Hash: a message's pending DSN of `kind` (subject, collector). TTL one day. */
  dsnPending(base: string, kind: string) { return this.own("dsn", `{${base}}`, kind); }
  /** List: the recipients waiting to be named in that DSN (JSON). TTL one day. */
  dsnPendingRcpts(base: string, kind: string) { return this.own("dsn", `{${base}}`, kind, "rcpts"); }

  // ── the spool as a whole ────────────────────────────────────────────────────────────

  /** String: the spool's format version (src/store/store-format.ts). Global, no TTL. */
  format() { return this.key("format"); }
  /** String: a counter written just before each WAIT, so the WAIT covers every earlier write (src/redis/replica-ack.ts). Global, no TTL. */
  replicaAck() { return this.key("replica-ack"); }
  /** String: the same marker for the master of one shard (Redis Cluster): a message's shard, or a delivery queue's slot. On one Redis: replicaAck(). */
  replicaAckOn(where: { message: string } | { queue: string }): string {
    if (!this.cluster) return this.replicaAck();
    return "message" in where ? this.sharded(this.shardOf(where.message), "replica-ack") : [this.prefix, this.bullPrefixOf(where.queue), "replica-ack"].join(":");
  }
  /** SCAN MATCH patterns that find any key of this spool (ours and BullMQ's): is this Redis new? */
  spoolPatterns() { return [`${this.prefix}:*`, this.cluster ? `{${this.prefix}:*` : `{${this.prefix}}:*`]; }

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

  // ── outbound mail (src/outbound/; a sent message's own hash is tagged {<id>}) ──────────

  /** Hash: one message a user sent: `raw` (the bytes as sent), `summary` (JSON), `rcpt:<address>` (its outcome, JSON). TTL outbound.keepSent. */
  outboundMessage(id: string) { return this.key("out", `{${id}}`, "msg"); }
  /** Zset: the ids of the messages one user sent, score = when. Entries older than outbound.keepSent are trimmed as it is written. TTL outbound.keepSent. */
  outboundSent(user: string) { return this.key("out", "sent", user.toLowerCase()); }
  /** String counter: messages sent in one hour (`hour` = epoch ms / 3 600 000, floored) by one user, or by everyone (`*`). TTL 2 h. */
  outboundRate(scope: string, hour: number) { return this.key("rate", "out", scope.toLowerCase(), String(hour)); }

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
  /** List (BullMQ's): the outbound jobs being delivered now, read by the admin for the "active" state. */
  outboundActive() { return `${this.bullPrefixOf(OUTBOUND_QUEUE)}:${OUTBOUND_QUEUE}:active`; }
  deliveryJob(domain: string, id: string) { const q = deliveryQueueName(domain); return `${this.bullPrefixOf(q)}:${q}:${id}`; }
}

/**
 * Redis Cluster refuses a MULTI, a pipeline or a Lua script whose keys are in more than one hash
 * slot (CROSSSLOT). With the Cluster layout (new Keyspace(prefix, true)) every group of keys that
 * mxspool writes together must share a tag. Two checks, slots computed by ioredis's own
 * cluster-key-slot:
 * - a table of every multi-key MULTI and script in src/ with the keys it passes (built by the
 *   Keyspace, as the code builds them);
 * - MessageRecords' real writes (accept, state changes, attempts, removal, purge) run against a
 *   recording fake Redis, so a key added to one of them later is checked too; and so do the
 *   traffic series' batched flushes (one pipeline per domain).
 * And that the sharded keys spread over the three masters of a default 3-node cluster.
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { ALERTS_QUEUE, CLUSTER_SHARDS, DSN_QUEUE, Keyspace, OUTBOUND_QUEUE, deliveryQueueName } from "../../../src/redis/keyspace.js";
import { MessageRecords } from "../../../src/store/message-records.js";
import { TrafficSeries } from "../../../src/observability/traffic-series.js";
import type { Redis } from "ioredis";

const slotOf = createRequire(import.meta.url)("cluster-key-slot") as (key: string) => number;

const ks = new Keyspace("mxspool", true);
const ID = "0LZ3K9QF2A7XH4M8N2PB";
const COPY = `${ID}.2`;
const D1 = "example.test", D2 = "other.test";

/** [operation (file), the keys it touches together] */
const OPERATIONS: [string, string[]][] = [
  ["accept MULTI: bytes, a copy per extra domain, records, indexes, counters (ingress/accept-message.ts, store/message-store.ts commitInto, store/message-records.ts addAccepted)", [
    ks.messagePart(ID), ks.messageRaw(ID), ks.messageRaw(COPY), ks.messageMeta(ID), ks.messageMeta(COPY), ks.messageLedger(ID), ks.messageLedger(COPY),
    ks.indexAll(ks.shardOf(ID)), ks.indexState(ks.shardOf(ID), "queued"), ks.indexDomain(ks.shardOf(ID), D1), ks.indexDomain(ks.shardOf(COPY), D2),
    ks.indexRcpt(ks.shardOf(ID), "a@example.test"), ks.indexRcpt(ks.shardOf(COPY), "b@other.test"), ks.counters(ks.shardOf(ID)), ks.counters(ks.shardOf(COPY))]],
  ["REMOVE_UNACKNOWLEDGED script (store/message-records.ts; the job hash is not passed on Cluster)", [
    ks.messageMeta(ID), ks.messageLedger(ID), ks.messageRaw(ID), ks.messagePart(ID), ks.indexAll(ks.shardOf(ID)), ks.indexState(ks.shardOf(ID), "queued"),
    ks.indexDomain(ks.shardOf(ID), D1), ks.counters(ks.shardOf(ID)), ks.indexRcpt(ks.shardOf(ID), "a@example.test")]],
  ["unreachable MULTI: probe request + attempts (delivery/attempt-outcome.ts; PUBLISH has no key)", [ks.attempts(ks.shardOf(ID))]],
  ["DSN gathering MULTI and TAKE_COLLECTED script (dsn/dsn-notifier.ts)", [ks.dsnPending(ID, "failed"), ks.dsnPendingRcpts(ID, "failed")]],
  ["continuity OPEN script (continuity/event-store.ts)", [ks.continuityOpen("outage", D1), ks.continuityEvent("ev_1"), ks.continuityIndex()]],
  ["continuity record MULTI and TRANSITION script (continuity/event-store.ts)", [ks.continuityEvent("ev_1"), ks.continuityIndex(), ks.continuityOpen("outage", D1)]],
  ["fingerprint SWAP script (monitor/fingerprint-recorder.ts)", [ks.primaryFingerprint(D1), ks.primaryHistory(D1)]],
  ["webmail RESERVE script and lock MULTI (webmail/login-limiter.ts)", [
    ks.webmailLogin("lock", "acct", "a@example.test"), ks.webmailLogin("lock", "ip", "192.0.2.7"), ks.webmailLogin("fail", "acct", "a@example.test"), ks.webmailLogin("fail", "ip", "192.0.2.7")]],
  ["backup-traffic MULTI (ingress/backup-gate.ts)", [ks.backupDeferred(), ks.backupWindow(D1, 4_800_000)]],
  ["pace MULTI over several domains (delivery/pace-reporter.ts)", [ks.pace(D1), ks.pace(D2)]],
  ["replica-ack pipeline INCR + WAIT (redis/replica-ack.ts), global marker", [ks.replicaAck()]],
  ["replica-ack marker of a message's shard: the master of its records", [ks.replicaAckOn({ message: ID }), ks.messageMeta(ID), ks.indexAll(ks.shardOf(ID))]],
  ["replica-ack marker of a delivery queue: the master of its jobs", [ks.replicaAckOn({ queue: deliveryQueueName(D1) }), ks.deliveryJob(D1, ID)]],
  ["one delivery queue's BullMQ keys (its Lua scripts)", ["wait", "active", "delayed", "meta", "events", ID].map((k) => `${ks.bullPrefixOf(deliveryQueueName(D1))}:${deliveryQueueName(D1)}:${k}`).concat(ks.deliveryJob(D1, ID))],
  ["the DSN queue's BullMQ keys", ["wait", "active", "delayed"].map((k) => `${ks.bullPrefixOf(DSN_QUEUE)}:${DSN_QUEUE}:${k}`)],
  ["the alert queue's BullMQ keys", ["wait", "active", "delayed"].map((k) => `${ks.bullPrefixOf(ALERTS_QUEUE)}:${ALERTS_QUEUE}:${k}`)],
  // the features written for one Redis (traffic series, outbound mail, admin console), checked on Cluster
  ["traffic flush pipeline: a domain's chunks and its running totals (observability/traffic-series.ts; recorded from the code below too)", [ks.traffic(D1, 300, 5_900_000), ks.traffic(D1, 300, 5_900_001), ks.trafficTotals(D1)]],
  ["traffic read pipeline: one domain's chunks over weeks (traffic-series.ts read, continuity/baseline-watch.ts)", [ks.traffic(D1, 300, 5_900_000), ks.traffic(D1, 300, 5_899_000)]],
  ["outbound rate MULTI: the user's and everyone's hour (outbound/submit.ts)", [ks.outboundRate("a@example.test", 490_000), ks.outboundRate("*", 490_000)]],
  ["outbound sent record and remove MULTI: the message and its user's list (outbound/sent-messages.ts)", [ks.outboundMessage(ID), ks.outboundSent("a@example.test")]],
  ["outbound accept MULTI of a remote copy: records and the outbound index (outbound/submit.ts addAccepted)", [
    ks.messageMeta(`${ID}.1`), ks.messageLedger(`${ID}.1`), ks.indexAll(ks.shardOf(`${ID}.1`)), ks.indexOutbound(ks.shardOf(`${ID}.1`)), ks.counters(ks.shardOf(ID))]],
  ["outbound gauge ZINTERCARD, per shard (store/message-records.ts outboundStateCounts)", [ks.indexState(3, "queued"), ks.indexOutbound(3)]],
  ["the outbound queue's BullMQ keys", ["wait", "active", "delayed"].map((k) => `${ks.bullPrefixOf(OUTBOUND_QUEUE)}:${OUTBOUND_QUEUE}:${k}`).concat(ks.outboundActive())],
  ["console RESERVE script and lock MULTI (console/console.ts through webmail/login-limiter.ts)", [
    ks.consoleLogin("lock", "acct", "admin"), ks.consoleLogin("lock", "ip", "192.0.2.7"), ks.consoleLogin("fail", "acct", "admin"), ks.consoleLogin("fail", "ip", "192.0.2.7")]],
  ["console samples MGET (console/samples.ts)", [ks.consoleSample(1), ks.consoleSample(2), ks.consoleSample(9_999)]],
  ["drill MGET over the domains (doctor/drill.ts)", [ks.drillLast(D1), ks.drillLast(D2)]],
];

const slots = (keys: string[]) => [...new Set(keys.map(slotOf))];

/** A fake Redis that records the keys of each MULTI and script the real code sends. */
function recordingRedis(record: Record<string, string>) {
  const groups: string[][] = [];
  const multi = () => {
    const keys: string[] = [];
    const chain: Record<string, unknown> = new Proxy({}, {
      get: (_t, name: string) => {
        if (name === "exec") return async () => { groups.push(keys); return keys.map(() => [null, 1]); };
        return (...args: unknown[]) => {
          if (name === "del") keys.push(...(args as string[]));
          else if (name === "copy") keys.push(args[0] as string, args[1] as string);
          else if (name !== "publish") keys.push(args[0] as string);
          return chain;
        };
      },
    });
    return chain;
  };
  const redis = {
    multi,
    hgetall: async () => record,
    exists: async () => 1,
    zrem: async () => 1, // the outbound index entry, one key, after REMOVE_UNACKNOWLEDGED
    // the purge index of the record's own shard holds it
    zrangebyscore: async (key: string) => (key === ks.indexPurge(ks.shardOf(record.id!)) ? [record.id] : []),
    // every script goes by its SHA1 (src/redis/lua-script.ts); this Redis always holds it, so never EVAL
    evalsha: async (_sha: string, n: number, ...args: string[]) => { groups.push(args.slice(0, n)); return 1; },
  };
  return { groups, redis: redis as unknown as Redis };
}

function sampleRecord(id: string, state: string): Record<string, string> {
  return {
    id, domain: D1, from: "s@example.net", rcpts: JSON.stringify(["a@example.test", "c@example.test"]), subject: "", size: "10", receivedAt: "1000", state,
    attempts: "0", client: "{}", flags: "[]", outcomes: JSON.stringify({ "a@example.test": { state: "pending" }, "c@example.test": { state: "pending" } }), addedHeaders: "",
  };
}

describe("Redis Cluster: every multi-key operation stays in one slot", () => {
  it.each(OPERATIONS)("%s", (_op, keys) => {
    expect(keys.length).toBeGreaterThan(0);
    expect(slots(keys)).toHaveLength(1);
  });

  it("keeps MessageRecords' real writes each in one slot (recorded from the code)", async () => {
    const ids = [ID, "0LZ3K9QF2A7XH4M8N2PC", "0LZ3K9QF2A7XH4M8N2PD"];
    for (const id of ids) {
      for (const state of ["queued", "delivered"]) {
        const { groups, redis } = recordingRedis(sampleRecord(id, state));
        const records = new MessageRecords(redis, ks);
        const m = records.redisMulti();
        for (const [copy, domain] of [[id, D1], [`${id}.2`, D2]] as const) {
          records.addAccepted(m, { id: copy, domain, from: "s@example.net", rcpts: ["a@example.test"], subject: "", size: 10, receivedAt: 1000, flags: [], addedHeaders: "" }, {});
        }
        await m.exec();
        await records.transition(id, state === "queued" ? "delete" : "redeliver", { type: "admin" }, {}, 60_000);
        if (state === "queued") {
          await records.completeAttempt(id, "mx:25", [{ rcpt: "a@example.test", outcome: "delivered", response: "250 ok" }, { rcpt: "c@example.test", outcome: "deferred", response: "451 later" }], { retentionMs: 60_000 });
          await records.completeAttempt(id, "mx:25", [{ rcpt: "a@example.test", outcome: "delivered", response: "250 ok" }, { rcpt: "c@example.test", outcome: "delivered", response: "250 ok" }], { retentionMs: 60_000 });
          await records.remove(id, D1, ["a@example.test"]);
          await records.removeOrphan((await records.get(id))!, ks.deliveryJob(D1, id), 2000);
        }
        await records.purgeDue(2000);
        expect(groups.length).toBeGreaterThan(state === "queued" ? 6 : 2);
        for (const g of groups) expect(slots(g), g.join(" ")).toHaveLength(1);
        // and that slot is the message's shard's
        expect(slots(groups.flat())).toEqual([slotOf(ks.messageMeta(id))]);
      }
    }
  });
});

describe("Redis Cluster: the traffic series' batched flush", () => {
  it("writes each domain's pending counts in a pipeline of its own slot (recorded from the code)", async () => {
    const pipelines: string[][] = [];
    const redis = {
      pipeline() {
        const keys: string[] = [];
        const p: Record<string, unknown> = new Proxy({}, {
          get: (_t, name: string) => name === "exec" ? async () => { pipelines.push(keys); return keys.map(() => [null, 1]); } : (key: string) => { keys.push(key); return p; },
        });
        return p;
      },
    } as unknown as Redis;
    const series = new TrafficSeries(redis, ks, { bucketMs: 300_000, retentionMs: 86_400_000 });
    const hour = 3_600_000, t0 = 493_000 * hour;
    for (const d of [D1, D2, "*"]) {
      series.record(d, { accepted: 1, recipients: 2, bytes: 300 }, t0);
      series.record(d, { accepted: 1 }, t0 + hour); // the next chunk: another key
      series.recordRejection(d, "unknown-recipient", t0);
    }
    await series.flush();
    expect(pipelines).toHaveLength(3);
    for (const keys of pipelines) {
      expect(new Set(keys).size, keys.join(" ")).toBe(3); // two chunks and the totals
      expect(slots(keys), keys.join(" ")).toHaveLength(1);
    }
  });
});

describe("Redis Cluster: the load spreads", () => {
  // redis-cli --cluster create with three masters splits the slots in three even ranges
  const master = (slot: number) => (slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2);

  it("spreads the message shards over every master of a 3-master cluster", () => {
    const perMaster = [0, 0, 0];
    for (const n of ks.shards()) perMaster[master(slotOf(ks.indexAll(n)))]++;
    expect(ks.shards()).toHaveLength(CLUSTER_SHARDS);
    expect(perMaster.every((c) => c >= 2), perMaster.join(",")).toBe(true);
  });

  it("spreads messages over the shards by queue id, copies with their message", () => {
    const ids = Array.from({ length: 200 }, (_, i) => `0LZ3K9QF2A7XH4M8${String(i).padStart(4, "0")}`);
    expect(new Set(ids.map((id) => ks.shardOf(id))).size).toBe(CLUSTER_SHARDS);
    for (const id of ids.slice(0, 20)) expect(ks.shardOf(`${id}.3`)).toBe(ks.shardOf(id));
  });

  it("gives each domain's traffic series its own slot, with its recipient cache (not the global tag)", () => {
    const domains = ["a.test", "b.test", "c.test", "d.test"];
    expect(new Set(domains.map((d) => slotOf(ks.trafficTotals(d)))).size).toBe(domains.length);
    expect(slots([ks.traffic(D1, 300, 7), ks.trafficTotals(D1), ks.baselineTurn(D1, 9), ks.recipientCache(D1, "a@example.test")])).toHaveLength(1);
    expect(slotOf(ks.trafficTotals(D1))).not.toBe(slotOf(ks.primary(D1)));
  });

  it("gives each delivery queue its own slot", () => {
    const domains = ["a.test", "b.test", "c.test", "d.test"];
    expect(new Set(domains.map((d) => slotOf(ks.bullPrefixOf(deliveryQueueName(d))))).size).toBe(domains.length);
  });

  it("keeps the single-Redis layout (one shard, untagged indexes) without cluster", () => {
    const one = new Keyspace("mxspool");
    expect(one.shards()).toEqual([0]);
    expect([one.indexAll(one.shardOf(ID)), one.messageRaw(ID), one.bullPrefixOf(deliveryQueueName(D1))]).toEqual(["mxspool:idx:all", `mxspool:msg:{${ID}}:raw`, "{mxspool}"]);
  });

  it("names the Cluster layout", () => {
    const n = ks.shardOf(ID);
    expect([ks.messageRaw(ID), ks.indexAll(n), ks.counters(n), ks.primary(D1), ks.dsnPending(ID, "failed"), ks.deliveryJob(D1, ID), ks.spoolPatterns().join(" ")]).toEqual([
      `mxspool:{mxspool:s${n}}:msg:${ID}:raw`, `mxspool:{mxspool:s${n}}:idx:all`, `mxspool:{mxspool:s${n}}:stats:counters`, `mxspool:{mxspool}:primary:${D1}`,
      `mxspool:dsn:{${ID}}:failed`, `{mxspool:delivery-${D1}}:delivery-${D1}:${ID}`, "mxspool:* {mxspool:*",
    ]);
  });
});

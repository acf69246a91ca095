/**
 * What the spool costs in Redis now, for the admin (GET /api/status, /metrics): Redis bytes
 * per queued message, measured with MEMORY USAGE on a sample of the newest queued messages
 * (their bytes, record, ledger and BullMQ job, plus their share of the indexes), and how many
 * hours of outage still fit under `maxmemory` at the usual arrival rate (messages accepted in
 * the last 24 h, or retention.delivered if shorter: the index of all records counts them).
 * The arithmetic is policies/outage-capacity.ts. Reads only; a few dozen commands.
 */
import { zcountAll, zrangeByScoreMerged } from "../redis/sharded-reads.js";
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";
import { infoNumber } from "../redis/info-field.js";
import { outageCapacity, type Capacity } from "../../policies/outage-capacity.js";

/** Queued messages measured for the per-message figure. */
const SAMPLE = 20;
const DAY_MS = 86_400_000;

export class SpoolCapacity {
  constructor(private readonly redis: Redis, private readonly keys: Keyspace, private readonly retentionMs: number) {}

  /** MEMORY USAGE of a sample of queued messages' keys, per message; null when nothing is queued. */
  async bytesPerQueuedMessage(): Promise<number | null> {
    const k = this.keys;
    const newest = (state: string) => zrangeByScoreMerged(this.redis, k.shards().map((n) => k.indexState(n, state)), "-inf", "+inf", SAMPLE, "desc");
    const ids = [...new Set([...await newest("queued"), ...await newest("deferred")].map((e) => e.id))].slice(0, SAMPLE);
    if (!ids.length) return null;
    const domains = await Promise.all(ids.map((id) => this.redis.hget(k.messageMeta(id), "domain")));
    // one command each (not one pipeline): on Redis Cluster these keys live on several nodes
    const usage = (key: string) => this.redis.memory("USAGE", key, "SAMPLES", "0").then((v) => Number(v ?? 0));
    const sizes = ids.flatMap((id, i) => [k.messageRaw(id), k.messageMeta(id), k.messageLedger(id), ...(domains[i] ? [k.deliveryJob(domains[i]!, id)] : [])].map(usage));
    // the indexes (all, state, domain, recipient: about four entries a message), per entry, from one shard
    const shard = k.shardOf(ids[0]!);
    const res = await Promise.all([...sizes, usage(k.indexAll(shard)), this.redis.zcard(k.indexAll(shard))]);
    const [allBytes, allCount] = res.splice(-2);
    const perMessage = res.reduce((a, b) => a + b, 0) / ids.length;
    return Math.round(perMessage + (allCount ? 4 * allBytes / allCount : 0));
  }

  async capacity(now = Date.now()): Promise<Capacity> {
    const windowMs = Math.min(DAY_MS, this.retentionMs);
    const [info, per, accepted] = await Promise.all([
      this.redis.info("memory"), this.bytesPerQueuedMessage(), zcountAll(this.redis, this.keys.shards().map((n) => this.keys.indexAll(n)), now - windowMs, now),
    ]);
    return outageCapacity({
      usedMemory: infoNumber(info, "used_memory"), maxMemory: infoNumber(info, "maxmemory"), systemMemory: infoNumber(info, "total_system_memory"),
      bytesPerQueuedMessage: per, acceptedInWindow: accepted, windowHours: windowMs / 3_600_000,
    });
  }
}

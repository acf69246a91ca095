/**
 * What the spool costs in Redis now, for the admin (GET /api/status, /metrics): Redis bytes
 * per queued message, measured with MEMORY USAGE on a sample of the newest queued messages
 * (their bytes, record, ledger and BullMQ job, plus their share of the indexes), and how many
 * hours of outage still fit under `maxmemory` at the usual arrival rate (messages accepted in
 * the last 24 h, or retention.delivered if shorter: the index of all records counts them).
 * The arithmetic is policies/outage-capacity.ts. Reads only; a few dozen commands.
 */
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";
import { outageCapacity, type Capacity } from "../../policies/outage-capacity.js";

/** Queued messages measured for the per-message figure. */
const SAMPLE = 20;
const DAY_MS = 86_400_000;

function infoField(info: string, name: string): number {
  return Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? 0);
}

export class SpoolCapacity {
  constructor(private readonly redis: Redis, private readonly keys: Keyspace, private readonly retentionMs: number) {}

  /** MEMORY USAGE of a sample of queued messages' keys, per message; null when nothing is queued. */
  async bytesPerQueuedMessage(): Promise<number | null> {
    const k = this.keys;
    const ids = [...new Set([...await this.redis.zrevrange(k.indexState("queued"), 0, SAMPLE - 1), ...await this.redis.zrevrange(k.indexState("deferred"), 0, SAMPLE - 1)])].slice(0, SAMPLE);
    if (!ids.length) return null;
    const domains = await Promise.all(ids.map((id) => this.redis.hget(k.messageMeta(id), "domain")));
    const p = this.redis.pipeline();
    ids.forEach((id, i) => {
      for (const key of [k.messageRaw(id), k.messageMeta(id), k.messageLedger(id)]) p.memory("USAGE", key, "SAMPLES", "0");
      if (domains[i]) p.memory("USAGE", k.deliveryJob(domains[i]!, id), "SAMPLES", "0");
    });
    // the indexes (all, state, domain, recipient: about four entries a message), per entry
    p.memory("USAGE", k.indexAll()).zcard(k.indexAll());
    const res = (await p.exec())!.map(([, v]) => Number(v ?? 0));
    const [allBytes, allCount] = res.splice(-2);
    const perMessage = res.reduce((a, b) => a + b, 0) / ids.length;
    return Math.round(perMessage + (allCount ? 4 * allBytes / allCount : 0));
  }

  async capacity(now = Date.now()): Promise<Capacity> {
    const windowMs = Math.min(DAY_MS, this.retentionMs);
    const [info, per, accepted] = await Promise.all([
      this.redis.info("memory"), this.bytesPerQueuedMessage(), this.redis.zcount(this.keys.indexAll(), now - windowMs, now),
    ]);
    return outageCapacity({
      usedMemory: infoField(info, "used_memory"), maxMemory: infoField(info, "maxmemory"), systemMemory: infoField(info, "total_system_memory"),
      bytesPerQueuedMessage: per, acceptedInWindow: accepted, windowHours: windowMs / 3_600_000,
    });
  }
}

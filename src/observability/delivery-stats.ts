/**
 * Cross-process delivery statistics kept in Redis for the metrics endpoint: attempts by
 * result (Keyspace.attempts: delivered, deferred, bounced, unreachable) and the
 * delivery latency — from acceptance to the primary's 250 — as bucket counts
 * (Keyspace.latency: one field per upper bound, plus sum_ms and count). Writers add
 * to these inside the MULTI that records the attempt; nothing here does I/O of its own.
 */
/** Where the increments go: a MULTI (ioredis ChainableCommander) or a guarded write batch. */
export interface Increments { hincrby(key: string, field: string, by: number): unknown }

/** The two keys written here (src/redis/keyspace.ts names them; observability sits below redis, so only their shape is named here). */
export interface StatsKeys { attempts(shard: number): string; latency(shard: number): string }

export type AttemptResult = "delivered" | "deferred" | "bounced" | "unreachable";

/** Upper bounds, in seconds: a healthy primary takes under a second, an outage hours or days. */
export const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400, 432_000];

/** The field of the smallest bucket that holds `ms`; "inf" past the last bound. */
export function latencyField(ms: number): string {
  const s = ms / 1000;
  const b = LATENCY_BUCKETS.find((x) => s <= x);
  return b === undefined ? "inf" : String(b);
}

/** `shard`: the message's (Keyspace.shardOf): on Redis Cluster the stats sit beside its record. */
export function countAttempt(m: Increments, keys: StatsKeys, shard: number, result: AttemptResult): void {
  m.hincrby(keys.attempts(shard), result, 1);
}

export function countLatency(m: Increments, keys: StatsKeys, shard: number, ms: number): void {
  const key = keys.latency(shard);
  const v = Math.max(0, Math.round(ms));
  m.hincrby(key, latencyField(v), 1);
  m.hincrby(key, "sum_ms", v);
  m.hincrby(key, "count", 1);
}

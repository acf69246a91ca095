/**
 * Reads over every shard of a sharded index or counter (src/redis/keyspace.ts: with Redis
 * Cluster the messages' indexes and counters are split over CLUSTER_SHARDS hash tags; on one
 * Redis there is one shard and these are the plain commands). These are the operations that
 * cross slots: each shard is read on its own (one command per shard, in parallel) and the
 * results are merged here — summed, or merge-sorted by score — never in one MULTI or script.
 */
import type { Redis } from "ioredis";
import { asCluster } from "./connection.js";

/** Field-wise sums of numeric hashes (counters, stats), as strings like HGETALL's. */
export async function sumHashes(redis: Redis, keys: string[]): Promise<Record<string, string>> {
  if (keys.length === 1) return redis.hgetall(keys[0]!);
  const out: Record<string, number> = {};
  for (const h of await Promise.all(keys.map((k) => redis.hgetall(k)))) {
    for (const [f, v] of Object.entries(h)) out[f] = (out[f] ?? 0) + Number(v);
  }
  return Object.fromEntries(Object.entries(out).map(([f, v]) => [f, String(v)]));
}

export async function zcardAll(redis: Redis, keys: string[]): Promise<number> {
  return (await Promise.all(keys.map((k) => redis.zcard(k)))).reduce((a, b) => a + b, 0);
}

export async function zcountAll(redis: Redis, keys: string[], min: number | string, max: number | string): Promise<number> {
  return (await Promise.all(keys.map((k) => redis.zcount(k, min, max)))).reduce((a, b) => a + b, 0);
}

export interface Scored { id: string; score: number }

/**
 * ZRANGEBYSCORE (asc) or ZREVRANGEBYSCORE (desc) over several sorted sets: the first `limit`
 * entries of their union in score order (ties by id), as one sorted set would give them.
 * `min`/`max` as Redis takes them ("-inf", "(123", ...).
 */
export async function zrangeByScoreMerged(redis: Redis, keys: string[], min: string, max: string, limit: number, order: "asc" | "desc" = "asc"): Promise<Scored[]> {
  const pages = await Promise.all(keys.map((k) => order === "asc"
    ? redis.zrangebyscore(k, min, max, "WITHSCORES", "LIMIT", 0, limit)
    : redis.zrevrangebyscore(k, max, min, "WITHSCORES", "LIMIT", 0, limit)));
  const all: Scored[] = [];
  for (const page of pages) for (let i = 0; i < page.length; i += 2) all.push({ id: page[i]!, score: Number(page[i + 1]) });
  if (keys.length > 1) {
    const sign = order === "asc" ? 1 : -1;
    all.sort((a, b) => sign * (a.score - b.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  }
  return all.slice(0, limit);
}

/**
 * HMGET of the same fields from many hashes (message records), as [error, values] per key in
 * order: in one pipeline on one Redis (one write and one read for the lot: at the primary's
 * return the outage report reads every spooled record while the drain starts), one command
 * each, sent together, on a Cluster (the records live on several nodes).
 */
export async function hmgetMany(redis: Redis, keys: string[], fields: string[]): Promise<[Error | null, (string | null)[] | null][]> {
  if (!keys.length) return [];
  if (asCluster(redis)) return Promise.all(keys.map((k) => redis.hmget(k, ...fields).then((v) => [null, v] as [null, (string | null)[]], (e: Error) => [e, null] as [Error, null])));
  const p = redis.pipeline();
  for (const k of keys) p.hmget(k, ...fields);
  return (await p.exec())!.map(([err, v]) => [err, err ? null : v as (string | null)[]]);
}

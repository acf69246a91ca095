/**
 * The version of what mxspool keeps in Redis (message records, ledgers, bytes, indexes, the
 * queues' job data), in Keyspace.format(). Checked once at start, before any process reads the
 * spool: the current format goes on; an older one is migrated step by step (MIGRATIONS, each
 * idempotent, so two nodes starting together or a start killed half-way are safe); a newer
 * one — written by a later release — stops the start with a clear message rather than let
 * this release misread mail it does not understand. A Redis with no mxspool keys is new and
 * simply gets the current number. Format 0 is 0.1.0's spool, which had no version key.
 */
import { asCluster } from "../redis/connection.js";
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";
import type { Logger } from "../observability/log.js";

export const STORE_FORMAT = 2;

interface Migration { to: number; what: string; run(redis: Redis, keys: Keyspace): Promise<void> }

/** One step per format; `to` counts up from 1 without gaps. */
const MIGRATIONS: Migration[] = [
  { to: 1, what: "the format key itself; 0.1.0's records, bytes and jobs are read as they are", run: async () => undefined },
  // new messages' bytes are framed and compressed (./frame-codec.ts); a value says which it is
  // (its first byte is NUL, which no plain value holds), so plain ones stay as they are
  { to: 2, what: "message bytes compressed in frames; plain values written before are read as they are", run: async () => undefined },
];

export class StoreFormatError extends Error {}

async function hasSpool(redis: Redis, keys: Keyspace): Promise<boolean> {
  // SCAN sees one node: on Redis Cluster every master is scanned
  for (const node of asCluster(redis)?.nodes("master") ?? [redis]) {
    if (await hasSpoolOn(node, keys)) return true;
  }
  return false;
}

async function hasSpoolOn(redis: Redis, keys: Keyspace): Promise<boolean> {
  for (const match of keys.spoolPatterns()) {
    let cursor = "0";
    for (let rounds = 0; rounds < 10_000; rounds++) {
      const [next, found] = await redis.scan(cursor, "MATCH", match, "COUNT", 1000);
      if (found.length) return true;
      cursor = next;
      if (cursor === "0") break;
    }
  }
  return false;
}

/** Reads, migrates or refuses; returns the format the spool is in afterwards (STORE_FORMAT). */
export async function ensureStoreFormat(redis: Redis, keys: Keyspace, log: Logger): Promise<number> {
  const key = keys.format();
  const text = await redis.get(key);
  let from = text === null ? 0 : Number(text);
  if (!Number.isInteger(from) || from < 0) throw new StoreFormatError(`${key} holds "${text}", not a format number: this Redis was not written by mxspool`);
  if (from > STORE_FORMAT) {
    log.error({ event: "STORE_FORMAT_NEWER", format: from, supported: STORE_FORMAT }, "the spool was written by a newer mxspool");
    throw new StoreFormatError(`the spool in Redis (prefix ${keys.prefix}) has format ${from}, newer than this mxspool understands (${STORE_FORMAT}): `
      + `it was written by a later release; run that release (or a newer one) on it, not this one`);
  }
  if (from === STORE_FORMAT) return from;
  if (from === 0 && !(await hasSpool(redis, keys))) {
    await redis.set(key, String(STORE_FORMAT), "NX");
    return STORE_FORMAT;
  }
  for (const m of MIGRATIONS.filter((x) => x.to > from)) {
    await m.run(redis, keys);
    await redis.set(key, String(m.to));
    log.warn({ event: "STORE_FORMAT_MIGRATED", from, to: m.to, what: m.what }, `spool migrated from format ${from} to ${m.to}`);
    from = m.to;
  }
  return from;
}

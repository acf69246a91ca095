/**
 * Weeks of a domain's traffic for the console's baseline band, written through the traffic
 * series' own writer (TrafficSeries.record, as the SMTP side counts) into a stack's Redis:
 * office hours busy on weekdays, quiet nights and weekends, a Poisson-like wobble from a
 * seeded generator, and an optional surge. Returns once the writes are in (flushed).
 */
import type { Redis } from "ioredis";
import { TrafficSeries } from "../../src/observability/traffic-series.js";
import { Keyspace } from "../../src/redis/keyspace.js";
import { prng } from "./prng.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Accepted messages per bucket usually at `at`: 20 in weekday office hours (UTC), 2 otherwise. */
export const officeHours = (at: number) => { const h = (at % DAY) / HOUR; const dow = new Date(at).getUTCDay(); return dow >= 1 && dow <= 5 && h >= 9 && h < 17 ? 20 : 2; };

export async function writeHistory(redis: Redis, o: { domain: string; from: number; to: number; bucketMs?: number; surge?: { from: number; to: number; extra: number } }): Promise<TrafficSeries> {
  const bucketMs = o.bucketMs ?? 5 * 60_000;
  const traffic = new TrafficSeries(redis, new Keyspace("mxspool"), { bucketMs, retentionMs: 60 * DAY });
  const rnd = prng(18);
  const poisson = (l: number) => { let k = 0; for (let p = rnd(), e = Math.exp(-l); p > e; p *= rnd()) k++; return k; };
  const start = Math.floor(o.from / bucketMs) * bucketMs;
  for (let at = start; at < o.to; at += bucketMs) {
    const extra = o.surge && at >= o.surge.from && at < o.surge.to ? o.surge.extra : 0;
    traffic.record(o.domain, { accepted: poisson(officeHours(at)) + extra }, at);
  }
  await traffic.flush(); // the counts wait in memory until a flush
  return traffic;
}

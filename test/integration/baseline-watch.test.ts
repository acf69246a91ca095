/**
 * The learned baselines on the server (src/continuity/baseline-watch.ts) against a real
 * redis-server: five weeks of a domain's traffic written through the traffic series' own
 * writer (15-minute buckets), then a spam run at MX 20 in the last three buckets. Two
 * watchers ("nodes") check the same bucket: exactly one traffic-surge event opens with one
 * alert; back to normal traffic for three buckets, it closes. A domain in its first days is
 * judged with the hour-of-day profile; a domain without traffic raises nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BaselineWatch } from "../../src/continuity/baseline-watch.js";
import { EventStore } from "../../src/continuity/event-store.js";
import { parseConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/observability/log.js";
import { TrafficSeries } from "../../src/observability/traffic-series.js";
import { Keyspace } from "../../src/redis/keyspace.js";
import { prng } from "../helpers/prng.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";

const BUCKET = 15 * 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A Monday, 00:00 UTC, seven weeks or so ago (the series expire: keep within baselines.retention); the checks "happen" five weeks and a Tuesday morning later. */
const MONDAY = ((d) => d - (((Math.floor(d / DAY) + 3) % 7) * DAY))(Math.floor((Date.now() - 7 * 7 * DAY) / DAY) * DAY);
const NOW = MONDAY + 5 * 7 * DAY + DAY + 11 * HOUR;

describe("learned baselines on the server", () => {
  let redis: TestRedis;
  const keys = new Keyspace("mxspool");
  const config = parseConfig({ hostname: "mx2.test", domains: { "busy.test": { primary: ["127.0.0.1:25"] }, "new.test": { primary: ["127.0.0.1:25"] }, "idle.test": { primary: ["127.0.0.1:25"] } },
    baselines: { bucket: "15m" } });
  const published: string[] = [];
  const sink = { publish: async (p: { type: string }, key: string) => { published.push(`${p.type} ${key}`); } };
  const log = createLogger("fatal");
  let traffic: TrafficSeries;
  let events: EventStore;
  const rnd = prng(5);
  const poisson = (l: number) => { let k = 0; for (let p = rnd(), e = Math.exp(-l); p > e; p *= rnd()) k++; return k; };
  const usual = (at: number) => { const h = (at % DAY) / HOUR; const dow = Math.floor((at - MONDAY) / DAY) % 7; return dow < 5 && h >= 9 && h < 17 ? 30 : 3; };

  /** Writes `domain`'s accepted messages for the buckets in [from, to), `extra` on top. */
  async function write(domain: string, from: number, to: number, extra = 0): Promise<void> {
    for (let at = from; at < to; at += BUCKET) traffic.record(domain, { accepted: poisson(usual(at)) + extra }, at);
    await traffic.flush(); // the counts wait in memory until a flush
  }

  beforeAll(async () => {
    redis = await startRedis({ persistence: false });
    traffic = new TrafficSeries(redis.client(), keys, { bucketMs: BUCKET, retentionMs: 60 * DAY });
    events = new EventStore(redis.client(), keys);
    await write("busy.test", MONDAY, NOW - 3 * BUCKET);
    await write("busy.test", NOW - 3 * BUCKET, NOW, 120); // a spam run at MX 20, three buckets long
    await write("new.test", NOW - 3 * DAY, NOW);
  });
  afterAll(async () => { await redis?.stop(); });

  it("reads the series back as the detector's input, from the first bucket with traffic", async () => {
    const watch = new BaselineWatch(config, redis.client(), keys, traffic, events, sink, log);
    const s = (await watch.series("busy.test", NOW))!;
    expect(s.start).toBe(NOW - 4 * 7 * DAY - DAY); // baselines.weeks (4) and a day back
    expect(s.accepted.slice(-3).every((x) => x >= 120)).toBe(true);
    expect((await watch.series("new.test", NOW))!.start).toBe(NOW - 3 * DAY);
    expect(await watch.series("idle.test", NOW)).toBeNull();
  });

  it("two nodes judge the bucket: one traffic-surge event and one alert; the profile in force is said", async () => {
    const a = new BaselineWatch(config, redis.client(), keys, traffic, events, sink, log);
    const b = new BaselineWatch(config, redis.client(), keys, traffic, events, sink, log);
    await Promise.all([a.check(NOW + 1000), b.check(NOW + 2000)]);
    const open = (await events.list({ limit: 50 })).items;
    expect(open.map((e) => [e.kind, e.domain, e.state])).toEqual([["traffic-surge", "busy.test", "open"]]);
    expect(open[0]!.data).toMatchObject({ profile: "hour-of-week", bucketMinutes: 15 });
    expect(open[0]!.startedAt).toBe(NOW - 3 * BUCKET); // the first of the three buckets
    // Judged after the last, by whichever node won the bucket's SET NX (under load either may).
    expect([NOW + 1000, NOW + 2000]).toContain(open[0]!.detectedAt);
    expect(open[0]!.summary).toMatch(/busy\.test: \d+ accepted per bucket at the backup MX while the primary is healthy/);
    expect(published).toEqual([`traffic-surge.opened ${open[0]!.id}:opened`]);
    const young = await a.verdicts("new.test", NOW);
    expect(young.length).toBeGreaterThan(0);
    expect(young.every((v) => v.profile === "hour-of-day" && v.state !== "raise")).toBe(true);
  });

  it("closes the event after three buckets of usual traffic", async () => {
    await write("busy.test", NOW, NOW + 3 * BUCKET);
    const a = new BaselineWatch(config, redis.client(), keys, traffic, events, sink, log);
    await a.check(NOW + 3 * BUCKET + 1000);
    const ev = (await events.list({ limit: 50, kind: "traffic-surge" })).items[0]!;
    expect(ev.state).toBe("closed");
    expect(published).toEqual([`traffic-surge.opened ${ev.id}:opened`, `traffic-surge.closed ${ev.id}:closed`]);
  });
});

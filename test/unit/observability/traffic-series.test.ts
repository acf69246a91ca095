/**
 * The traffic series' layout from tables: where an instant falls (chunk, bucket index), the
 * field names and their inverse, when a chunk expires, and the fixed classes refusal reasons
 * fall into (bounded Prometheus labels); the batched writes against a recording fake Redis
 * (nothing sent per count, one pipeline per domain per flush, the timer, the memory bound, a
 * failed flush). The Redis side is in test/integration/traffic.test.ts.
 */
import { describe, expect, it, vi } from "vitest";
import type { Redis } from "ioredis";
import { CHUNK, QUERY_METRICS, REJECT_REASONS, TRAFFIC_METRICS, TrafficSeries, bucketOf, expiryOf, fieldOf, parseField, reasonClass, type TrafficMetric } from "../../../src/observability/traffic-series.js";

const M5 = 300_000;
const T0 = Date.UTC(2026, 11, 7, 9, 0, 0); // a Monday 09:00 UTC

describe("bucket math", () => {
  it.each([
    // at                     bucketMs  bucket                 chunk                         index
    [0, M5, 0, 0, 0],
    [M5 - 1, M5, 0, 0, 0],
    [M5, M5, 1, 0, 1],
    [11 * M5 + 5, M5, 11, 0, 11],
    [12 * M5, M5, 12, 1, 0],
    [T0, M5, T0 / M5, T0 / M5 / 12, 0],
    [T0 + 7 * M5 + 1000, M5, T0 / M5 + 7, T0 / M5 / 12, 7],
    [T0 + 90_000, 60_000, T0 / 60_000 + 1, Math.floor((T0 / 60_000 + 1) / 12), (T0 / 60_000 + 1) % 12],
  ])("at %i with %i ms buckets: bucket %i, chunk %i, index %i", (at, bucketMs, bucket, chunk, index) => {
    expect(bucketOf(at, bucketMs)).toEqual({ bucket, chunk, index });
  });

  it("an hour of 5-minute buckets is one chunk", () => {
    expect(CHUNK * M5).toBe(3_600_000);
    expect(new Set(Array.from({ length: 12 }, (_, i) => bucketOf(T0 + i * M5, M5).chunk)).size).toBe(1);
  });

  it.each([
    // chunk  bucketMs  retentionMs        expires (epoch s)
    [0, M5, 0, 3600],
    [0, M5, 56 * 86_400_000, 3600 + 56 * 86_400],
    [T0 / 3_600_000, M5, 86_400_000, T0 / 1000 + 3600 + 86_400],
    [5, 60_000, 1000, 6 * 12 * 60 + 1],
  ])("chunk %i of %i ms buckets kept %i ms expires at %i", (chunk, bucketMs, retentionMs, at) => {
    expect(expiryOf(chunk, { bucketMs, retentionMs })).toBe(at);
  });
});

describe("fields", () => {
  it.each([
    [0, "accepted", "0a"],
    [11, "bytes", "11b"],
    [3, "recipients", "3n"],
    [4, "delivered", "4d"],
    [5, "bounced", "5x"],
    [6, "deferred", "6f"],
    [7, "queue", "7q"],
    [1, "rejected.unknown-recipient", "1ru"],
    [10, "rejected.other", "10ro"],
  ] as const)("bucket %i, %s → %s", (index, metric, field) => {
    expect(fieldOf(index, metric)).toBe(field);
    expect(parseField(field)).toEqual({ index, metric });
  });

  it("gives every series its own code, read back the same", () => {
    const fields = TRAFFIC_METRICS.map((m) => fieldOf(2, m));
    expect(new Set(fields).size).toBe(TRAFFIC_METRICS.length);
    for (const m of TRAFFIC_METRICS) expect(parseField(fieldOf(2, m))?.metric).toBe(m);
  });

  it.each(["", "a", "1", "1zz", "x1"])("ignores the unknown field %j", (f) => {
    expect(parseField(f)).toBeNull();
  });

  it("offers `rejected` (the sum) besides every series", () => {
    expect(QUERY_METRICS).toEqual([...TRAFFIC_METRICS, "rejected"]);
  });
});

describe("refusal classes (a fixed set)", () => {
  it.each([
    ["unknown-recipient", "unknown-recipient"],
    ["relay-domain", "relay"],
    ["ip-literal", "relay"],
    ["syntax", "policy"],
    ["invalid-helo", "policy"],
    ["tls-required", "policy"],
    ["mail-loop", "policy"],
    ["message-too-big", "size"],
    ["header-too-big", "size"],
    ["virus", "virus"],
    ["spam", "spam"],
    ["rate-limit", "rate"],
    ["too-many-connections-ip", "rate"],
    ["too-many-recipients", "rate"],
    ["backup-deferred", "backup"],
    ["storage-down", "tempfail"],
    ["unverified-recipient", "tempfail"],
    ["filters-busy", "tempfail"],
    ["smtp-503", "other"],
    ["anything-new", "other"],
  ])("%s → %s", (reason, cls) => {
    expect(reasonClass(reason)).toBe(cls);
    expect(REJECT_REASONS).toContain(cls);
  });
});

describe("mxspool_traffic_total", () => {
  it("renders the totals per domain, kind and reason class, bytes apart", async () => {
    const { Metrics } = await import("../../../src/observability/metrics.js");
    const text = await new Metrics().render({
      counters: {}, rejected: {}, backupDeferred: {}, queue: {}, attempts: {}, latency: {}, primaries: [], scanners: [],
      traffic: { "example.test": { accepted: 3, recipients: 4, bytes: 1200, delivered: 4, "rejected.unknown-recipient": 2 }, "*": { "rejected.relay": 5 } },
    });
    expect(text).toContain('mxspool_traffic_total{domain="example.test",kind="accepted",reason=""} 3');
    expect(text).toContain('mxspool_traffic_total{domain="example.test",kind="delivered",reason=""} 4');
    expect(text).toContain('mxspool_traffic_total{domain="example.test",kind="rejected",reason="unknown-recipient"} 2');
    expect(text).toContain('mxspool_traffic_total{domain="*",kind="rejected",reason="relay"} 5');
    expect(text).toContain('mxspool_traffic_bytes_total{domain="example.test"} 1200');
  });
});

describe("reading a series back (steps, gauges, the refusal sum)", () => {
  /** Hashes by key, read through pipeline().hgetall().exec() as ioredis does. */
  const hashes = new Map<string, Record<string, string>>();
  const fake = { pipeline() { const keys: string[] = []; const p = { hgetall(k: string) { keys.push(k); return p; }, exec: async () => keys.map((k) => [null, hashes.get(k) ?? {}]) }; return p; } } as unknown as Redis;
  const keys = { traffic: (d: string, s: number, c: number) => `${d}:${s}:${c}`, trafficTotals: (d: string) => `${d}:total` };
  const series = new TrafficSeries(fake, keys, { bucketMs: M5, retentionMs: 0 });
  const put = (at: number, metric: TrafficMetric, v: number) => {
    const { chunk, index } = bucketOf(at, M5);
    const k = keys.traffic("example.test", 300, chunk);
    hashes.set(k, { ...hashes.get(k), [fieldOf(index, metric)]: String(v) });
  };
  // 09:00 accepted 2, 09:05 accepted 3 + queue 4, 09:55 queue 9 + 2 unknown recipients, 10:00 (next chunk) accepted 1 + 1 spam
  put(T0, "accepted", 2);
  put(T0 + M5, "accepted", 3);
  put(T0 + M5, "queue", 4);
  put(T0 + 11 * M5, "queue", 9);
  put(T0 + 11 * M5, "rejected.unknown-recipient", 2);
  put(T0 + 12 * M5, "accepted", 1);
  put(T0 + 12 * M5, "rejected.spam", 1);
  hashes.set(keys.traffic("example.test", 300, T0 / 3_600_000), { ...hashes.get(keys.traffic("example.test", 300, T0 / 3_600_000)), "3zz": "7" }); // a field a newer version wrote

  it.each([
    // from            to                      step         metrics                                        points
    [T0, T0 + 3 * M5, M5, ["accepted", "queue"], [{ t: T0, accepted: 2, queue: 0 }, { t: T0 + M5, accepted: 3, queue: 4 }, { t: T0 + 2 * M5, accepted: 0, queue: 0 }]],
    [T0, T0 + 7_200_000, 3_600_000, ["accepted", "queue", "rejected"], [{ t: T0, accepted: 5, queue: 9, rejected: 2 }, { t: T0 + 3_600_000, accepted: 1, queue: 0, rejected: 1 }]],
    [T0 + 1000, T0 + 2 * M5 - 1, M5, ["accepted"], [{ t: T0, accepted: 2 }, { t: T0 + M5, accepted: 3 }]],
    [T0, T0 + 7_200_000, 10_800_000, ["rejected.spam", "rejected.unknown-recipient"], [{ t: T0, "rejected.spam": 1, "rejected.unknown-recipient": 2 }]],
  ] as const)("from %i to %i by %i: %j", async (from, to, step, metrics, points) => {
    const r = await series.read({ domain: "example.test", from, to, step, metrics });
    expect(r.points).toEqual(points);
    expect(r).toMatchObject({ bucket: M5, step, from: Math.floor(from / step) * step });
  });
});

describe("batched writes (counts wait in memory, one pipeline per domain per flush)", () => {
  type Cmd = [string, ...unknown[]];
  /** A fake Redis whose pipelines record their commands; `fail` makes exec reject. */
  function recording(o: { fail?: Error } = {}) {
    const pipelines: Cmd[][] = [];
    const redis = {
      pipeline() {
        const cmds: Cmd[] = [];
        const p: Record<string, unknown> = new Proxy({}, {
          get: (_t, name: string) => name === "exec"
            ? async () => { pipelines.push(cmds); if (o.fail) throw o.fail; return cmds.map(([c]) => [null, c === "hgetall" ? {} : 1]); }
            : (...args: unknown[]) => { cmds.push([name, ...args]); return p; },
        });
        return p;
      },
    } as unknown as Redis;
    return { redis, pipelines };
  }
  const keys = { traffic: (d: string, s: number, c: number) => `t:{${d}}:${s}:${c}`, trafficTotals: (d: string) => `t:{${d}}:total` };
  const chunk0 = T0 / 3_600_000;

  it("sends nothing per message; a flush writes the sums: HINCRBYs, one EXPIREAT per chunk, the totals, one pipeline per domain", async () => {
    const { redis, pipelines } = recording();
    const series = new TrafficSeries(redis, keys, { bucketMs: M5, retentionMs: 0 });
    for (let i = 0; i < 100; i++) series.record("example.test", { accepted: 1, recipients: 2, bytes: 1000 }, T0 + 1000 + i);
    series.record("example.test", { accepted: 1, recipients: 1, bytes: 10 }, T0 + 12 * M5); // the next chunk
    for (let i = 0; i < 10; i++) series.recordRejection(undefined, "relay-domain", T0);
    series.recordRejection("example.test", "unknown-recipient", T0 + M5);
    expect(pipelines).toEqual([]);
    await series.flush();
    expect(pipelines).toEqual([
      [["hincrby", `t:{example.test}:300:${chunk0}`, "0a", 100], ["hincrby", `t:{example.test}:300:${chunk0}`, "0n", 200], ["hincrby", `t:{example.test}:300:${chunk0}`, "0b", 100_000],
        ["hincrby", `t:{example.test}:300:${chunk0}`, "1ru", 1], ["expireat", `t:{example.test}:300:${chunk0}`, expiryOf(chunk0, { bucketMs: M5, retentionMs: 0 })],
        ["hincrby", `t:{example.test}:300:${chunk0 + 1}`, "0a", 1], ["hincrby", `t:{example.test}:300:${chunk0 + 1}`, "0n", 1], ["hincrby", `t:{example.test}:300:${chunk0 + 1}`, "0b", 10],
        ["expireat", `t:{example.test}:300:${chunk0 + 1}`, expiryOf(chunk0 + 1, { bucketMs: M5, retentionMs: 0 })],
        ["hincrby", "t:{example.test}:total", "accepted", 101], ["hincrby", "t:{example.test}:total", "recipients", 201], ["hincrby", "t:{example.test}:total", "bytes", 100_010],
        ["hincrby", "t:{example.test}:total", "rejected.unknown-recipient", 1]],
      [["hincrby", `t:{*}:300:${chunk0}`, "0rl", 10], ["expireat", `t:{*}:300:${chunk0}`, expiryOf(chunk0, { bucketMs: M5, retentionMs: 0 })], ["hincrby", "t:{*}:total", "rejected.relay", 10]],
    ]);
    await series.flush(); // nothing pending: nothing sent
    expect(pipelines).toHaveLength(2);
  });

  it("flushes on its own flushMs after the first count (a one-shot timer, none while idle)", async () => {
    vi.useFakeTimers();
    try {
      const { redis, pipelines } = recording();
      const series = new TrafficSeries(redis, keys, { bucketMs: M5, retentionMs: 0, flushMs: 1000 });
      expect(vi.getTimerCount()).toBe(0);
      series.record("example.test", { accepted: 1 }, T0);
      series.record("example.test", { accepted: 1 }, T0);
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(999);
      expect(pipelines).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(pipelines.map((p) => p[0])).toEqual([["hincrby", `t:{example.test}:300:${chunk0}`, "0a", 2]]);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("flushes at once when more than maxPending fields wait (memory stays bounded)", () => {
    const { redis, pipelines } = recording();
    const series = new TrafficSeries(redis, keys, { bucketMs: M5, retentionMs: 0, maxPending: 50 });
    // a new bucket per count: a chunk field and (the first time) the total
    for (let i = 0; i < 60; i++) series.record("example.test", { accepted: 1 }, T0 + i * M5);
    return vi.waitFor(() => {
      expect(pipelines).toHaveLength(1);
      // 50 chunk fields + the total: past 50, written before the 52nd count
      expect(pipelines[0]!.filter(([c, k]) => c === "hincrby" && k !== "t:{example.test}:total")).toHaveLength(50);
    });
  });

  it("reports a failed flush to onError and never rejects", async () => {
    const errors: string[] = [];
    const { redis } = recording({ fail: new Error("connection lost") });
    const series = new TrafficSeries(redis, keys, { bucketMs: M5, retentionMs: 0, onError: (e) => errors.push(e.message) });
    series.record("example.test", { accepted: 1 }, T0);
    await series.flush();
    await series.close();
    expect(errors).toEqual(["connection lost"]);
  });

  it("writes what this instance counted before its own reads", async () => {
    const { redis, pipelines } = recording();
    const series = new TrafficSeries(redis, keys, { bucketMs: M5, retentionMs: 0 });
    series.record("example.test", { accepted: 3 }, T0);
    await series.read({ domain: "example.test", metrics: ["accepted"], from: T0, to: T0 + M5, step: M5 });
    expect(pipelines.map((p) => p[0]![0])).toEqual(["hincrby", "hgetall"]);
  });
});

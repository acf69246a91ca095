/**
 * The spool's memory on a realistic mix (test/helpers/mail-corpus.ts: replies, newsletters,
 * compressible and incompressible attachments, one ~5 MB): accepted over SMTP while the
 * primary is down, stored compressed in frames, shown to the admin (GET /api/status, /metrics:
 * bytes per queued message, hours of outage left), then delivered byte for byte to a
 * recording primary. The Redis bytes per message are printed (measured, not asserted beyond
 * "less than the raw bytes": the bench has the figures).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { freePort, waitFor } from "../helpers/net.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { sendAll, stripFirstReceived, type TestMessage } from "../helpers/messages.js";
import { corpus } from "../helpers/mail-corpus.js";

const TOKEN = "capacity-test-token-0123456789";

describe("the spool's memory on a realistic mix", () => {
  let redis: TestRedis;
  let primary: RecordingPrimary;
  let mx: MxspoolProcess;
  let smtpPort: number;
  let httpPort: number;
  const messages: TestMessage[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    primary = new RecordingPrimary({ port: await freePort(), closeTimeout: 100 });
    smtpPort = await freePort();
    httpPort = await freePort();
    mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort, redisUrl: redis.url, primaryPort: primary.port, processes: 1 }, {
      http: { listen: `127.0.0.1:${httpPort}`, adminToken: TOKEN },
      domains: { "example.test": { recipients: "*" } },
      delivery: { retry: { first: "1s", max: "2s" } },
    }));
    await mx.start();
    let i = 0;
    for (const m of corpus({ count: 59, seed: 42, extraSizes: [5 * 1024 * 1024], maxSize: 2 * 1024 * 1024, to: "user@example.test" })) {
      const testId = `c${i++}-${m.kind}`;
      // the test id goes in as the first header line so the delivered copy can be matched
      messages.push({ testId, from: "sender@example.com", to: ["user@example.test"], raw: Buffer.concat([Buffer.from(`X-Test-Id: ${testId}\r\n`), m.raw]) });
    }
  });

  afterAll(async () => {
    await mx?.stop();
    await primary?.stop();
    await redis?.stop();
    mx?.cleanup();
  });

  const api = async (path: string) => fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });

  it("stores 60 messages in less Redis memory than their raw bytes, and tells the admin what a queued message costs", async () => {
    const c = redis.client();
    const info = async () => Number(/used_memory:(\d+)/.exec(await c.info("memory"))![1]);
    const before = await info();
    const { accepted, errors } = await sendAll(smtpPort, messages, 4);
    expect([...errors.values()]).toEqual([]);
    expect(accepted.size).toBe(60);
    const raw = messages.reduce((n, m) => n + m.raw.length, 0);
    const stored = (await Promise.all((await c.keys("mxspool:msg:*:raw")).map((k) => c.memory("USAGE", k, "SAMPLES", "0")))).reduce((n: number, v) => n + Number(v), 0);
    const delta = (await info()) - before;
    process.stdout.write(`capacity: 60 corpus messages, raw ${raw} bytes (${Math.round(raw / 60)}/msg); Redis: bytes keys ${stored} (${(stored / raw).toFixed(2)}× raw), used_memory +${delta} (${Math.round(delta / 60)}/msg, ${(delta / raw).toFixed(2)}× raw)\n`);
    expect(stored).toBeLessThan(raw);

    const status = await (await api("/api/status")).json() as { redis: { bytesPerQueuedMessage: number | null; limitBytes: number }; outageHoursLeft: number | null; acceptedPerHour: number };
    expect(status.redis.bytesPerQueuedMessage).toBeGreaterThan(0);
    expect(status.redis.limitBytes).toBeGreaterThan(0);
    expect(status.acceptedPerHour).toBeCloseTo(60 / 24, 1);
    expect(status.outageHoursLeft).toBeGreaterThan(0);
    const metrics = await (await api("/metrics")).text();
    expect(metrics).toMatch(/^mxspool_redis_bytes_per_queued_message \d+/m);
    expect(metrics).toMatch(/^mxspool_outage_hours_left [\d.]+/m);
  });

  it("delivers every message byte for byte when the primary comes back", async () => {
    await primary.start();
    await waitFor("all 60 messages at the primary", () => primary.received.length >= 60, 120_000);
    const byId = new Map(primary.received.map((r) => [/^X-Test-Id: *(.+?)\r?$/im.exec(r.body)![1], r]));
    for (const m of messages) {
      const got = byId.get(m.testId);
      expect(got, m.testId).toBeDefined();
      expect(stripFirstReceived(got!.raw).rest.equals(m.raw), `${m.testId}: bytes differ`).toBe(true);
    }
    expect(primary.received).toHaveLength(60);
  });
});

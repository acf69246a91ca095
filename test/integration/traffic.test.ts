/**
 * The traffic series end to end: a real redis-server, a real mxspool (2 SMTP/worker
 * processes) and a real primary that is down while mail arrives. Accepted mail, a refused
 * unknown recipient and a relay attempt are sent; the primary comes back, the queue drains
 * (one recipient refused by the primary: a bounce); then GET /api/traffic shows each count
 * per metric and per reason, the queue depth sampled while it waited, the bytes as the SMTP
 * log says, /metrics the totals and `mxspool traffic` the table. Bad parameters get a 400 naming the parameter. Last, the
 * cost of the layout: a simulated week per domain written through the same module, measured
 * with MEMORY USAGE and printed (the README's figure). And a SIGTERM right after a 250: the
 * count that waited in memory (batched, written once a second) is in Redis after the stop.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import nodemailer from "nodemailer";
import { freePort, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { execFileSync } from "node:child_process";
import { cliPath, MxspoolProcess } from "../helpers/mxspool-process.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { compose } from "../helpers/messages.js";
import { RawSmtp } from "../helpers/smtp-client.js";
import { Keyspace } from "../../src/redis/keyspace.js";
import { TrafficSeries, type TrafficSeriesResult } from "../../src/observability/traffic-series.js";

const TOKEN = "traffic-test-token-0123456789abcdef";
const WEEK = 7 * 86_400_000;

describe("traffic series", () => {
  let redis: TestRedis;
  let mx: MxspoolProcess;
  let primary: RecordingPrimary;
  let smtpPort: number;
  let httpPort: number;

  const get = (path: string) => fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const series = async (qs: string): Promise<TrafficSeriesResult> => {
    const r = await get(`/api/traffic?${qs}`);
    expect(r.status, await r.clone().text()).toBe(200);
    return (await r.json()) as TrafficSeriesResult;
  };
  /** Each metric added up over the points (queue: its largest sample). */
  const totals = (s: TrafficSeriesResult) => {
    const out: Record<string, number> = {};
    for (const p of s.points) for (const [k, v] of Object.entries(p)) if (k !== "t") out[k] = k === "queue" ? Math.max(out[k] ?? 0, v as number) : (out[k] ?? 0) + (v as number);
    return out;
  };

  beforeAll(async () => {
    redis = await startRedis();
    smtpPort = await freePort();
    httpPort = await freePort();
    primary = new RecordingPrimary({ port: await freePort(), closeTimeout: 100, rcptReply: (r) => (r.startsWith("gone@") ? { code: 550, text: "5.1.1 no such user here" } : undefined) });
    mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort, redisUrl: redis.url, primaryPort: primary.port, processes: 2 }, {
      http: { listen: `127.0.0.1:${httpPort}`, adminToken: TOKEN },
      domains: { "example.test": { primary: [`127.0.0.1:${primary.port}`], recipients: ["u1@example.test", "u2@example.test", "gone@example.test"] } },
      delivery: { retry: { first: "1s", max: "2s" } },
      baselines: { queueSample: "1s" },
    }));
    await mx.start(); // the primary is not started: it is down
  }, 120_000);
  afterAll(async () => { await mx?.stop(); await primary?.stop(); await redis?.stop(); mx?.cleanup(); });

  it("refuses bad parameters with a 400 that names the parameter", async () => {
    for (const [qs, code] of [
      ["", "INVALID_DOMAIN"], ["domain=nope.test", "INVALID_DOMAIN"], ["domain=example.test&step=7m", "INVALID_STEP"],
      ["domain=example.test&from=yesterday", "INVALID_FROM"], ["domain=example.test&to=x", "INVALID_TO"],
      ["domain=example.test&from=60d", "INVALID_RANGE"], ["domain=example.test&metrics=frobs", "INVALID_METRICS"], ["domain=example.test&size=1", "INVALID_PARAMETER"],
    ]) {
      const r = await get(`/api/traffic?${qs}`);
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect([r.status, body.error.code], qs).toEqual([400, code]);
    }
    const doc = (await (await get("/api/openapi.json")).json()) as { paths: Record<string, { get?: { parameters: { name: string }[] } }> };
    expect(doc.paths["/api/traffic"]?.get?.parameters.map((p) => p.name)).toEqual(["domain", "from", "to", "step", "metrics"]);
  });

  it("counts accepted, refused by reason, queued, delivered, bounced and bytes per domain", async () => {
    // mail while the primary is down: 3 messages (4 recipients), one refused unknown recipient, one relay attempt
    const t = nodemailer.createTransport({ host: "127.0.0.1", port: smtpPort, ignoreTLS: true });
    for (const [i, to] of [["u1@example.test", "u2@example.test"], ["u1@example.test"], ["gone@example.test"]].entries()) {
      await t.sendMail({ envelope: { from: "a@sender.test", to }, raw: await compose({ testId: `traffic-${i}`, from: "a@sender.test", to }) });
    }
    t.close();
    const c = await RawSmtp.connect(smtpPort);
    expect(await c.reply()).toMatch(/^220/);
    expect(await c.cmd("EHLO client.sender.test")).toMatch(/^250/);
    expect(await c.cmd("MAIL FROM:<b@sender.test>")).toMatch(/^250/);
    expect(await c.cmd("RCPT TO:<stranger@example.test>")).toMatch(/^550 5\.1\.1/);
    expect(await c.cmd("RCPT TO:<someone@elsewhere.test>")).toMatch(/^550 5\.7\.1/);
    expect(await c.cmd("QUIT")).toMatch(/^221/);
    c.close();

    const q = "domain=example.test&from=1h&metrics=accepted,recipients,bytes,rejected,rejected.unknown-recipient,delivered,bounced,deferred,queue";
    await waitFor("the queue depth sampled while the primary is down", async () => totals(await series(q)).queue! >= 3, 60_000, 500);
    await primary.start();
    await waitFor("the queue to drain", async () => { const s = totals(await series(q)); return s.delivered === 3 && s.bounced === 1; }, 90_000, 500);

    // the counts are written once a second (batched in each process): wait for the SMTP side's too
    await waitFor("the accepted and refused counts", async () => { const t = totals(await series(q)); return t.accepted! >= 3 && t.rejected! >= 1; }, 10_000, 200);
    const sizes = mx.logs.filter((l) => l.event === "SMTP_TRANSACTION" && l.decision === "accept").map((l) => l.size as number);
    expect(sizes).toHaveLength(3);
    const s = totals(await series(q));
    expect(s).toMatchObject({ accepted: 3, recipients: 4, rejected: 1, "rejected.unknown-recipient": 1, delivered: 3, bounced: 1, bytes: sizes.reduce((a, b) => a + b, 0) });
    expect(s.queue).toBeGreaterThanOrEqual(3);
    const globalQ = "domain=*&from=1h&metrics=rejected.relay,rejected.unknown-recipient,accepted";
    await waitFor("the relay refusal", async () => totals(await series(globalQ))["rejected.relay"]! >= 1, 10_000, 200);
    const global = totals(await series(globalQ));
    expect(global).toEqual({ "rejected.relay": 1, "rejected.unknown-recipient": 0, accepted: 0 });

    // one point per step, the counts the same at a coarser step
    const hourly = await series(`${q.replace("from=1h", "from=2h")}&step=1h`);
    expect(hourly.points.length).toBeLessThanOrEqual(3);
    expect(totals(hourly)).toMatchObject({ accepted: 3, delivered: 3, bounced: 1 });

    const text = await (await get("/metrics")).text();
    expect(text).toContain('mxspool_traffic_total{domain="example.test",kind="accepted",reason=""} 3');
    expect(text).toContain('mxspool_traffic_total{domain="example.test",kind="rejected",reason="unknown-recipient"} 1');
    expect(text).toContain('mxspool_traffic_total{domain="example.test",kind="delivered",reason=""} 3');
    expect(text).toContain('mxspool_traffic_total{domain="*",kind="rejected",reason="relay"} 1');
    expect(text).toContain(`mxspool_traffic_bytes_total{domain="example.test"} ${s.bytes}`);

    const shown = execFileSync(process.execPath, [cliPath(), "traffic", "example.test", "--since", "2h", "--config", mx.configFile], { encoding: "utf8", timeout: 30_000 });
    console.log(`mxspool traffic example.test --since 2h:\n${shown}`);
    const total = shown.trim().split("\n").pop()!.split(/\s{2,}/);
    // FROM ACCEPTED RCPTS BYTES REFUSED UNKNOWN-RCPT DELIVERED BOUNCED DEFERRED QUEUE
    expect([total[0], total[1], total[2], total[4], total[5], total[6], total[7]]).toEqual(["total", "3", "4", "1", "1", "3", "1"]);
  }, 240_000);

  it("costs about 100 KiB per domain per week (MEMORY USAGE of a simulated week)", async () => {
    const client = redis.client();
    try {
      const measure = async (prefix: string, fill: (tr: TrafficSeries, at: number, i: number) => void) => {
        const keys = new Keyspace(prefix);
        const tr = new TrafficSeries(client, keys, { bucketMs: 300_000, retentionMs: 56 * 86_400_000 });
        const start = Math.floor(Date.now() / 3_600_000) * 3_600_000 - WEEK;
        for (let i = 0; i < WEEK / 300_000; i++) fill(tr, start + i * 300_000, i);
        await tr.flush(); // every count batched above, and the queue samples' writes
        let bytes = 0;
        let count = 0;
        let cursor = "0";
        do {
          const [next, found] = await client.scan(cursor, "MATCH", `${prefix}:traffic:*`, "COUNT", 1000);
          cursor = next;
          for (const k of found) { bytes += (await client.memory("USAGE", k)) ?? 0; count++; }
        } while (cursor !== "0");
        return { bytes, keys: count };
      };
      // typical: every bucket accepted/recipients/bytes/delivered and a queue sample; some refusals and deferrals
      const typical = await measure("mtyp", (tr, at, i) => {
        tr.record("example.test", { accepted: 3 + (i % 7), recipients: 4 + (i % 9), bytes: 40_000 + i * 13, delivered: 4 + (i % 9), ...(i % 3 === 0 ? { "rejected.unknown-recipient": 1 + (i % 4) } : {}), ...(i % 5 === 0 ? { deferred: 1 } : {}) }, at);
        tr.sampleQueue({ "example.test": i % 20 }, at);
      });
      // busy: every metric in every bucket
      const busy = await measure("mbusy", (tr, at, i) => {
        tr.record("example.test", { accepted: 300 + i, recipients: 400 + i, bytes: 4_000_000 + i, delivered: 390 + i, bounced: 3, deferred: 7,
          "rejected.unknown-recipient": 40, "rejected.relay": 5, "rejected.policy": 2, "rejected.size": 1, "rejected.virus": 1, "rejected.spam": 9, "rejected.rate": 4, "rejected.backup": 1, "rejected.tempfail": 1, "rejected.other": 1 }, at);
        tr.sampleQueue({ "example.test": 1000 + i }, at);
      });
      console.log(`measured: traffic series per domain per week (5-minute buckets, MEMORY USAGE): typical ${typical.bytes} bytes in ${typical.keys} keys (${Math.round(typical.bytes / 1024)} KiB), every metric in every bucket ${busy.bytes} bytes (${Math.round(busy.bytes / 1024)} KiB)`);
      expect(typical.keys).toBe(7 * 24 + 1); // an hour per key, plus the totals
      expect(typical.bytes).toBeLessThan(150_000);
      expect(busy.bytes).toBeLessThan(1_000_000);
    } finally {
      client.disconnect();
    }
  }, 120_000);

  it("writes the counts still in memory when it stops (a SIGTERM right after a 250)", async () => {
    const client = redis.client();
    try {
      const totalsKey = new Keyspace("mxspool").trafficTotals("example.test");
      const before = Number(await client.hget(totalsKey, "accepted"));
      const t = nodemailer.createTransport({ host: "127.0.0.1", port: smtpPort, ignoreTLS: true });
      const to = ["u1@example.test", "u2@example.test"];
      await t.sendMail({ envelope: { from: "a@sender.test", to }, raw: await compose({ testId: "traffic-last", from: "a@sender.test", to }) });
      t.close();
      expect(await mx.stop()).toBe(0); // at once: well within the second the count may wait in memory
      expect(Number(await client.hget(totalsKey, "accepted"))).toBe(before + 1);
    } finally {
      client.disconnect();
    }
  }, 120_000);
});

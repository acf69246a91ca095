/**
 * Continuity alerts against real parts: a real redis-server and BullMQ, a webhook receiver on
 * node:http that checks the HMAC, and a recording SMTP relay that is not the primary. Shows
 * retry until a receiver comes up with nothing lost or doubled, one delivery per destination
 * whoever publishes the same transition, and reminders while an event stays open.
 */
import http from "node:http";
import crypto from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { configSchema, type Config } from "../../src/config/schema.js";
import { Keyspace } from "../../src/redis/keyspace.js";
import { bullConnection } from "../../src/redis/connection.js";
import { createLogger } from "../../src/observability/log.js";
import { AlertQueue } from "../../src/alerts/alert-queue.js";
import { AlertWorker } from "../../src/alerts/alert-worker.js";
import type { AlertPayload } from "../../src/continuity/alert-sink.js";
import type { ContinuityEvent } from "../../src/continuity/continuity-event.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { compose, sendAll } from "../helpers/messages.js";

const SECRET = "s3cret-s3cret-s3cret";

/** A webhook receiver: records the bodies whose signature verifies, refuses the others with 401. */
class Receiver {
  readonly bodies: { type: string; event: { id: string }; text: string }[] = [];
  bad = 0;
  private server?: http.Server;
  constructor(readonly port: number) {}
  async start() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const want = `sha256=${crypto.createHmac("sha256", SECRET).update(body).digest("hex")}`;
        const got = String(req.headers["x-mxspool-signature"] ?? "");
        if (got.length !== want.length || !crypto.timingSafeEqual(Buffer.from(got), Buffer.from(want))) { this.bad++; res.writeHead(401).end(); return; }
        this.bodies.push(JSON.parse(body.toString("utf8")));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, "127.0.0.1", () => r()));
  }
  async stop() { const s = this.server; if (s) { s.closeAllConnections(); await new Promise<void>((r) => s.close(() => r())); } }
}

let redis: TestRedis;
let n = 0;
const started: { stop(): Promise<void> }[] = [];
const log = createLogger("fatal", {}, "json");

beforeAll(async () => { redis = await startRedis({ persistence: false }); }, 60_000);
afterAll(async () => { await redis?.stop(); });
afterEach(async () => { for (const s of started.splice(0).reverse()) await s.stop(); });

/** Its own prefix per test (own queue), a short backoff. */
function setup(alerts: Record<string, unknown>, events?: { get(id: string): Promise<ContinuityEvent | null> }) {
  const config: Config = configSchema.parse({
    hostname: "mx2.example.test", redis: { prefix: `alerts${++n}` },
    domains: { "example.test": { primary: ["127.0.0.1:9"] } },
    alerts: { retry: { first: "200ms", max: "1s" }, timeout: "2s", ...alerts },
  });
  const keys = new Keyspace(config.redis.prefix);
  const conn = bullConnection({ url: redis.url });
  const queue = new AlertQueue(config, conn, keys);
  const client = redis.client();
  const worker = new AlertWorker(config, conn, client, keys, queue, events, log);
  started.push({ stop: () => queue.close() });
  return {
    config, keys, queue, client,
    startWorker() { worker.start(); started.push({ stop: () => worker.stop() }); },
    anotherQueue() { const q = new AlertQueue(config, bullConnection({ url: redis.url }), keys); started.push({ stop: () => q.close() }); return q; },
    stats: () => client.hgetall(keys.alertStats()),
  };
}

function outage(id: string, state: "open" | "closed" = "open"): ContinuityEvent {
  return { id, kind: "outage", domain: "example.test", state, startedAt: Date.now(), summary: "primary of example.test down", data: { queued: 3 } };
}
const payload = (type: string, e: ContinuityEvent): AlertPayload => ({ type, domain: e.domain, at: Date.now(), event: e, text: `[mxspool] ${type}: ${e.summary}` });

describe("webhook alerts", () => {
  it("retries while the receiver is unreachable and delivers the alert once, signed, when it comes up", async () => {
    const port = await freePort();
    const s = setup({ webhooks: [{ url: `http://127.0.0.1:${port}/hook`, secret: SECRET }] });
    s.startWorker();
    const e = outage("ev_unreach");
    await s.queue.publish(payload("outage.started", e), `${e.id}:started`);
    await waitFor("failed attempts while the receiver is down", async () => Number((await s.stats())["failed:webhook"] ?? 0) >= 2, 30_000);
    const rx = new Receiver(port);
    await rx.start();
    started.push(rx);
    await waitFor("the alert to arrive", () => rx.bodies.length >= 1, 30_000);
    await sleep(1500); // a second copy would come within the max backoff
    expect(rx.bodies.map((b) => [b.type, b.event.id])).toEqual([["outage.started", "ev_unreach"]]);
    expect(rx.bodies[0]!.text).toContain("outage.started");
    expect(rx.bad).toBe(0);
    expect((await s.stats())["sent:webhook"]).toBe("1");
  }, 90_000);

  it("delivers one alert per destination when the same transition is published twice, from two queues on two connections", async () => {
    const rx = new Receiver(await freePort());
    await rx.start();
    started.push(rx);
    const relay = new RecordingPrimary({ port: await freePort() });
    await relay.start();
    started.push(relay);
    const s = setup({ webhooks: [{ url: `http://127.0.0.1:${rx.port}/`, secret: SECRET }], email: { to: ["ops@example.net"], from: "mxspool@mx2.example.test", relay: `127.0.0.1:${relay.port}` } });
    const e = outage("ev_dedupe");
    const other = s.anotherQueue();
    await Promise.all([s.queue.publish(payload("outage.recovered", e), `${e.id}:recovered`), other.publish(payload("outage.recovered", e), `${e.id}:recovered`)]);
    s.startWorker();
    await waitFor("both destinations", () => rx.bodies.length >= 1 && relay.received.length >= 1, 30_000);
    await other.publish(payload("outage.recovered", e), `${e.id}:recovered`); // after it was sent: still a no-op
    await sleep(1500);
    expect(rx.bodies.length).toBe(1);
    expect(relay.received.length).toBe(1);
  }, 90_000);
});

describe("e-mail alerts", () => {
  it("sends a plain-text alert through the configured relay, not the primary", async () => {
    const relay = new RecordingPrimary({ port: await freePort() });
    await relay.start();
    started.push(relay);
    const s = setup({ email: { to: ["ops@example.net"], from: "mxspool@mx2.example.test", relay: `127.0.0.1:${relay.port}` } });
    s.startWorker();
    const e = outage("ev_mail");
    await s.queue.publish(payload("outage.started", e), `${e.id}:started`);
    await waitFor("the alert e-mail", () => relay.received.length >= 1, 30_000);
    const m = relay.received[0]!;
    expect([m.from, m.rcpts]).toEqual(["mxspool@mx2.example.test", ["ops@example.net"]]);
    expect(m.body.replace(/\r?\n[ \t]+/g, " ")).toMatch(/^Subject: \[mxspool\] outage\.started example\.test: primary of example\.test down/m);
    expect(m.body).toContain("ev_mail");
    expect((await s.stats())["sent:email"]).toBe("1");
  }, 60_000);
});

describe("reminders", () => {
  it("sends outage.update every `repeat` while the event is open, and stops when it closes", async () => {
    const rx = new Receiver(await freePort());
    await rx.start();
    started.push(rx);
    const events = new Map<string, ContinuityEvent>();
    const s = setup({ webhooks: [{ url: `http://127.0.0.1:${rx.port}/`, secret: SECRET }], repeat: "1s" }, { get: async (id) => events.get(id) ?? null });
    s.startWorker();
    const e = outage("ev_remind");
    events.set(e.id, e);
    await s.queue.publish(payload("outage.started", e), `${e.id}:started`);
    await waitFor("two reminders", () => rx.bodies.filter((b) => b.type === "outage.update").length >= 2, 30_000);
    events.set(e.id, { ...e, state: "closed", closedAt: Date.now() });
    const after = rx.bodies.length;
    await sleep(3000); // three more periods
    expect(rx.bodies.length - after).toBeLessThanOrEqual(1); // at most one that was already under way
    expect(rx.bodies[0]!.type).toBe("outage.started");
    expect(new Set(rx.bodies.map((b) => b.event.id))).toEqual(new Set(["ev_remind"]));
  }, 60_000);
});

describe("through mxspool (POST /api/alerts/test)", () => {
  it("keeps accepting mail while the webhook is unreachable, then delivers the test alert once and counts it", async () => {
    const TOKEN = "alerts-test-token-0123456789";
    const hookPort = await freePort();
    const primary = new RecordingPrimary({ port: await freePort() });
    await primary.start();
    started.push(primary);
    const smtpPort = await freePort();
    const httpPort = await freePort();
    const mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort, redisUrl: redis.url, primaryPort: primary.port, processes: 1 }, {
      redis: { prefix: "alertsproc" }, http: { listen: `127.0.0.1:${httpPort}`, adminToken: TOKEN },
      alerts: { webhooks: [{ url: `http://127.0.0.1:${hookPort}/hook`, secret: SECRET }], retry: { first: "200ms", max: "1s" } },
    }));
    await mx.start();
    started.push({ stop: async () => { await mx.stop(); } });
    const api = (method: string, path: string) => fetch(`http://127.0.0.1:${httpPort}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });

    const res = await api("POST", "/api/alerts/test");
    expect(res.status).toBe(202);
    const { id, destinations } = await res.json() as { id: string; destinations: number };
    expect(destinations).toBe(1);
    await waitFor("a failed attempt", () => mx.events("ALERT_FAILED").length >= 1, 30_000);

    const msg = { testId: "during-alert-outage", from: "a@sender.test", to: ["bob@example.test"] };
    const { accepted, errors } = await sendAll(smtpPort, [{ ...msg, raw: await compose(msg) }]);
    expect([accepted.size, errors.size]).toEqual([1, 0]);

    const rx = new Receiver(hookPort);
    await rx.start();
    started.push(rx);
    await waitFor("the test alert", () => rx.bodies.length >= 1, 30_000);
    await sleep(1500);
    expect(rx.bodies.map((b) => [b.type, b.event.id])).toEqual([["test", id]]);
    const metrics = await (await api("GET", "/metrics")).text();
    expect(metrics).toMatch(/^mxspool_alerts_sent_total\{channel="webhook"\} 1$/m);
    expect(metrics).toMatch(/^mxspool_alerts_failed_total\{channel="webhook"\} [1-9]\d*$/m);
  }, 120_000);
});

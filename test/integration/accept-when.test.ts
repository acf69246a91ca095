/**
 * Backup-only acceptance (`acceptWhen: primaryDown`) against a real mxspool, a real Redis and
 * a recording primary: while the primary is up a backup-only domain's recipients get the
 * 450 4.7.1 deferral at RCPT and an `always` domain in the same session is accepted; once the
 * monitor declares the primary down the same RCPT is accepted and the message spooled; when
 * the primary returns the deferral is back and the spooled message is delivered. Deferrals
 * past the threshold within a window open one backup-traffic event (contract ContinuityEvents).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { freePort, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { RawSmtp } from "../helpers/smtp-client.js";
import { BackupGate } from "../../src/ingress/backup-gate.js";
import { Keyspace } from "../../src/redis/keyspace.js";
import { parseConfig } from "../../src/config/load.js";
import type { Logger } from "../../src/observability/log.js";
import type { AlertSink } from "../../src/continuity/alert-sink.js";
import type { ContinuityEvent, ContinuityEvents } from "../../src/continuity/continuity-event.js";

const DEFERRED = "450 4.7.1 <bob@example.test>: Recipient address rejected: backup MX only while the primary MX of example.test is up; deliver to the primary, try again later";

let redis: TestRedis;
let primary: RecordingPrimary;
let mx: MxspoolProcess;
let port: number;

/** One transaction: RCPT for each address (replies returned); with `body`, DATA after them. */
async function transaction(rcpts: string[], body?: string): Promise<{ rcpt: string[]; data?: string }> {
  const c = await RawSmtp.connect(port);
  try {
    expect(await c.reply()).toMatch(/^220 /);
    expect(await c.cmd("EHLO client.test")).toMatch(/^250/);
    expect(await c.cmd("MAIL FROM:<s@sender.test>")).toMatch(/^250 /);
    const rcpt: string[] = [];
    for (const r of rcpts) rcpt.push(await c.cmd(`RCPT TO:<${r}>`));
    let data: string | undefined;
    if (body !== undefined) {
      expect(await c.cmd("DATA")).toMatch(/^354 /);
      data = await c.cmd(`From: s@sender.test\r\nTo: bob@example.test\r\nSubject: ${body}\r\n\r\n${body}\r\n.`);
    }
    await c.cmd("QUIT").catch(() => "");
    return { rcpt, data };
  } finally { c.close(); }
}

const upCount = () => mx.events("PRIMARY_UP").filter((l) => l.domain === "example.test").length;

beforeAll(async () => {
  redis = await startRedis();
  port = await freePort();
  const primaryPort = await freePort();
  primary = new RecordingPrimary({ port: primaryPort, closeTimeout: 200 });
  await primary.start();
  mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort: port, redisUrl: redis.url, primaryPort, processes: 1 }, {
    domains: {
      "example.test": { primary: [`127.0.0.1:${primaryPort}`], acceptWhen: "primaryDown" },
      "other.test": { primary: [`127.0.0.1:${primaryPort}`] },
    },
    delivery: { retry: { first: "1s", max: "2s" } },
  }));
  await mx.start();
  await waitFor("the monitor to see the primary up", () => upCount() >= 1, 30_000);
}, 120_000);

afterAll(async () => { await mx?.stop(); await primary?.stop(); await redis?.stop(); mx?.cleanup(); });

describe("acceptWhen: primaryDown", () => {
  it("defers a backup-only domain's recipient with 450 4.7.1 while its primary is up, and accepts an `always` domain in the same session", async () => {
    const t = await transaction(["bob@example.test", "carol@other.test"]);
    expect(t.rcpt[0]).toBe(DEFERRED);
    expect(t.rcpt[1]).toMatch(/^250 /);
    await waitFor("the BACKUP_TRAFFIC_DEFERRED line", () => mx.events("BACKUP_TRAFFIC_DEFERRED").some((l) => l.domain === "example.test" && l.rcpt === "bob@example.test"), 10_000);
    const c = new Redis(redis.url);
    try {
      expect(Number(await c.hget("mxspool:stats:backupDeferred", "example.test"))).toBeGreaterThanOrEqual(1);
      expect(await c.hget("mxspool:stats:backupDeferred", "other.test")).toBeNull();
    } finally { c.disconnect(); }
  });

  it("accepts and spools once the monitor declares the primary down, and defers again (and delivers) when it is back", async () => {
    await primary.stop();
    await waitFor("PRIMARY_DOWN for example.test", () => mx.events("PRIMARY_DOWN").some((l) => l.domain === "example.test"), 30_000);
    // this process may still hold the last "up" for up to a second (its cache): retry until accepted
    await waitFor("the RCPT to be accepted", async () => (await transaction(["bob@example.test"])).rcpt[0].startsWith("250 "), 15_000, 300);
    const t = await transaction(["bob@example.test"], "accept-when-spooled");
    expect(t.rcpt[0]).toMatch(/^250 /);
    expect(t.data).toMatch(/^250 2\.0\.0 Ok: queued as /);

    const ups = upCount();
    await primary.start();
    await waitFor("PRIMARY_UP again", () => upCount() > ups, 30_000);
    await waitFor("the RCPT to be deferred again", async () => (await transaction(["bob@example.test"])).rcpt[0] === DEFERRED, 15_000, 300);
    await waitFor("the spooled message at the primary", () => primary.received.some((m) => m.body.includes("accept-when-spooled") && m.rcpts.includes("bob@example.test")), 30_000);
  });
});

describe("backup traffic", () => {
  const opened: Omit<ContinuityEvent, "id" | "state">[] = [];
  /** The contract's ContinuityEvents, in memory: only one open event per kind and domain. */
  const events: ContinuityEvents = {
    open: async (e) => {
      if (opened.some((o) => o.kind === e.kind && o.domain === e.domain)) return null;
      opened.push(e);
      return { ...e, id: `ev_${opened.length}`, state: "open" };
    },
    transition: async (id, name) => { transitions.push(`${id}:${name}`); return true; }, get: async () => null, list: async () => ({ items: [] }), current: async () => null,
  };
  const transitions: string[] = [];
  const published: { type: string; dedupeKey: string; state: string }[] = [];
  const alerts: AlertSink = { publish: async (p, dedupeKey) => { published.push({ type: p.type, dedupeKey, state: p.event.state }); } };
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as unknown as Logger;

  it("opens one backup-traffic event when a domain's deferrals reach the threshold within the window, closes it and alerts once", async () => {
    const c = new Redis(redis.url);
    try {
      const keys = new Keyspace("aw");
      const config = parseConfig({ domains: { "example.test": { primary: ["127.0.0.1:1"], acceptWhen: "primaryDown" } } });
      await c.hset(keys.primary("example.test"), { state: "up", lastProbe: String(Date.now()) });
      const gate = new BackupGate(config, c, keys, quiet, { cacheMs: 0, threshold: 3, windowMs: 60_000, events, alerts });
      for (let i = 0; i < 2; i++) expect((await gate.check(`u${i}@example.test`, "example.test", "192.0.2.7"))?.responseCode).toBe(450);
      await waitFor("two deferrals counted", async () => Number(await c.hget(keys.backupDeferred(), "example.test")) === 2, 5_000);
      expect(opened).toHaveLength(0);
      for (let i = 2; i < 5; i++) expect((await gate.check(`u${i}@example.test`, "example.test", "192.0.2.7"))?.responseCode).toBe(450);
      await waitFor("five deferrals counted", async () => Number(await c.hget(keys.backupDeferred(), "example.test")) === 5, 5_000);
      await waitFor("the event", () => opened.length === 1, 5_000);
      expect(opened[0]).toMatchObject({ kind: "backup-traffic", domain: "example.test", data: { deferrals: 3, threshold: 3, windowMs: 60_000 } });
      await waitFor("the alert", () => published.length === 1, 5_000);
      expect(transitions).toEqual(["ev_1:closed"]);
      expect(published).toEqual([{ type: "backup-traffic.detected", dedupeKey: "ev_1:detected", state: "closed" }]);
      // the primary goes down: accepted, nothing counted
      await c.hset(keys.primary("example.test"), { state: "down", lastProbe: String(Date.now()) });
      expect(await gate.check("late@example.test", "example.test", "192.0.2.7")).toBeNull();
      expect(Number(await c.hget(keys.backupDeferred(), "example.test"))).toBe(5);
    } finally { c.disconnect(); }
  });
});

/**
 * The drain: while the primary is down mail waits without spending attempts; when it
 * returns the drain starts within about one monitor interval, never with more connections
 * than delivery.concurrency nor faster than delivery.ratePerSecond; per-recipient replies
 * are honoured (a 4xx recipient is retried alone, a 5xx one is not retried).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import nodemailer from "nodemailer";
import { SMTPServer } from "smtp-server";
import { Redis } from "ioredis";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { compose } from "../helpers/messages.js";

async function sendN(port: number, n: number, prefix: string, to = (i: number) => [`u${i}@example.test`]) {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port, ignoreTLS: true, pool: true, maxConnections: 10 });
  await Promise.all(Array.from({ length: n }, async (_, i) => t.sendMail({ envelope: { from: "s@sender.test", to: to(i) }, raw: await compose({ testId: `${prefix}-${i}`, from: "s@sender.test", to: to(i) }) })));
  t.close();
}

describe("drain pacing", () => {
  let redis: TestRedis;
  let mx: MxspoolProcess;
  let smtpPort: number;
  let primaryPort: number;
  let primary: SMTPServer | undefined;
  const arrivals: number[] = [];
  let open = 0;
  let maxOpen = 0;
  const delivering = new Set<string>();

  const startPrimary = async () => {
    primary = new SMTPServer({
      authOptional: true, disabledCommands: ["AUTH", "STARTTLS"], hideSTARTTLS: true, logger: false, disableReverseLookup: true,
      // connections that carry mail (the monitor's connect/EHLO/QUIT probes do not count)
      onMailFrom: (_a, s, cb) => { if (!delivering.has(s.id)) { delivering.add(s.id); open++; maxOpen = Math.max(maxOpen, open); } cb(); },
      onClose: (s) => { if (delivering.delete(s.id)) open--; },
      onData: (stream, _s, cb) => { stream.resume(); stream.on("end", () => { arrivals.push(Date.now()); setTimeout(() => cb(), 20); }); },
    });
    primary.on("error", () => undefined); // a reset mid-transaction is emitted on the server (an unhandled error of the run without this)
    await new Promise<void>((r) => primary!.listen(primaryPort, "127.0.0.1", () => r()));
  };

  beforeAll(async () => {
    redis = await startRedis();
    smtpPort = await freePort();
    primaryPort = await freePort();
    mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort, redisUrl: redis.url, primaryPort }, {
      delivery: { concurrency: 3, ratePerSecond: 20, retry: { first: "1s", max: "2s" } },
    }));
    await mx.start();
  });
  afterAll(async () => { await mx?.stop(); await new Promise<void>((r) => primary ? primary.close(() => r()) : r()); await redis?.stop(); mx?.cleanup(); });

  it("holds mail without spending attempts while the primary is down", async () => {
    await sendN(smtpPort, 100, "pace");
    await sleep(3000); // three monitor intervals with the primary down
    const c = new Redis(redis.url);
    const ids = await c.lrange("{mxspool}:delivery-example.test:wait", 0, -1);
    expect(ids).toHaveLength(100);
    const attempts = await Promise.all(ids.map((id) => c.hget(`{mxspool}:delivery-example.test:${id}`, "atm")));
    expect(attempts.every((a) => a === null || a === "0")).toBe(true);
    c.disconnect();
  });

  it("drains within about one interval of the primary's return, within the concurrency and rate limits", async () => {
    const up = Date.now();
    await startPrimary();
    await waitFor("100 deliveries", () => arrivals.length >= 100, 60_000);
    expect(arrivals[0] - up).toBeLessThan(1000 + 2000 + 1000); // one interval, one probe timeout, slack
    expect(maxOpen).toBeLessThanOrEqual(3);
    // BullMQ's limiter is a fixed 1 s window: at a window edge two windows' worth can meet
    // in one sliding second, never more; over the drain the average stays at the rate
    const perWindow = arrivals.map((t) => arrivals.filter((u) => u >= t && u < t + 1000).length);
    expect(Math.max(...perWindow)).toBeLessThanOrEqual(40);
    const windowsNeeded = Math.ceil(100 / 20) - 1;
    expect(arrivals[99] - arrivals[0]).toBeGreaterThanOrEqual(windowsNeeded * 1000 - 250);
  });
});

describe("per-recipient outcomes", () => {
  let redis: TestRedis;
  let mx: MxspoolProcess;
  let primary: RecordingPrimary;
  const slowTries = new Map<string, number>();

  beforeAll(async () => {
    redis = await startRedis();
    primary = new RecordingPrimary({
      port: await freePort(),
      rcptReply: (rcpt) => {
        if (rcpt.startsWith("bad@")) return { code: 550, text: "5.1.1 no such user" };
        if (rcpt.startsWith("slow@")) {
          const n = (slowTries.get(rcpt) ?? 0) + 1;
          slowTries.set(rcpt, n);
          if (n <= 2) return { code: 451, text: "4.3.0 try again" };
        }
        return undefined;
      },
    });
    await primary.start();
    const smtpPort = await freePort();
    mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort, redisUrl: redis.url, primaryPort: primary.port, processes: 1 }, {
      delivery: { retry: { first: "500ms", max: "1s" } },
    }));
    await mx.start();
    await sendN(smtpPort, 1, "mixed", () => ["good@example.test", "bad@example.test", "slow@example.test"]);
  });
  afterAll(async () => { await mx?.stop(); await primary?.stop(); await redis?.stop(); mx?.cleanup(); });

  it("delivers good@ once, gives up on bad@ at once, and retries slow@ alone until it is taken", async () => {
    await waitFor("slow@ delivered", () => primary.received.some((r) => r.rcpts.includes("slow@example.test")), 30_000)
      .catch((err) => { console.log(mx.logs.filter((l) => l.event).map((l) => JSON.stringify(l)).join("\n")); throw err; });
    await sleep(1500);
    const txs = primary.received.map((r) => r.rcpts);
    expect(txs).toEqual([["good@example.test"], ["slow@example.test"]]);
    expect(slowTries.get("slow@example.test")).toBe(3);
    expect(mx.events("BOUNCED").map((e) => e.rcpt)).toEqual(["bad@example.test"]);
    expect(mx.events("DELIVERY_DEFERRED").map((e) => e.rcpt)).toEqual(["slow@example.test", "slow@example.test"]);
  });
});

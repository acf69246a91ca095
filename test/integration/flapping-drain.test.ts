/**
 * The drain under trouble: 1,000 queued messages (some with several recipients) drain to a
 * primary that flaps up and down every couple of seconds (open sessions cut with 421), and
 * mxspool is killed with kill -9 once in the middle. Every message must arrive, the
 * counters must reconcile (per message and per recipient), and duplicates are counted.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import nodemailer from "nodemailer";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { compose } from "../helpers/messages.js";

const N = Number(process.env.FLAP_N ?? 1000);

describe("drain with a flapping primary and a kill -9", () => {
  let redis: TestRedis;
  let primary: RecordingPrimary;
  let mx: MxspoolProcess;
  let smtpPort: number;
  let flapping = true;

  beforeAll(async () => {
    redis = await startRedis();
    primary = new RecordingPrimary({ port: await freePort(), closeTimeout: 100 });
    smtpPort = await freePort();
    mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort, redisUrl: redis.url, primaryPort: primary.port }, {
      monitor: { interval: "500ms", timeout: "1s" },
      delivery: { retry: { first: "500ms", max: "2s" }, lockDuration: "3s", concurrency: 10 },
      log: { level: "info" },
    }));
    await mx.start();
  });
  afterAll(async () => { flapping = false; await mx?.stop(); await primary?.stop(); await redis?.stop(); mx?.cleanup(); });

  it("delivers all 1,000 messages, reconciles every counter, and reports duplicates", async () => {
    const t = nodemailer.createTransport({ host: "127.0.0.1", port: smtpPort, ignoreTLS: true, pool: true, maxConnections: 10, maxMessages: 100 });
    const rcptsOf = (i: number) => (i % 10 === 0 ? [`a${i}@example.test`, `b${i}@example.test`] : [`u${i}@example.test`]);
    let sent = 0;
    const dbg = (x: string) => { if (process.env.FLAP_DEBUG) fs.appendFileSync(process.env.FLAP_DEBUG, x + "\n"); };
    const watchdog = setInterval(() => dbg(`sent ${sent} delivered ${primary.countBy("X-Test-Id").size} events ${JSON.stringify(Object.fromEntries(mx.logs.filter((l) => l.event).reduce((m, l) => m.set(l.event!, (m.get(l.event!) ?? 0) + 1), new Map<string, number>())))}`), 5000);
    await Promise.all(Array.from({ length: N }, async (_, i) => {
      sent++;
      const info = await t.sendMail({ envelope: { from: "s@sender.test", to: rcptsOf(i) }, raw: await compose({ testId: `f-${i}`, from: "s@sender.test", to: rcptsOf(i) }) });
      expect(info.response).toMatch(/^250 /);
    }));
    t.close();
    const totalRcpts = Array.from({ length: N }, (_, i) => rcptsOf(i).length).reduce((a, b) => a + b, 0);

    // the primary flaps: up 2 s, down 1 s (sessions cut), until the test ends
    const t0 = Date.now();
    const marks: string[] = [];
    const marker = setInterval(() => marks.push(`${Math.round((Date.now() - t0) / 1000)}s:${primary.countBy("X-Test-Id").size}`), 2000);
    const flapper = (async () => {
      while (flapping) {
        await primary.start();
        await sleep(2000);
        if (!flapping) break;
        await primary.stop();
        await sleep(1000);
      }
    })();
    await waitFor("a third of the messages delivered", () => primary.countBy("X-Test-Id").size >= N / 3, Number(process.env.FLAP_WAIT ?? 120_000), 100).catch((err) => {
      const ev = new Map<string, number>();
      for (const l of mx.logs) if (l.event) ev.set(l.event, (ev.get(l.event) ?? 0) + 1);
      console.log("delivered so far", primary.countBy("X-Test-Id").size, JSON.stringify([...ev]), mx.logs.filter((l) => l.level >= 40).slice(-15).map((l) => JSON.stringify(l)).join("\n"));
      throw err;
    });
    await mx.kill9();
    await mx.start();
    await waitFor("every message delivered", () => primary.countBy("X-Test-Id").size >= N, 240_000, 250);
    flapping = false;
    clearInterval(marker);
    clearInterval(watchdog);
    console.log("progress", marks.join(" "));
    await flapper;
    if (!primary["server"]) await primary.start();
    await sleep(5000); // stalled deliveries of the killed processes would be re-run now

    const counts = primary.countBy("X-Test-Id");
    const duplicates = [...counts.values()].filter((n) => n > 1).length;
    const c = redis.client();
    const counters = await c.hgetall("mxspool:stats:counters");
    const inQueue = await c.zcard("mxspool:idx:state:queued") + await c.zcard("mxspool:idx:state:deferred") + await c.zcard("mxspool:idx:state:held");
    console.log(`flapping drain: ${N} messages, ${totalRcpts} recipients; transactions at the primary ${primary.received.length}; ` +
      `duplicates ${duplicates}; counters ${JSON.stringify(counters)}; in queue ${inQueue}`);
    expect(counts.size).toBe(N);
    expect(Number(counters.accepted)).toBe(N);
    expect(Number(counters.accepted)).toBe(Number(counters.delivered ?? 0) + Number(counters.bounced ?? 0) + Number(counters.deleted ?? 0) + inQueue);
    expect(Number(counters.delivered)).toBe(N);
    expect(Number(counters.rcpt_accepted)).toBe(totalRcpts);
    expect(Number(counters.rcpt_delivered)).toBe(totalRcpts);
    // every recipient got its copy at least once
    const gotRcpts = new Set(primary.received.flatMap((r) => r.rcpts));
    expect(gotRcpts.size).toBe(totalRcpts);
  });
});

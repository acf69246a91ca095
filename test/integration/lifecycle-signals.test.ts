/**
 * Stop at any moment of start-up: `mxspool start` on a fresh data dir with the embedded
 * Redis gets SIGTERM after a delay picked by a seeded PRNG over the whole start-up (loading,
 * embedded Redis starting, API, worker processes forking, just after READY). Each time it
 * exits 0 within smtp.shutdownGrace + its few seconds, no redis-server of that data dir is
 * left, and a clean start on the same data dir reaches READY, accepts a message and stops
 * with 0. And a supervisor killed with SIGKILL does not leave its redis-server behind.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { MxspoolProcess, redisServersIn } from "../helpers/mxspool-process.js";
import { RawSmtp } from "../helpers/smtp-client.js";
import { prng } from "../helpers/prng.js";

const SEED = 0x5eed2026;
const RUNS = 8;
/** shutdownGrace 1 s; mxspool allows itself ~13 s beyond it in the worst case: 30 s is a loaded machine's margin. */
const EXIT_WAIT_MS = 30_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => { for (const c of cleanups.reverse()) await c(); });

async function embeddedMx(): Promise<{ mx: MxspoolProcess; smtpPort: number; httpPort: number }> {
  const smtpPort = await freePort();
  const httpPort = await freePort();
  const mx = new MxspoolProcess({
    hostname: "mx2.example.test",
    smtp: { listen: [`127.0.0.1:${smtpPort}`], processes: 2, reverseLookup: false, shutdownGrace: "1s" },
    http: { listen: `127.0.0.1:${httpPort}` },
    domains: { "example.test": { primary: ["127.0.0.1:9"] } },
    monitor: { interval: "1s", timeout: "2s" },
  });
  cleanups.push(async () => { await mx.kill9(); for (const p of redisServersIn(mx.dir)) process.kill(p, "SIGKILL"); mx.cleanup(); });
  return { mx, smtpPort, httpPort };
}

async function acceptsAMessage(smtpPort: number, testId: string): Promise<string> {
  const c = await RawSmtp.connect(smtpPort);
  expect(await c.reply()).toMatch(/^220 /);
  await c.cmd("EHLO client.test");
  expect(await c.cmd("MAIL FROM:<s@sender.test>")).toMatch(/^250/);
  expect(await c.cmd("RCPT TO:<u@example.test>")).toMatch(/^250/);
  expect(await c.cmd("DATA")).toMatch(/^354/);
  c.write(`Subject: ${testId}\r\nX-Test-Id: ${testId}\r\n\r\nhello\r\n.\r\n`);
  const reply = await c.reply();
  c.close();
  return reply;
}

describe("SIGTERM at random points of start-up", () => {
  const random = prng(SEED);
  // fractions of one measured start-up (spawn → READY): the same phases on a fast or a loaded machine
  const fractions = process.env.LIFECYCLE_FRACTIONS ? process.env.LIFECYCLE_FRACTIONS.split(",").map(Number) : Array.from({ length: RUNS }, () => random() * 1.15);
  let startupMs = 0;

  beforeAll(async () => {
    const { mx } = await embeddedMx();
    const t0 = Date.now();
    await mx.start();
    startupMs = Date.now() - t0;
    expect(await mx.stop("SIGTERM", EXIT_WAIT_MS)).toBe(0);
    console.log(`lifecycle-signals: seed ${SEED.toString(16)}, start-up to READY ${startupMs} ms on a fresh data dir`);
  });

  for (const [i, f] of fractions.entries()) {
    it(`run ${i + 1}: stops with 0 and leaves no redis-server when SIGTERM comes at ${Math.round(f * 100)}% of start-up, then starts clean on the same data dir`, async () => {
      const { mx, smtpPort, httpPort } = await embeddedMx();
      const delay = Math.round(f * startupMs);
      const starting = mx.start().catch(() => undefined); // READY may never come: the stop is the point
      await sleep(delay);
      const t = Date.now();
      const seen = mx.logs.length;
      const code = await mx.stop("SIGTERM", EXIT_WAIT_MS);
      await starting;
      const phase = mx.logs.slice(0, seen).filter((l) => l.event).at(-1)?.event ?? "nothing logged";
      console.log(`run ${i + 1}: SIGTERM ${delay} ms after spawn (after ${phase}) → exit ${code}${mx.exitSignal ? ` (${mx.exitSignal})` : ""} in ${Date.now() - t} ms`);
      if (code !== 0) console.log(mx.logs.slice(seen).map((l) => JSON.stringify(l)).join("\n"), mx.stderr.join("").slice(-1000));
      // a SIGTERM before node has run mxspool's first line ends it by the default action; nothing was started yet
      const beforeAnyCode = mx.exitSignal === "SIGTERM" && mx.logs.length === 0 && redisServersIn(mx.dir).length === 0;
      expect(beforeAnyCode ? 0 : code).toBe(0);
      expect(mx.events("READY").length > 0 && mx.events("SHUTDOWN").length === 0).toBe(false); // no READY after the stop began
      expect(redisServersIn(mx.dir)).toEqual([]);

      await mx.start();
      expect(await acceptsAMessage(smtpPort, `run-${i + 1}`)).toMatch(/^250 2\.0\.0 /);
      const health = await fetch(`http://127.0.0.1:${httpPort}/api/health`);
      expect(health.status).toBe(200);
      await health.body?.cancel();
      expect(await mx.stop("SIGTERM", EXIT_WAIT_MS)).toBe(0);
      expect(redisServersIn(mx.dir)).toEqual([]);
    });
  }
});

describe("a supervisor killed with SIGKILL", () => {
  it("takes its embedded redis-server along, and the next start on the data dir is clean", async () => {
    const { mx, smtpPort } = await embeddedMx();
    await mx.start();
    expect(redisServersIn(mx.dir)).toHaveLength(1);
    await mx.kill9();
    await waitFor("the embedded redis-server to stop with its supervisor", () => redisServersIn(mx.dir).length === 0, 15_000);
    await mx.start();
    expect(mx.events("EMBEDDED_REDIS_STALE")).toEqual([]);
    expect(await acceptsAMessage(smtpPort, "after-kill")).toMatch(/^250 2\.0\.0 /);
    expect(await mx.stop("SIGTERM", EXIT_WAIT_MS)).toBe(0);
  });
});

/**
 * mxspool as an admin runs it: zero-setup start on the embedded redis-server, a queue that
 * survives restarts, graceful SIGTERM (421 4.3.2 to new sessions, DATA in progress finishes,
 * exit 0), and a loud warning when pointed at a Redis without persistence.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import nodemailer from "nodemailer";
import { Redis } from "ioredis";
import { freePort, waitFor } from "../helpers/net.js";
import { startRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { RawSmtp } from "../helpers/smtp-client.js";
import { compose } from "../helpers/messages.js";

/** The admin token: /api/health gives its details (queues, primaries) only with it. */
const HEALTH_TOKEN = "lifecycle-admin-token-0123";
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => { for (const c of cleanups.reverse()) await c(); });

/** node processes whose parent is `pid` (forked SMTP processes; not a redis-server). */
function nodeChildren(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)]).toString().trim().split(/\s+/).map(Number)
      .filter((p) => { try { return fs.readFileSync(`/proc/${p}/comm`, "utf8").trim() === "node"; } catch { return false; } });
  } catch { return []; } // pgrep: none
}

async function send(port: number, n: number, prefix: string) {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port, ignoreTLS: true, pool: true, maxConnections: 5 });
  const replies = await Promise.all(Array.from({ length: n }, async (_, i) => (await t.sendMail({
    envelope: { from: "s@sender.test", to: [`u${i}@example.test`] }, raw: await compose({ testId: `${prefix}-${i}`, from: "s@sender.test", to: [`u${i}@example.test`] }),
  })).response));
  t.close();
  return replies;
}

describe("embedded redis-server", () => {
  it("keeps the queue across a restart and drains it when the primary returns", async () => {
    const primary = new RecordingPrimary({ port: await freePort() });
    const smtpPort = await freePort();
    const httpPort = await freePort();
    const mx = new MxspoolProcess({
      hostname: "mx2.example.test",
      // smtp.processes left to its default: on this 2-core machine, one node process (policies/process-memory.ts)
      smtp: { listen: [`127.0.0.1:${smtpPort}`], reverseLookup: false },
      http: { listen: `127.0.0.1:${httpPort}`, adminToken: HEALTH_TOKEN },
      domains: { "example.test": { primary: [`127.0.0.1:${primary.port}`] } },
      monitor: { interval: "1s", timeout: "2s" },
    });
    cleanups.push(async () => { await mx.stop(); await primary.stop(); mx.cleanup(); });
    await mx.start();
    expect(mx.events("READY")[0]).toMatchObject({ processes: 0, inProcess: true });
    expect(nodeChildren(mx.pid!)).toEqual([]); // SMTP and delivery run in the supervisor
    expect(mx.events("EMBEDDED_REDIS_UP")).toHaveLength(1);
    expect(mx.events("REDIS_NOT_PERSISTENT")).toHaveLength(0);
    expect(mx.events("REDIS_FSYNC_RELAXED")).toHaveLength(0);
    const aof = path.join(mx.dir, "data/redis");
    expect(fs.existsSync(aof)).toBe(true);
    // Redis's own AOF rewrite trigger is off: mxspool decides (policies/aof-rewrite.ts, aof-compaction.test.ts)
    const direct = new Redis({ path: path.join(aof, "redis.sock") });
    expect(await direct.config("GET", "auto-aof-rewrite-percentage")).toEqual(["auto-aof-rewrite-percentage", "0"]);
    direct.disconnect();

    const replies = await send(smtpPort, 20, "emb");
    expect(replies.every((r) => r.startsWith("250 2.0.0"))).toBe(true);
    expect(await mx.stop("SIGTERM")).toBe(0);
    expect(fs.existsSync(path.join(aof, "redis.pid"))).toBe(false); // its redis-server stopped with it

    await mx.start();
    const health = await waitFor("health with the queue", async () => {
      const r = await fetch(`http://127.0.0.1:${httpPort}/api/health`, { headers: { authorization: `Bearer ${HEALTH_TOKEN}` } }); // the details need the token
      const body = await r.json() as { queue: Record<string, { wait: number }>; primaries: Record<string, { state: string }> };
      return body.primaries["example.test"].state === "down" ? body : undefined;
    });
    expect(health.queue["example.test"].wait).toBe(20);

    await primary.start();
    await waitFor("20 messages at the primary", () => primary.received.length >= 20, 30_000);
    expect([...primary.countBy("X-Test-Id").values()].every((n) => n === 1)).toBe(true);
    expect(mx.events("PRIMARY_UP").length).toBeGreaterThanOrEqual(1);
  });
});

describe.each([
  ["2 forked SMTP processes", 2],
  ["SMTP in the supervisor (the default here)", "auto"],
] as const)("graceful shutdown, %s", (_name, processes) => {
  it("refuses new sessions with 421 4.3.2, finishes the DATA in progress, and exits 0", async () => {
    const redis = await startRedis();
    const primary = new RecordingPrimary({ port: await freePort() });
    const smtpPort = await freePort();
    const mx = new MxspoolProcess({
      hostname: "mx2.example.test",
      smtp: { listen: [`127.0.0.1:${smtpPort}`], processes, reverseLookup: false },
      http: { listen: `127.0.0.1:${await freePort()}` },
      redis: { url: redis.url },
      domains: { "example.test": { primary: [`127.0.0.1:${primary.port}`] } },
      monitor: { interval: "1s" },
    });
    cleanups.push(async () => { await mx.stop(); await primary.stop(); await redis.stop(); mx.cleanup(); });
    await mx.start();

    const inData = await RawSmtp.connect(smtpPort);
    expect(await inData.reply()).toMatch(/^220 mx2\.example\.test ESMTP mxspool/);
    expect(await inData.cmd("EHLO client.test")).toMatch(/^250/);
    expect(await inData.cmd("MAIL FROM:<s@sender.test>")).toMatch(/^250 2\.1\.0/);
    expect(await inData.cmd("RCPT TO:<slow@example.test>")).toMatch(/^250 2\.1\.5/);
    expect(await inData.cmd("DATA")).toMatch(/^354/);
    inData.write("Subject: in flight\r\nX-Test-Id: in-flight\r\n\r\nfirst half\r\n");

    const exitCode = mx.stop("SIGTERM");
    await waitFor("shutdown to begin", () => mx.events("SHUTDOWN").length > 0);
    await new Promise((r) => setTimeout(r, 300));
    const late = await RawSmtp.connect(smtpPort);
    expect(await late.reply()).toMatch(/^421 4\.3\.2 /);
    late.close();

    inData.write("second half\r\n.\r\n");
    expect(await inData.reply()).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-Z]{20}$/);
    inData.close();
    expect(await exitCode).toBe(0);

    const c = new Redis(redis.url);
    expect(await c.llen("{mxspool}:delivery-example.test:wait")).toBe(1);
    c.disconnect();
  });

  it("still exits when Redis is unreachable at shutdown, saying so", async () => {
    const redis = await startRedis();
    const mx = new MxspoolProcess({
      smtp: { listen: [`127.0.0.1:${await freePort()}`], processes: 1, shutdownGrace: "1s" },
      http: { listen: `127.0.0.1:${await freePort()}` },
      redis: { url: redis.url },
      domains: { "example.test": { primary: ["127.0.0.1:9"] } },
      monitor: { interval: "1s" },
    });
    cleanups.push(async () => { await redis.stop(); mx.cleanup(); });
    await mx.start();
    await redis.kill9();
    const code = await mx.stop("SIGTERM", 60_000);
    expect([0, 1]).toContain(code);
    if (code === 1) expect(mx.events("SHUTDOWN_FORCED").length).toBeGreaterThan(0);
    await redis.restart();
  });

  it("warns loudly when Redis has persistence off", async () => {
    const redis = await startRedis({ persistence: false });
    const mx = new MxspoolProcess({
      smtp: { listen: [`127.0.0.1:${await freePort()}`], processes: 1 },
      http: { listen: `127.0.0.1:${await freePort()}` },
      redis: { url: redis.url },
      domains: { "example.test": { primary: ["127.0.0.1:9"] } },
    });
    cleanups.push(async () => { await mx.stop(); await redis.stop(); mx.cleanup(); });
    await mx.start();
    const warn = mx.events("REDIS_NOT_PERSISTENT");
    expect(warn).toHaveLength(1);
    expect(warn[0].msg).toMatch(/LOST/);
  });
});

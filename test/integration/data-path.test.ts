/**
 * What DATA's bytes may cost and what a bounce may quote, against a real mxspool and a real
 * redis-server: a message past smtp.maxMessageSize stops being stored the moment it passes
 * the limit (Redis memory and the AOF grow by about one limit's worth, not by what the
 * client sends), alone and with several sessions at once; and a header ended by an unusual
 * empty line (CR CR LF) gets a bounce whose original headers hold no body line.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { RawSmtp } from "../helpers/smtp-client.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";

const LIMIT = 1_000_000;
const LINE = "a".repeat(76) + "\r\n";

let redis: TestRedis;
let c: Redis;
let primary: RecordingPrimary;
let senderSide: RecordingPrimary;
let mx: MxspoolProcess;
let port: number;

/** A DATA body of about `bytes` (whole 78-byte lines), with a Subject. */
function bigBody(bytes: number, tag: string): Buffer {
  const lines = Math.ceil(bytes / LINE.length);
  return Buffer.concat([Buffer.from(`Subject: ${tag}\r\nX-Test-Id: ${tag}\r\n\r\n`, "latin1"), Buffer.alloc(lines * LINE.length, LINE, "latin1")]);
}

async function session(): Promise<RawSmtp> {
  const s = await RawSmtp.connect(port);
  expect(await s.reply()).toMatch(/^220 /);
  expect(await s.cmd("EHLO client.test")).toMatch(/^250/);
  return s;
}

async function startData(s: RawSmtp, from: string, rcpt: string): Promise<void> {
  expect(await s.cmd(`MAIL FROM:<${from}>`)).toMatch(/^250/); // no SIZE= declared: the limit must hold anyway
  expect(await s.cmd(`RCPT TO:<${rcpt}>`)).toMatch(/^250/);
  expect(await s.cmd("DATA")).toMatch(/^354/);
}

async function persistence(): Promise<{ aof: number }> {
  const info = await c.info("persistence");
  return { aof: Number(/aof_current_size:(\d+)/.exec(info)![1]) };
}

/** Largest :part key and used_memory seen, sampled until `done` resolves (bounded by it). */
async function sampleWhile<T>(done: Promise<T>): Promise<{ result: T; maxPart: number; maxPartsTotal: number; maxUsed: number }> {
  let finished = false;
  let maxPart = 0, maxPartsTotal = 0, maxUsed = 0;
  const result = done.finally(() => { finished = true; });
  result.catch(() => undefined);
  while (!finished) {
    const parts = await c.keys("mxspool:msg:*:part");
    let total = 0;
    for (const k of parts) { const n = await c.strlen(k); total += n; maxPart = Math.max(maxPart, n); }
    maxPartsTotal = Math.max(maxPartsTotal, total);
    maxUsed = Math.max(maxUsed, Number(/used_memory:(\d+)/.exec(await c.info("memory"))![1]));
    await sleep(20);
  }
  return { result: await result, maxPart, maxPartsTotal, maxUsed };
}

beforeAll(async () => {
  redis = await startRedis();
  c = redis.client();
  primary = new RecordingPrimary({ port: await freePort(), rcptReply: (r) => (r.startsWith("bad@") ? { code: 550, text: "5.1.1 no such user" } : undefined) });
  await primary.start();
  senderSide = new RecordingPrimary({ port: await freePort() });
  await senderSide.start();
  port = await freePort();
  mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort: port, redisUrl: redis.url, primaryPort: primary.port, processes: 1 }, {
    smtp: { maxMessageSize: LIMIT, socketTimeout: "60s", sessionTimeout: "120s" },
    bounces: { relay: `127.0.0.1:${senderSide.port}` },
    delivery: { retry: { first: "500ms", max: "1s" } },
  }));
  await mx.start();
});

afterAll(async () => {
  await mx?.stop();
  await primary?.stop();
  await senderSide?.stop();
  await redis?.stop();
  mx?.cleanup();
});

describe("a message past smtp.maxMessageSize", () => {
  it("is refused with 552 5.3.4 after ~20 MB of DATA while Redis and its AOF grow by no more than about one limit, and the session then delivers a normal message", async () => {
    const before = await persistence();
    const s = await session();
    await startData(s, "s@sender.test", "user@example.test");
    const body = bigBody(20 * LIMIT, "too-big-1");
    s.write(body);
    s.write("\r\n.\r\n");
    const seen = await sampleWhile(s.reply(120_000));
    expect(seen.result).toMatch(/^552 5\.3\.4 /);
    const after = await persistence();
    // what a too-big message may cost: about one limit's worth (plus a spill chunk), never what was sent
    expect(seen.maxPart).toBeLessThanOrEqual(2 * LIMIT);
    expect(after.aof - before.aof).toBeLessThanOrEqual(2 * LIMIT);
    expect(await c.keys("mxspool:msg:*:part")).toEqual([]);
    // the event's log line reaches this process through the child's stdout, after the reply
    const [refused] = await mx.waitForEvents("SMTP_TRANSACTION", 1, (e) => e.reason === "message-too-big");
    expect(refused).toMatchObject({ decision: "reject", code: 552 });
    expect(refused!.size as number).toBeGreaterThanOrEqual(body.length);

    // the same session goes on: a normal message is accepted and delivered
    await startData(s, "s@sender.test", "user@example.test");
    s.write("Subject: after\r\nX-Test-Id: after-too-big\r\n\r\nsmall\r\n.\r\n");
    expect(await s.reply(30_000)).toMatch(/^250 2\.0\.0 /);
    s.close();
    await waitFor("the normal message at the primary", () => primary.received.some((m) => m.body.includes("X-Test-Id: after-too-big")), 30_000);
  });

  it("costs each of several concurrent sessions no more than about one limit in Redis", async () => {
    const before = await persistence();
    const sessions = await Promise.all([1, 2, 3].map(async () => { const s = await session(); await startData(s, "s@sender.test", "user@example.test"); return s; }));
    const replies = Promise.all(sessions.map((s, i) => {
      s.write(bigBody(6 * LIMIT, `concurrent-${i}`));
      s.write("\r\n.\r\n");
      return s.reply(120_000);
    }));
    const seen = await sampleWhile(replies);
    for (const r of seen.result) expect(r).toMatch(/^552 5\.3\.4 /);
    sessions.forEach((s) => s.close());
    expect(seen.maxPart).toBeLessThanOrEqual(2 * LIMIT);
    expect(seen.maxPartsTotal).toBeLessThanOrEqual(3 * 2 * LIMIT);
    expect((await persistence()).aof - before.aof).toBeLessThanOrEqual(3 * 2 * LIMIT);
    expect(await c.keys("mxspool:msg:*:part")).toEqual([]);
  });
});

describe("the original headers a bounce quotes", () => {
  it("hold no body line when the header ends with CR CR LF (one header-end rule for ingress and the store)", async () => {
    const s = await session();
    await startData(s, "alice@sender.test", "bad@example.test");
    // ingress sees the header end at the "\r\r\n" line; a store splitting at CRLF CRLF would
    // quote the body up to the next empty line as headers, in a bounce to the (forgeable) sender
    s.write("From: <alice@sender.test>\r\nSubject: crafted\r\nX-Test-Id: crafted-1\r\n\r\r\n"
      + "BODY-LINE-1 Dear customer, your account is locked: http://phish.test/\r\nBODY-LINE-2\r\n\r\nBODY-LINE-3\r\n.\r\n");
    expect(await s.reply(30_000)).toMatch(/^250 2\.0\.0 /);
    s.close();
    await waitFor("the bounce at the sender's side", () => senderSide.received.some((m) => m.body.includes("X-Test-Id: crafted-1")), 30_000);
    const dsn = senderSide.received.find((m) => m.body.includes("X-Test-Id: crafted-1"))!;
    expect(dsn.rcpts).toEqual(["alice@sender.test"]);
    const quoted = /Content-Type: text\/rfc822-headers\r\n\r\n([\s\S]*?)\r\n--/.exec(dsn.body);
    expect(quoted, dsn.body).not.toBeNull();
    expect(quoted![1]).toMatch(/Subject: crafted\r\nX-Test-Id: crafted-1/);
    expect(dsn.body).not.toContain("BODY-LINE");
  });
});

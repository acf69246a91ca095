/**
 * CHUNKING / BDAT (RFC 3030) over raw sockets against a real mxspool and a real Redis (no
 * client at hand sends BDAT: swaks has no option for it, nodemailer's client never does).
 * Chunks are raw bytes: a boundary may split a CRLF, a line may start with "." and nothing
 * is unstuffed; the message is stored and delivered byte for byte, and BDAT goes through
 * the same accept path as DATA (size limit, nothing left in Redis on refusal).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { RawSmtp } from "../helpers/smtp-client.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { stripFirstReceived } from "../helpers/messages.js";
import { decodeFramed } from "../../src/store/frame-codec.js";

let redis: TestRedis;
let db: Redis;
let primary: RecordingPrimary;
let mx: MxspoolProcess;
let port: number;

const MAX_SIZE = 600_000;

beforeAll(async () => {
  redis = await startRedis();
  db = redis.client();
  primary = new RecordingPrimary({ port: await freePort() });
  await primary.start();
  port = await freePort();
  const closedPort = await freePort(); // held.test's primary never answers: its messages stay stored
  mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort: port, redisUrl: redis.url, primaryPort: primary.port, processes: 1 }, {
    smtp: { maxMessageSize: MAX_SIZE, maxErrorsPerSession: 30, commandTimeout: "1s", socketTimeout: "5s" },
    domains: { "held.test": { primary: [`127.0.0.1:${closedPort}`] } },
  }));
  await mx.start();
});

afterAll(async () => {
  await mx?.stop();
  await primary?.stop();
  db?.disconnect();
  await redis?.stop();
  mx?.cleanup();
});

async function session(): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  expect(await c.reply()).toMatch(/^220 /);
  expect(await c.cmd("EHLO client.test")).toMatch(/^250/);
  return c;
}

async function envelope(c: RawSmtp, rcpt: string): Promise<void> {
  expect(await c.cmd("MAIL FROM:<s@sender.test>")).toMatch(/^250 2\.1\.0/);
  expect(await c.cmd(`RCPT TO:<${rcpt}>`)).toMatch(/^250 2\.1\.5/);
}

const bdat = (data: Buffer | string, last = false) => {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data, "latin1");
  return Buffer.concat([Buffer.from(`BDAT ${b.length}${last ? " LAST" : ""}\r\n`), b]);
};

const queuedId = (r: string) => /^250 2\.0\.0 Ok: queued as (\S+)/.exec(r)?.[1];
const spoolKeys = async () => (await db.keys("mxspool:msg:*")).sort();
/** Waits until the first chunk's bytes are in Redis, so that what follows has something to remove. */
const streamedIntoRedis = (before: string[]) => waitFor("the first chunk streamed into Redis", async () => (await spoolKeys()).length > before.length, 20_000);

/** A message whose chunks split a CRLF and start right before lines that begin with dots. */
function dottedMessage(testId: string, rcpt: string): { raw: Buffer; chunks: Buffer[] } {
  const raw = Buffer.from(
    `From: s@sender.test\r\nTo: ${rcpt}\r\nSubject: chunked\r\nX-Test-Id: ${testId}\r\n\r\n` +
    "first line\r\n.leading dot\r\n..two dots\r\n.\r\n. \r\nlast line\r\n", "latin1");
  const crlfSplit = raw.indexOf("first line\r\n") + "first line\r".length; // chunk 1 ends between CR and LF
  const dotSplit = raw.indexOf("..two dots"); // chunk 3 starts with a line that starts with ".."
  return { raw, chunks: [raw.subarray(0, crlfSplit), raw.subarray(crlfSplit, dotSplit), raw.subarray(dotSplit)] };
}

describe("CHUNKING / BDAT (RFC 3030)", () => {
  it("advertises CHUNKING in the EHLO reply, and no BINARYMIME", async () => {
    const c = await RawSmtp.connect(port);
    await c.reply();
    const ehlo = await c.cmd("EHLO client.test");
    c.close();
    expect(ehlo.split("\n").map((l) => l.slice(4))).toContain("CHUNKING");
    expect(ehlo).not.toContain("BINARYMIME");
  });

  it("stores a message sent in 3 chunks byte for byte: a CRLF split across chunks, leading dots not unstuffed", async () => {
    const { raw, chunks } = dottedMessage("bdat-stored", "u@held.test");
    const c = await session();
    await envelope(c, "u@held.test");
    c.write(bdat(chunks[0]));
    expect(await c.reply()).toBe(`250 2.0.0 ${chunks[0].length} octets received`);
    c.write(bdat(chunks[1]));
    expect(await c.reply()).toBe(`250 2.0.0 ${chunks[1].length} octets received`);
    c.write(bdat(chunks[2], true));
    const id = queuedId(await c.reply(30_000));
    c.close();
    expect(id).toBeTruthy();
    const stored = await db.getBuffer(`mxspool:msg:{${id}}:raw`);
    // stored compressed in frames (spool format 2): the message is what the value decodes to
    expect(decodeFramed(stored!).toString("latin1")).toBe(raw.toString("latin1"));
  });

  it("delivers it to the primary byte for byte (dot-stuffed on the way out, unstuffed by the primary)", async () => {
    const { raw, chunks } = dottedMessage("bdat-delivered", "u@example.test");
    const c = await session();
    await envelope(c, "u@example.test");
    for (const [i, ch] of chunks.entries()) {
      c.write(bdat(ch, i === chunks.length - 1));
      expect(await c.reply(30_000)).toMatch(i === chunks.length - 1 ? /^250 2\.0\.0 Ok: queued as / : /^250 2\.0\.0 \d+ octets received$/);
    }
    c.close();
    const got = await waitFor("delivery of the BDAT message", () => primary.received.find((m) => m.body.includes("X-Test-Id: bdat-delivered")), 30_000);
    expect(got.rcpts).toEqual(["u@example.test"]);
    expect(stripFirstReceived(got.raw).rest.toString("latin1")).toBe(raw.toString("latin1"));
  });

  it("ends a message with BDAT 0 LAST", async () => {
    const c = await session();
    await envelope(c, "zero@example.test");
    const raw = "Subject: zero\r\nX-Test-Id: bdat-zero\r\n\r\nbody\r\n";
    c.write(bdat(raw));
    expect(await c.reply()).toMatch(/^250 2\.0\.0 \d+ octets received/);
    expect(await c.cmd("BDAT 0 LAST")).toMatch(/^250 2\.0\.0 Ok: queued as /);
    c.close();
    const got = await waitFor("delivery of the BDAT 0 LAST message", () => primary.received.find((m) => m.body.includes("X-Test-Id: bdat-zero")), 30_000);
    expect(stripFirstReceived(got.raw).rest.toString("latin1")).toBe(raw);
  });

  it("takes a whole pipelined transaction, chunks and all, in one write, then a second one", async () => {
    const c = await session();
    const raw = Buffer.from("Subject: piped\r\nX-Test-Id: bdat-piped\r\n\r\nBDAT 5\r\nRSET\r\n.\r\n", "latin1"); // commands inside the data are data
    c.write(Buffer.concat([
      Buffer.from("MAIL FROM:<s@sender.test>\r\nRCPT TO:<piped@example.test>\r\n"),
      bdat(raw.subarray(0, 20)), bdat(raw.subarray(20, 45)), bdat(raw.subarray(45), true),
      Buffer.from("MAIL FROM:<s@sender.test>\r\nRCPT TO:<piped2@example.test>\r\n"),
      bdat("Subject: piped 2\r\nX-Test-Id: bdat-piped-2\r\n\r\nx\r\n", true),
      Buffer.from("NOOP\r\n"),
    ]));
    const replies: string[] = [];
    for (let i = 0; i < 9; i++) replies.push(await c.reply(30_000));
    c.close();
    expect(replies.map((r) => r.slice(0, 9))).toEqual(["250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.0.0", "250 2.0.0", "250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.0.0"]);
    expect(replies[4]).toMatch(/queued as/);
    expect(replies[7]).toMatch(/queued as/);
    const got = await waitFor("delivery of the pipelined message", () => primary.received.find((m) => m.body.includes("X-Test-Id: bdat-piped\r")), 30_000);
    expect(stripFirstReceived(got.raw).rest.toString("latin1")).toBe(raw.toString("latin1"));
  });

  it("refuses the chunk that takes the message over the size limit with 552 5.3.4, discards later chunks, leaves nothing in Redis", async () => {
    const before = await spoolKeys();
    const line = "x".repeat(78) + "\r\n";
    const big = Buffer.from("Subject: big\r\n\r\n" + line.repeat(Math.ceil(400_000 / line.length)), "latin1");
    const c = await session();
    await envelope(c, "big@example.test");
    c.write(bdat(big)); // over 256 KB: already streamed into Redis
    expect(await c.reply(30_000)).toMatch(/^250 2\.0\.0 \d+ octets received/);
    await streamedIntoRedis(before);
    c.write(Buffer.concat([bdat(big), bdat("more\r\n", true), Buffer.from("NOOP\r\n")])); // the client pipelined past the failure
    expect(await c.reply(30_000)).toMatch(/^552 5\.3\.4 /);
    expect(await c.reply(30_000)).toMatch(/^503 5\.5\.1 /);
    expect(await c.reply()).toMatch(/^250 2\.0\.0/); // NOOP: in step after the discarded bytes
    expect(await spoolKeys()).toEqual(before);
    // a message already known to be too big is refused too, from its first chunk
    await envelope(c, "big@example.test");
    c.write(Buffer.from(`BDAT ${MAX_SIZE + 1} LAST\r\n`));
    c.write(Buffer.alloc(MAX_SIZE + 1, "y"));
    expect(await c.reply(30_000)).toMatch(/^552 5\.3\.4 /);
    expect(await c.cmd("NOOP")).toMatch(/^250/);
    c.close();
    expect(await spoolKeys()).toEqual(before);
    const tooBig = await mx.waitForEvents("SMTP_TRANSACTION", 2, (l) => Boolean(l.rcpts && (l.rcpts as string[]).includes("big@example.test")));
    expect(tooBig.map((l) => l.reason)).toEqual(["message-too-big", "message-too-big"]);
  });

  it("answers BDAT without MAIL or RCPT with 503 5.5.1 and skips its bytes", async () => {
    const c = await session();
    c.write(bdat("QUIT\r\n", true)); // data, not a command
    expect(await c.reply()).toMatch(/^503 5\.5\.1 /);
    expect(await c.cmd("MAIL FROM:<s@sender.test>")).toMatch(/^250 2\.1\.0/);
    c.write(bdat("RSET\r\n"));
    expect(await c.reply()).toMatch(/^503 5\.5\.1 /);
    expect(await c.cmd("NOOP")).toMatch(/^250/);
    c.close();
  });

  it("answers a malformed BDAT with 501 5.5.4", async () => {
    const c = await session();
    await envelope(c, "syntax@example.test");
    for (const cmd of ["BDAT", "BDAT abc", "BDAT -5", "BDAT 10 FIRST", "BDAT 1e3", "BDAT 99999999999999999999 LAST", "BDAT 5 LAST extra"]) {
      expect(await c.cmd(cmd), cmd).toMatch(/^501 5\.5\.4 /);
    }
    expect(await c.cmd("NOOP")).toMatch(/^250/);
    c.close();
  });

  it("refuses DATA and RCPT after BDAT in the same transaction with 503 5.5.1", async () => {
    const c = await session();
    await envelope(c, "mixed@example.test");
    c.write(bdat("Subject: mixed\r\n"));
    expect(await c.reply()).toMatch(/^250 2\.0\.0/);
    expect(await c.cmd("DATA")).toMatch(/^503 5\.5\.1 /);
    expect(await c.cmd("RCPT TO:<other@example.test>")).toMatch(/^503 5\.5\.1 /);
    c.write(bdat("X-Test-Id: bdat-mixed\r\n\r\nbody\r\n", true));
    expect(await c.reply(30_000)).toMatch(/^250 2\.0\.0 Ok: queued as /);
    c.close();
    const got = await waitFor("delivery of the mixed message", () => primary.received.find((m) => m.body.includes("X-Test-Id: bdat-mixed")), 30_000);
    expect(got.rcpts).toEqual(["mixed@example.test"]);
  });

  it("discards the transaction on RSET between chunks; a DATA message on the same session is then accepted and delivered", async () => {
    const before = await spoolKeys();
    const c = await session();
    await envelope(c, "reset@example.test");
    const line = "z".repeat(78) + "\r\n";
    c.write(bdat("Subject: reset\r\nX-Test-Id: bdat-reset\r\n\r\n" + line.repeat(4000))); // over 256 KB: in Redis already
    expect(await c.reply(30_000)).toMatch(/^250 2\.0\.0/);
    await streamedIntoRedis(before);
    expect(await c.cmd("RSET")).toMatch(/^250/);
    c.write(bdat("x\r\n\r", true));
    expect(await c.reply()).toMatch(/^503 5\.5\.1 /); // and its bytes skipped
    expect(await c.cmd("NOOP")).toMatch(/^250/);
    await waitFor("the discarded chunks removed from Redis", async () => JSON.stringify(await spoolKeys()) === JSON.stringify(before), 20_000);
    await envelope(c, "after@example.test");
    expect(await c.cmd("DATA")).toMatch(/^354/);
    c.write("Subject: after\r\nX-Test-Id: bdat-after-data\r\n\r\n..dot\r\n.\r\n");
    expect(await c.reply(30_000)).toMatch(/^250 2\.0\.0 Ok: queued as /);
    c.close();
    await waitFor("delivery of the DATA message", () => primary.received.some((m) => m.body.includes("X-Test-Id: bdat-after-data")), 30_000);
    await sleep(500);
    expect(primary.received.some((m) => m.body.includes("X-Test-Id: bdat-reset"))).toBe(false);
  });

  it("does not cut a chunk that trickles in for longer than commandTimeout", async () => {
    const c = await session();
    await envelope(c, "slow@example.test");
    const raw = Buffer.from("Subject: slow\r\nX-Test-Id: bdat-slow\r\n\r\n" + "slow line\r\n".repeat(20), "latin1");
    c.write(`BDAT ${raw.length} LAST\r\n`);
    const pieces = 6; // 6 × 400 ms: well past the 1 s command timeout
    for (let i = 0; i < pieces; i++) {
      c.write(raw.subarray(Math.floor((i * raw.length) / pieces), Math.floor(((i + 1) * raw.length) / pieces)));
      await sleep(400);
    }
    expect(await c.reply(30_000)).toMatch(/^250 2\.0\.0 Ok: queued as /);
    c.close();
  });

  it("drops the stored part when the client goes away between chunks", async () => {
    const before = await spoolKeys();
    const c = await session();
    await envelope(c, "gone@example.test");
    c.write(bdat("Subject: gone\r\n\r\n" + ("g".repeat(78) + "\r\n").repeat(4000)));
    expect(await c.reply(30_000)).toMatch(/^250 2\.0\.0/);
    await streamedIntoRedis(before);
    c.close();
    await waitFor("the abandoned chunks removed from Redis", async () => JSON.stringify(await spoolKeys()) === JSON.stringify(before), 20_000);
    expect(mx.exitCode).toBeNull();
  });
});

/**
 * The door, over real sockets against a real mxspool: never an open relay (the classic
 * tricks), recipients checked in each mode, every limit answered with its exact code,
 * STARTTLS, protocol hygiene, one log line per transaction and refusals counted by reason.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { RawSmtp } from "../helpers/smtp-client.js";

let redis: TestRedis;
let primary: RecordingPrimary;   // for example.test: records deliveries
let verifyPrimary: RecordingPrimary; // for verify.test: knows alice and bob only
let mx: MxspoolProcess;
let port: number;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-ingress-"));
const usersFile = path.join(tmp, "users.txt");

async function session(helo = "client.test"): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  expect(await c.reply()).toMatch(/^220 /);
  expect(await c.cmd(`EHLO ${helo}`)).toMatch(/^250/);
  return c;
}

/** RCPT reply for one address in a fresh transaction. */
async function rcpt(address: string): Promise<string> {
  const c = await session();
  expect(await c.cmd("MAIL FROM:<s@sender.test>")).toMatch(/^250 2\.1\.0/);
  const r = await c.cmd(`RCPT TO:<${address}>`);
  c.close();
  return r;
}

async function sendRaw(body: string, opts: { rcpt?: string; size?: number } = {}): Promise<string> {
  const c = await session();
  expect(await c.cmd(`MAIL FROM:<s@sender.test>${opts.size ? ` SIZE=${opts.size}` : ""}`)).toMatch(/^250/);
  expect(await c.cmd(`RCPT TO:<${opts.rcpt ?? "user@example.test"}>`)).toMatch(/^250/);
  expect(await c.cmd("DATA")).toMatch(/^354/);
  c.write(body + "\r\n.\r\n");
  const r = await c.reply(30_000);
  c.close();
  return r;
}

beforeAll(async () => {
  redis = await startRedis();
  primary = new RecordingPrimary({ port: await freePort() });
  await primary.start();
  verifyPrimary = new RecordingPrimary({
    port: await freePort(),
    rcptReply: (r) => (["alice@verify.test", "bob@verify.test"].includes(r) ? undefined : { code: 550, text: "5.1.1 no such user" }),
  });
  await verifyPrimary.start();
  fs.writeFileSync(usersFile, "# users\nann@file.test\n");
  port = await freePort();
  mx = new MxspoolProcess({
    hostname: "mx2.example.test",
    smtp: {
      listen: [`127.0.0.1:${port}`], processes: 1, reverseLookup: false,
      maxMessageSize: 200_000, maxRecipients: 5, maxHeaderSize: 4096, maxLineLength: 2000, maxReceivedHeaders: 10,
      maxConnectionsPerIp: 20, maxTransactionsPerSession: 3, maxErrorsPerSession: 5,
      socketTimeout: "3s", commandTimeout: "1500ms", sessionTimeout: "20s",
      connectionRatePerMinute: 0, limitExemptions: [],
      tls: { requireTlsFrom: ["127.0.0.2"] },
    },
    http: { listen: `127.0.0.1:${await freePort()}` },
    redis: { url: redis.url },
    domains: {
      "example.test": { primary: [`127.0.0.1:${primary.port}`] },
      "list.test": { primary: [`127.0.0.1:${primary.port}`], recipients: ["joe@list.test", "Jane@List.test"] },
      "file.test": { primary: [`127.0.0.1:${primary.port}`], recipients: { file: usersFile } },
      "verify.test": { primary: [`127.0.0.1:${verifyPrimary.port}`], recipients: { verify: true, whenUnknown: "defer" } },
      "verifyaccept.test": { primary: ["127.0.0.1:9"], recipients: { verify: true, whenUnknown: "accept" } },
    },
    monitor: { interval: "1s", timeout: "1s" },
  });
  await mx.start();
});

afterAll(async () => {
  await mx?.stop();
  await primary?.stop();
  await verifyPrimary?.stop();
  await redis?.stop();
  mx?.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("never an open relay", () => {
  it.each([
    "user@other.test",
    "user%other.test@example.test",
    "other.test!user@example.test",
    "\"user@other.test\"@example.test",
    "user@other.test@example.test",
    "user@[127.0.0.1]",
    "user@example.test.other.test",
    "user@sub.example.test",
    "user@EXAMPLE.TEST.OTHER.TEST",
  ])("refuses RCPT TO:<%s>", async (address) => {
    expect(await rcpt(address)).toMatch(/^5\d\d 5\.(7\.1|1\.3|5\.\d|1\.\d) /);
  });

  it("refuses source routes", async () => {
    const c = await session();
    await c.cmd("MAIL FROM:<s@sender.test>");
    expect(await c.cmd("RCPT TO:<@example.test:user@other.test>")).toMatch(/^5\d\d 5\./);
    c.close();
  });

  it("treats case and trailing dots consistently: case-insensitive domains, a trailing dot is a syntax error for every domain", async () => {
    expect(await rcpt("user@EXAMPLE.test")).toMatch(/^250 2\.1\.5/);
    expect(await rcpt("user@example.test.")).toMatch(/^501 5\.1\.3 /);
    expect(await rcpt("user@other.test.")).toMatch(/^501 5\.1\.3 /);
  });

  it("never queues anything for a domain that is not configured", async () => {
    const c = new Redis(redis.url);
    const queues = new Set((await c.keys("{mxspool}:*:meta")).map((k) => k.split(":")[1]));
    for (const q of queues) expect(["delivery-example.test", "delivery-list.test", "delivery-file.test", "delivery-verify.test", "delivery-verifyaccept.test", "dsn", "alerts"]).toContain(q);
    c.disconnect();
  });
});

describe("recipients", () => {
  it("list: only the listed addresses, case-insensitively", async () => {
    expect(await rcpt("joe@list.test")).toMatch(/^250/);
    expect(await rcpt("jane@list.test")).toMatch(/^250/);
    expect(await rcpt("ghost@list.test")).toMatch(/^550 5\.1\.1 /);
  });

  it("file: reloaded when it changes", async () => {
    expect(await rcpt("ann@file.test")).toMatch(/^250/);
    expect(await rcpt("new@file.test")).toMatch(/^550 5\.1\.1 /);
    fs.appendFileSync(usersFile, "new@file.test\n");
    await waitFor("the file reload", async () => /^250/.test(await rcpt("new@file.test")), 15_000, 500);
  });

  it("verify: asks the primary while it is up, then answers from the cache while it is down", async () => {
    await waitFor("verify.test primary up", async () => (await redis.client().hget("mxspool:primary:verify.test", "state")) === "up", 10_000);
    expect(await rcpt("alice@verify.test")).toMatch(/^250 2\.1\.5/);
    expect(await rcpt("mallory@verify.test")).toMatch(/^550 5\.1\.1 /);
    expect(await mx.waitForEvents("RCPT_CALLOUT", 2)).toHaveLength(2);
    await verifyPrimary.stop();
    await waitFor("verify.test primary down", async () => (await redis.client().hget("mxspool:primary:verify.test", "state")) === "down", 10_000);
    expect(await rcpt("alice@verify.test")).toMatch(/^250 2\.1\.5/);       // known good
    expect(await rcpt("mallory@verify.test")).toMatch(/^550 5\.1\.1 /);    // known bad
    expect(await rcpt("bob@verify.test")).toMatch(/^450 4\.2\.0 /);        // unknown: defer
    expect(await rcpt("anyone@verifyaccept.test")).toMatch(/^250 2\.1\.5/); // unknown: accept
  });
});

describe("limits", () => {
  it("SIZE is advertised and enforced on the declared size and on the bytes sent", async () => {
    const c = await session();
    c.write("EHLO client.test\r\n");
    expect(await c.reply()).toMatch(/250[ -]SIZE 200000/);
    expect(await c.cmd("MAIL FROM:<s@sender.test> SIZE=300000")).toMatch(/^552 5\.3\.4 /);
    c.close();
    expect(await sendRaw("Subject: big\r\n\r\n" + ("x".repeat(998) + "\r\n").repeat(250))).toMatch(/^552 5\.3\.4 /);
  });

  it("recipients per message: 452 4.5.3 past the limit", async () => {
    const c = await session();
    await c.cmd("MAIL FROM:<s@sender.test>");
    for (let i = 0; i < 5; i++) expect(await c.cmd(`RCPT TO:<u${i}@example.test>`)).toMatch(/^250/);
    expect(await c.cmd("RCPT TO:<u5@example.test>")).toMatch(/^452 4\.5\.3 /);
    c.close();
  });

  it("header size, line length, NUL bytes and mail loops", async () => {
    expect(await sendRaw("Subject: h\r\n" + "X-Pad: " + "y".repeat(900) + "\r\n".repeat(1) + ("X-Pad: " + "y".repeat(900) + "\r\n").repeat(5) + "\r\nbody")).toMatch(/^552 5\.3\.4 .*header/);
    expect(await sendRaw("Subject: l\r\n\r\n" + "z".repeat(2500))).toMatch(/^552 5\.3\.4 .*line/);
    expect(await sendRaw("Subject: n\r\n\r\nnul\x00here")).toMatch(/^554 5\.6\.0 /);
    expect(await sendRaw("Received: from a by b; x\r\n".repeat(11) + "Subject: loop\r\n\r\nloop")).toMatch(/^554 5\.4\.6 /);
    expect(await sendRaw("Received: from a by b; x\r\n".repeat(10) + "Subject: ok\r\n\r\nten hops is fine")).toMatch(/^250 2\.0\.0 /);
  });

  it("normalises bare LF to CRLF instead of taking it as a line end", async () => {
    const r = await sendRaw("Subject: bare\r\nX-Test-Id: bare-lf\r\n\r\nline one\nline two\n.\nnot the end\r\nreal end");
    expect(r).toMatch(/^250 2\.0\.0 /);
    await waitFor("bare-lf delivered", () => primary.received.find((m) => m.body.includes("X-Test-Id: bare-lf")), 15_000);
    const got = primary.received.find((m) => m.body.includes("X-Test-Id: bare-lf"))!;
    expect(got.body).toContain("line one\r\nline two\r\n.\r\nnot the end\r\nreal end");
  });

  it("transactions per session: 421 4.7.0 past the limit", async () => {
    const c = await session();
    for (let i = 0; i < 3; i++) { expect(await c.cmd("MAIL FROM:<s@sender.test>")).toMatch(/^250/); expect(await c.cmd("RSET")).toMatch(/^250/); }
    expect(await c.cmd("MAIL FROM:<s@sender.test>")).toMatch(/^421 4\.7\.0 /);
    c.close();
  });

  it("errors per session: 421 4.7.0 after the fifth error", async () => {
    const c = await session();
    const replies: string[] = [];
    for (let i = 0; i < 5; i++) replies.push(await c.cmd("BOGUS"));
    expect(replies.every((r) => /^500 5\.5\.2 /.test(r))).toBe(true);
    expect(await c.reply()).toMatch(/^421 4\.7\.0 Too many errors/);
    await waitFor("connection closed", () => c.closed, 5000);
  });

  it("connections per client IP: 421 4.7.0 past the limit", async () => {
    const open: RawSmtp[] = [];
    for (let i = 0; i < 20; i++) { const c = await RawSmtp.connect(port); expect(await c.reply()).toMatch(/^220/); open.push(c); }
    const extra = await RawSmtp.connect(port);
    expect(await extra.reply()).toMatch(/^421 4\.7\.0 .*from your address/);
    open.forEach((c) => c.close());
    extra.close();
    await sleep(300);
  });

  it("idle timeout and command timeout (slowloris) cut the session with 421 4.4.2", async () => {
    const idle = await session();
    expect(await idle.reply(10_000)).toMatch(/^421 4\.4\.2 /);
    const slow = await session();
    const t0 = Date.now();
    for (const ch of "MAIL FROM:<s@sender.test>") { if (slow.closed) break; slow.write(ch); await sleep(250); } // a byte every 250 ms keeps the socket busy
    expect(await slow.reply(10_000)).toMatch(/^421 4\.4\.2 Command timeout/);
    expect(Date.now() - t0).toBeLessThan(6000);
  });

  it("counts every refusal by reason in Redis", async () => {
    const c = redis.client();
    const h = await c.hgetall("mxspool:stats:rejected");
    for (const reason of ["relay-domain", "relay-trick", "ip-literal", "unknown-recipient", "too-many-recipients", "message-too-big", "mail-loop", "nul-byte", "line-too-long", "header-too-big", "too-many-transactions", "too-many-connections-ip", "unverified-recipient"]) {
      expect(Number(h[reason]), reason).toBeGreaterThan(0);
    }
  });
});

describe("STARTTLS and protocol hygiene", () => {
  it("advertises the extensions and takes pipelined commands", async () => {
    const c = await RawSmtp.connect(port);
    await c.reply();
    const ehlo = await c.cmd("EHLO client.test");
    for (const ext of ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "STARTTLS", "SIZE 200000"]) expect(ehlo).toContain(ext);
    c.write("MAIL FROM:<s@sender.test>\r\nRCPT TO:<a@example.test>\r\nRCPT TO:<nobody@other.test>\r\nDATA\r\n");
    expect(await c.reply()).toMatch(/^250 2\.1\.0/);
    expect(await c.reply()).toMatch(/^250 2\.1\.5/);
    expect(await c.reply()).toMatch(/^550 5\.7\.1 /);
    expect(await c.reply()).toMatch(/^354/);
    c.write("Subject: piped\r\nX-Test-Id: piped\r\n\r\n..dot-stuffed line\r\n.\r\nRSET\r\nMAIL FROM:<s2@sender.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n");
    expect(await c.reply()).toMatch(/^250 2\.0\.0 /);
    expect(await c.reply()).toMatch(/^250/);
    expect(await c.reply()).toMatch(/^250 2\.1\.0/);
    expect(await c.reply()).toMatch(/^250 2\.1\.5/);
    expect(await c.reply()).toMatch(/^354/);
    c.write("Subject: second\r\nX-Test-Id: second-txn\r\n\r\nsecond\r\n.\r\nQUIT\r\n");
    expect(await c.reply()).toMatch(/^250 2\.0\.0 /);
    await waitFor("both delivered", () => primary.received.filter((m) => /X-Test-Id: (piped|second-txn)/.test(m.body)).length === 2, 15_000);
    expect(primary.received.find((m) => m.body.includes("X-Test-Id: piped"))!.body).toContain("\r\n\r\n.dot-stuffed line\r\n");
  });

  it("refuses an invalid HELO name with 501 5.5.2", async () => {
    const c = await session("bad_host!name");
    expect(await c.cmd("MAIL FROM:<s@sender.test>")).toMatch(/^501 5\.5\.2 /);
    c.close();
  });

  it("encrypts with STARTTLS and records the TLS version and cipher in the Received header", async () => {
    const r = spawnSync("swaks", ["--server", `127.0.0.1:${port}`, "--tls", "--from", "s@sender.test", "--to", "tls@example.test", "--header", "X-Test-Id: tls-1", "--helo", "client.test"], { encoding: "utf8" });
    expect(r.stdout).toMatch(/<~ {2}250 2\.0\.0 Ok: queued as/); // swaks marks lines inside TLS with ~
    await waitFor("tls message delivered", () => primary.received.find((m) => m.body.includes("X-Test-Id: tls-1")), 15_000);
    const body = primary.received.find((m) => m.body.includes("X-Test-Id: tls-1"))!.body;
    expect(body).toMatch(/^Received: from client\.test \(unknown \[127\.0\.0\.1\]\)\r\n\t\(using TLSv1\.[23] with cipher [A-Z0-9_-]+\)\r\n\tby mx2\.example\.test \(mxspool\) with ESMTPS id /);
  });

  it("requires STARTTLS from the clients listed in requireTlsFrom", async () => {
    const c = await RawSmtp.connect(port, "127.0.0.1", "127.0.0.2");
    await c.reply();
    await c.cmd("EHLO client.test");
    expect(await c.cmd("MAIL FROM:<s@sender.test>")).toMatch(/^530 5\.7\.0 /);
    c.close();
  });

  it("leaves one SMTP_TRANSACTION log line per transaction, accepted or not", async () => {
    const before = mx.events("SMTP_TRANSACTION").length;
    const c = await session();
    await c.cmd("MAIL FROM:<logged@sender.test>");
    await c.cmd("RCPT TO:<x@other.test>");
    await c.cmd("QUIT");
    await waitFor("the log line", () => mx.events("SMTP_TRANSACTION").length === before + 1, 5000);
    const line = mx.events("SMTP_TRANSACTION").at(-1)!;
    expect(line).toMatchObject({ from: "logged@sender.test", decision: "reject", reason: "relay-domain", client: "127.0.0.1", helo: "client.test" });
  });
});

describe("per-IP rate limit shared through Redis", () => {
  it("holds across two mxspool nodes", async () => {
    const ports = [await freePort(), await freePort()];
    const nodes = ports.map((p) => new MxspoolProcess({
      smtp: { listen: [`127.0.0.1:${p}`], processes: 1, reverseLookup: false, connectionRatePerMinute: 6, limitExemptions: [] },
      http: { listen: "127.0.0.1:0" },
      redis: { url: redis.url, prefix: "ratetest" },
      domains: { "example.test": { primary: [`127.0.0.1:${primary.port}`] } },
    }));
    try {
      await Promise.all(nodes.map((n) => n.start(["--roles", "smtp"])));
      // stay inside one minute window
      const sec = new Date().getSeconds();
      if (sec > 50) await sleep((61 - sec) * 1000);
      const greetings: string[] = [];
      for (let i = 0; i < 8; i++) {
        const c = await RawSmtp.connect(ports[i % 2]);
        greetings.push(await c.reply());
        c.close();
      }
      expect(greetings.filter((g) => /^220 /.test(g))).toHaveLength(6);
      expect(greetings.slice(6).every((g) => /^421 4\.7\.0 .*rate limit/.test(g))).toBe(true);
    } finally {
      await Promise.all(nodes.map(async (n) => { await n.stop(); n.cleanup(); }));
    }
  });
});

/**
 * Content filtering with the real scanners: a clamd started here on a tiny offline signature
 * database (EICAR and a payload hidden in a zip, built with sigtool), a spamd with Debian's
 * rules (local tests only) and one test rule for a known "borderline" score, a real Redis, a
 * recording primary, and the built mxspool CLI. Asserts the exact SMTP replies: viruses 554,
 * spam 550, tagged mail delivered with X-Spam-* headers and valid DKIM, clean 8-bit and binary
 * mail byte-identical, scanner down/timeout 451 (tempfail) or accepted flagged (accept), and
 * 451 4.3.2 at MAIL FROM when the scan slots are saturated.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { compose, dkimResolver, makeDkimKey, signedVerifiably, stripFirstReceived } from "../helpers/messages.js";
import { RawSmtp } from "../helpers/smtp-client.js";
import { EICAR, SIGNATURES, ZIP_PAYLOAD, startClamd, zip, type TestClamd } from "../helpers/clamd.js";
import { BORDERLINE_MARK, BORDERLINE_RULE, BORDERLINE_SCORE, GTUBE, startSpamd, type TestSpamd } from "../helpers/spamd.js";
import { ClamdEngine } from "../../src/filters/clamd-client.js";
import { SpamdEngine } from "../../src/filters/spamd-client.js";
import { parseScannerAddress } from "../../src/config/scanner-address.js";

const FROM = "sender@sender.test";

/** One message over one SMTP session; the server's final reply text, success or not. */
async function send(port: number, to: string[], raw: Buffer): Promise<string> {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true, name: "client.test", connectionTimeout: 10_000, socketTimeout: 60_000 });
  try {
    return (await t.sendMail({ envelope: { from: FROM, to }, raw })).response;
  } catch (err) {
    return (err as { response?: string }).response ?? `client error: ${(err as Error).message}`;
  } finally {
    t.close();
  }
}

/** Log lines arrive on a pipe, possibly after the SMTP reply: wait for the one wanted. */
const logLine = (mx: MxspoolProcess, event: string, match: (l: Record<string, unknown>) => boolean = () => true) =>
  waitFor(`${event} in the log`, () => mx.events(event).find(match), 5000);

const queueId = (response: string) => /queued as ([0-9A-Z]+)/.exec(response)?.[1];

/** A TCP server that accepts and reads but never answers: a hung scanner. */
async function startSilentServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => { sockets.add(s); s.resume(); s.on("error", () => undefined); s.on("close", () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    stop: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

describe("content filters with real clamd and spamd", () => {
  let clamd: TestClamd;
  let spamd: TestSpamd;
  let redis: TestRedis;
  let primary: RecordingPrimary;
  let silent: Awaited<ReturnType<typeof startSilentServer>>;
  const procs: MxspoolProcess[] = [];
  const noClamdDir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-noclamd-")); // a socket path where nothing listens

  async function startMx(prefix: string, filters: Record<string, unknown>): Promise<{ mx: MxspoolProcess; port: number }> {
    const port = await freePort();
    const mx = new MxspoolProcess({
      hostname: "mx2.example.test",
      smtp: { listen: [`127.0.0.1:${port}`], processes: 1, reverseLookup: false },
      http: { listen: `127.0.0.1:${await freePort()}` },
      redis: { url: redis.url, prefix },
      domains: { "example.test": { primary: [`127.0.0.1:${primary.port}`], recipients: "*" } },
      monitor: { interval: "1s", timeout: "2s" },
      delivery: { retry: { first: "1s", max: "5s" } },
      filters,
      log: { level: "debug" },
    });
    procs.push(mx);
    await mx.start();
    return { mx, port };
  }

  const delivered = (testId: string) => waitFor(`${testId} at the primary`,
    () => primary.received.find((r) => new RegExp(`^X-Test-Id: ${testId}\\r?$`, "im").test(r.body)), 20_000);

  beforeAll(async () => {
    [clamd, spamd, redis, silent] = await Promise.all([startClamd(), startSpamd(), startRedis({ persistence: false }), startSilentServer()]);
    primary = new RecordingPrimary({ port: await freePort() });
    await primary.start();
  });

  afterAll(async () => {
    for (const mx of procs) { await mx.stop().catch(() => undefined); mx.cleanup(); }
    await Promise.all([clamd?.stop(), spamd?.stop(), redis?.stop(), primary?.stop(), silent?.stop()]);
    fs.rmSync(noClamdDir, { recursive: true, force: true });
  });

  describe("with both scanners up (defaults: tagScore 5, rejectScore 10, spam maxSize 512000)", () => {
    let mx: MxspoolProcess;
    let port: number;

    beforeAll(async () => {
      ({ mx, port } = await startMx("fa", { clamav: { address: clamd.address }, spamassassin: { address: spamd.address } }));
    });

    it("logs the scanners as enabled and up", async () => {
      await logLine(mx, "FILTERS_ENABLED");
      expect(mx.events("FILTERS_DISABLED")).toHaveLength(0);
      await waitFor("both scanners up", () => mx.events("FILTER_UP").length === 2, 10_000);
      expect(mx.events("FILTER_UP").map((l) => l.scanner).sort()).toEqual(["clamav", "spamassassin"]);
    });

    it.each([
      ["EICAR as an attachment", "eicar-attached", [{ filename: "eicar.com", content: Buffer.from(EICAR, "latin1") }], SIGNATURES.eicar],
      ["EICAR inside a zip", "eicar-zipped", [{ filename: "docs.zip", content: zip([{ name: "readme.txt", data: Buffer.from("hello\r\n") }, { name: "eicar.com", data: Buffer.from(EICAR, "latin1") }]) }], SIGNATURES.eicar],
      ["a signed payload inside a deflated zip", "payload-zipped", [{ filename: "invoice.zip", content: zip([{ name: "invoice.pdf.exe", data: ZIP_PAYLOAD }]) }], SIGNATURES.payload],
    ])("rejects %s with 554 5.7.1 naming the signature, and stores nothing", async (_what, testId, attachments, signature) => {
      const raw = await compose({ testId, from: FROM, to: ["victim@example.test"], attachments });
      const r = await send(port, ["victim@example.test"], raw);
      expect(r).toBe(`554 5.7.1 Virus found: ${signature}.UNOFFICIAL`);
      const found = await logLine(mx, "VIRUS_FOUND", (l) => l.signature === `${signature}.UNOFFICIAL`);
      expect(await redis.client().keys(`fa:msg:${found.id as string}*`)).toEqual([]);
    });

    it("rejects GTUBE with 550 5.7.1", async () => {
      const raw = await compose({ testId: "gtube", from: FROM, to: ["u@example.test"], text: `Hello\n${GTUBE}\n` });
      // GTUBE scores 1000; other rules may move it by a point (ALL_TRUSTED: the client here is loopback)
      const reply = await send(port, ["u@example.test"], raw);
      expect(reply).toMatch(/^550 5\.7\.1 Message rejected as spam \(score \d+\.\d\)$/);
      expect(Number(/score (\d+\.\d)/.exec(reply)?.[1])).toBeGreaterThanOrEqual(998);
      expect((await logLine(mx, "SPAM_REJECTED")).score).toBeGreaterThanOrEqual(998);
    });

    it("tags a borderline message and delivers it with only X-Spam-* headers added, DKIM still valid", async () => {
      const key = makeDkimKey();
      // signed until mailauth verifies it before sending (its sign and verify disagree on ~1 in 1,200: test/helpers/messages.ts)
      const raw = await signedVerifiably(() => compose({ testId: "borderline", from: "signer@sender.test", to: ["u@example.test"],
        text: `A message our test rule scores ${BORDERLINE_SCORE}: ${BORDERLINE_MARK}\n`, html: `<p>${BORDERLINE_MARK}</p>` }), key);
      const r = await send(port, ["u@example.test"], raw);
      expect(r).toMatch(/^250 2\.0\.0 Ok: queued as /);
      const got = await delivered("borderline");
      const { rest } = stripFirstReceived(got.raw);
      const added = rest.subarray(0, rest.length - raw.length).toString("latin1");
      expect(rest.subarray(rest.length - raw.length).equals(raw)).toBe(true);
      expect(added).toMatch(/^X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=\d+\.\d required=5\.0 tests=[^\r]*\r\n/);
      expect(added).toContain(BORDERLINE_RULE);
      // spamd saw our Received header: it found the (trusted, loopback) client relay rather than no relay at all
      const status = /^X-Spam-Status: [^\r]*(\r\n\t[^\r]*)*/m.exec(added)?.[0] ?? "";
      expect(status).toMatch(/\bALL_TRUSTED\b/);
      expect(status).not.toMatch(/\bNO_RELAYS\b/);
      const score = Number(/^X-Spam-Score: (-?\d+\.\d)\r$/m.exec(added)?.[1]);
      expect(score).toBeGreaterThanOrEqual(5);
      expect(score).toBeLessThan(10);
      expect(added).toMatch(new RegExp(`^X-Spam-Report: \\* +${BORDERLINE_SCORE}\\.0 MXSPOOL_BORDERLINE BODY: Borderline test rule`, "m"));
      // nothing but CRLF-terminated header lines (continuations start with a tab)
      expect(added.endsWith("\r\n")).toBe(true);
      for (const line of added.slice(0, -2).split("\r\n")) expect(line).toMatch(/^(X-Spam-[A-Za-z]+: |\t)[\x20-\x7e]*$/);
      const resolver = dkimResolver(key);
      const res = await dkimVerify(got.raw, { resolver });
      expect(res.results.map((x: { status: { result: string } }) => x.status.result)).toEqual(["pass"]);
      await logLine(mx, "SPAM_TAGGED");
    });

    it("accepts clean 8-bit and binary messages byte-identical apart from the Received header, both scanners having looked", async () => {
      const latin1 = Buffer.concat([
        Buffer.from(`From: <${FROM}>\r\nTo: <u@example.test>\r\nSubject: raw 8-bit\r\nMessage-ID: <latin1@test>\r\nX-Test-Id: clean-latin1\r\n` +
          "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", "latin1"),
        Buffer.from(Array.from({ length: 2000 }, (_, i) => (i % 60 === 59 ? "\r\n" : String.fromCharCode(0x80 + (i % 0x7f)))).join(""), "latin1"),
        Buffer.from("\r\nend\r\n", "latin1"),
      ]);
      const messages = [
        { testId: "clean-utf8", raw: await compose({ testId: "clean-utf8", from: FROM, to: ["u@example.test"], raw8bit: true, text: "Grüße aus Köln, ½ € — ÆØÅ ñ\r\nzweite Zeile" }) },
        { testId: "clean-latin1", raw: latin1 },
        { testId: "clean-binary", raw: await compose({ testId: "clean-binary", from: FROM, to: ["u@example.test"],
          attachments: [{ filename: "random.bin", content: crypto.randomBytes(300_000) }, { filename: "data.zip", content: zip([{ name: "r.bin", data: crypto.randomBytes(50_000) }]) }] }) },
      ];
      for (const m of messages) {
        const r = await send(port, ["u@example.test"], m.raw);
        expect(r, m.testId).toMatch(/^250 2\.0\.0 Ok: queued as /);
        const id = queueId(r)!;
        const got = await delivered(m.testId);
        const { rest } = stripFirstReceived(got.raw);
        expect(rest.equals(m.raw), `${m.testId}: bytes differ`).toBe(true);
        const result = await logLine(mx, "FILTER_RESULT", (l) => l.id === id);
        expect(result).toMatchObject({ action: "accept", virus: "clean" });
        expect(typeof result.spam, `${m.testId} was spam-scanned`).toBe("number");
      }
    });

    it("skips SpamAssassin above maxSize but still scans for viruses", async () => {
      const filler = Array.from({ length: 9000 }, (_, i) => `filler line ${i} ${"x".repeat(60)}`).join("\n"); // ~650 KB
      const bigSpam = await compose({ testId: "big-gtube", from: FROM, to: ["u@example.test"], text: `${GTUBE}\n${filler}\n` });
      expect(bigSpam.length).toBeGreaterThan(512_000);
      const r = await send(port, ["u@example.test"], bigSpam);
      expect(r).toMatch(/^250 2\.0\.0 /);
      expect(await logLine(mx, "FILTER_RESULT", (l) => l.id === queueId(r))).toMatchObject({ virus: "clean", spam: "skipped" });
      const bigVirus = await compose({ testId: "big-eicar", from: FROM, to: ["u@example.test"], text: `${filler}\n`,
        attachments: [{ filename: "eicar.com", content: Buffer.from(EICAR, "latin1") }] });
      expect(await send(port, ["u@example.test"], bigVirus)).toBe(`554 5.7.1 Virus found: ${SIGNATURES.eicar}.UNOFFICIAL`);
    });

    it("runs both scans concurrently: the time added is the slower scan, not the sum", async () => {
      const results = mx.events("FILTER_RESULT").filter((l) => typeof l.spam === "number");
      expect(results.length).toBeGreaterThan(0);
      for (const l of results) {
        const [ms, v, s] = [l.ms as number, l.virusMs as number, l.spamMs as number];
        expect(ms).toBeGreaterThanOrEqual(Math.max(v, s));
        if (v > 20 && s > 20) expect(ms).toBeLessThan(v + s);
      }
    });
  });

  describe("the scanner clients on their own", () => {
    it("speak INSTREAM to clamd over TCP, frame by frame, for tiny and large chunks", async () => {
      const engine = new ClamdEngine({ address: parseScannerAddress(clamd.tcpAddress)!, connectTimeout: 2000, timeout: 10_000 });
      expect(await engine.ping()).toBeNull();
      const eicar = engine.open();
      for (const b of Buffer.from(EICAR, "latin1")) eicar.write(Buffer.from([b])); // 68 one-byte frames
      expect(await eicar.end()).toEqual({ status: "infected", signature: `${SIGNATURES.eicar}.UNOFFICIAL` });
      const big = engine.open();
      const blob = crypto.randomBytes(8 * 1024 * 1024);
      for (let i = 0; i < blob.length; i += 65536) big.write(blob.subarray(i, i + 65536));
      expect(await big.end()).toEqual({ status: "clean" });
    });

    it("give spamd the exact bytes of 8-bit messages and read the score and rules", async () => {
      const engine = new SpamdEngine({ address: parseScannerAddress(spamd.address)!, connectTimeout: 2000, timeout: 20_000 });
      expect(await engine.ping()).toBeNull();
      const msg = Buffer.concat([Buffer.from(`Subject: t\r\nFrom: <${FROM}>\r\n\r\n`), Buffer.from([0xff, 0xfe, 0xe9, 0x80]), Buffer.from(`\r\n${GTUBE}\r\n`)]);
      const out = await engine.check(msg);
      expect(out).toMatchObject({ status: "scored", score: expect.any(Number), threshold: 5 });
      if (out.status === "scored") {
        expect(out.score).toBeGreaterThanOrEqual(1000);
        expect(out.rules.map((r) => r.name)).toContain("GTUBE");
      }
    });
  });

  describe("with the scanners down or hung and onError: tempfail (the default)", () => {
    let mx: MxspoolProcess;
    let port: number;

    beforeAll(async () => {
      const closed = await freePort(); // nothing listens there
      ({ mx, port } = await startMx("fb", {
        clamav: { address: `tcp:127.0.0.1:${silent.port}`, timeout: "1s" },
        spamassassin: { address: `tcp:127.0.0.1:${closed}` },
      }));
    });

    it("says at start that the scanners are down", async () => {
      await waitFor("FILTER_DOWN for both", () => mx.events("FILTER_DOWN").length === 2, 10_000);
      expect(mx.events("FILTER_DOWN").map((l) => [l.scanner, l.error]).sort()).toEqual([["clamav", "timeout"], ["spamassassin", "down"]]);
    });

    it("answers 451 4.7.1 so that the sender retries later, and stores nothing", async () => {
      const raw = await compose({ testId: "tempfail", from: FROM, to: ["u@example.test"] });
      const t0 = Date.now();
      expect(await send(port, ["u@example.test"], raw)).toBe("451 4.7.1 Content scanner unavailable, try again later");
      expect(Date.now() - t0).toBeLessThan(5000); // clamd's 1 s timeout, not the client's
      const tx = await logLine(mx, "SMTP_TRANSACTION", (l) => l.decision === "tempfail");
      expect(tx).toMatchObject({ reason: "clamav-timeout,spamassassin-down", code: 451 });
      expect(mx.events("FILTER_TIMEOUT")).toEqual([expect.objectContaining({ scanner: "clamav", id: tx.id })]);
      expect(mx.events("FILTER_ERROR")).toEqual([expect.objectContaining({ scanner: "spamassassin", error: "down", id: tx.id })]);
      expect(await redis.client().keys("fb:msg:*")).toEqual([]);
    });
  });

  describe("with the scanners down or hung and onError: accept, one spamd slot and no queue", () => {
    let mx: MxspoolProcess;
    let port: number;

    beforeAll(async () => {
      ({ mx, port } = await startMx("fc", {
        clamav: { address: `unix:${path.join(noClamdDir, "clamd.sock")}`, onError: "accept" },
        spamassassin: { address: `tcp:127.0.0.1:${silent.port}`, timeout: "1500ms", onError: "accept", maxConcurrent: 1, maxQueued: 0, queueTimeout: "500ms" },
      }));
    });

    it("accepts the message flagged unscanned and delivers it with X-Mxspool-Unscanned", async () => {
      const raw = await compose({ testId: "unscanned", from: FROM, to: ["u@example.test"] });
      const r = await send(port, ["u@example.test"], raw);
      expect(r).toMatch(/^250 2\.0\.0 Ok: queued as /);
      const got = await delivered("unscanned");
      const { rest } = stripFirstReceived(got.raw);
      expect(rest.toString("latin1")).toBe("X-Mxspool-Unscanned: clamav (down), spamassassin (timeout)\r\n" + raw.toString("latin1"));
      expect(await logLine(mx, "SMTP_TRANSACTION", (l) => l.id === queueId(r))).toMatchObject({ decision: "accept", flags: ["unscanned"] });
      expect(await logLine(mx, "FILTER_UNSCANNED")).toMatchObject({ id: queueId(r), virus: "error", spam: "error" });
    });

    async function openTransaction(rcpt: string): Promise<RawSmtp> {
      const c = await RawSmtp.connect(port);
      expect(await c.reply()).toMatch(/^220 /);
      expect(await c.cmd("EHLO client.test")).toMatch(/^250/);
      expect(await c.cmd(`MAIL FROM:<${FROM}>`)).toMatch(/^250 /);
      expect(await c.cmd(`RCPT TO:<${rcpt}>`)).toMatch(/^250 /);
      return c;
    }

    it("answers MAIL FROM with 451 4.3.2 at once while every scan slot is taken, and 250 again after", async () => {
      const first = await openTransaction("a@example.test");
      expect(await first.cmd("DATA")).toMatch(/^354 /);
      first.write("Subject: slow\r\nX-Test-Id: slot-holder\r\n\r\nfirst half\r\n"); // in DATA: holds the one spamd place
      await sleep(200);
      const second = await RawSmtp.connect(port);
      await second.reply();
      await second.cmd("EHLO client.test");
      const t0 = Date.now();
      expect(await second.cmd(`MAIL FROM:<${FROM}>`)).toBe("451 4.3.2 Content scanners busy, try again later");
      expect(Date.now() - t0).toBeLessThan(1000);
      await logLine(mx, "FILTERS_SATURATED");
      first.write("second half\r\n.\r\n");
      expect(await first.reply(10_000)).toMatch(/^250 2\.0\.0 /); // hung spamd, onError accept
      expect(await second.cmd(`MAIL FROM:<${FROM}>`)).toMatch(/^250 /);
      await logLine(mx, "FILTERS_UNSATURATED");
      first.close();
      second.close();
    });

    it("gives the scan place back when a client disconnects in the middle of DATA", async () => {
      const quitter = await openTransaction("a@example.test");
      expect(await quitter.cmd("DATA")).toMatch(/^354 /);
      quitter.write("Subject: gone\r\n\r\nhalf a message\r\n");
      await sleep(200);
      const other = await RawSmtp.connect(port);
      await other.reply();
      await other.cmd("EHLO client.test");
      expect(await other.cmd(`MAIL FROM:<${FROM}>`)).toMatch(/^451 4\.3\.2 /);
      quitter.close();
      await waitFor("MAIL FROM accepted again", async () => {
        const r = await other.cmd(`MAIL FROM:<${FROM}>`);
        if (r.startsWith("250")) return true;
        expect(r).toMatch(/^451 4\.3\.2 /);
        return false;
      }, 5000, 200);
      other.close();
    });

    it("answers 451 4.3.2 when a complete message gets no scan slot within queueTimeout", async () => {
      const a = await openTransaction("a@example.test");
      const b = await openTransaction("b@example.test"); // both past MAIL FROM before either is in DATA
      expect(await a.cmd("DATA")).toMatch(/^354 /);
      expect(await b.cmd("DATA")).toMatch(/^354 /);
      const t0 = Date.now();
      a.write("Subject: a\r\nX-Test-Id: queue-a\r\n\r\na\r\n.\r\n");
      b.write("Subject: b\r\nX-Test-Id: queue-b\r\n\r\nb\r\n.\r\n");
      const [ra, rb] = await Promise.all([a.reply(10_000).then((r) => [r, Date.now() - t0] as const), b.reply(10_000).then((r) => [r, Date.now() - t0] as const)]);
      const busy = [ra, rb].filter(([r]) => r.startsWith("451 4.3.2"));
      expect(busy, JSON.stringify([ra, rb])).toHaveLength(1);
      expect(busy[0][1]).toBeLessThan(1400); // queueTimeout 500 ms, not spamd's 1.5 s timeout
      expect([ra, rb].filter(([r]) => r.startsWith("250 2.0.0"))).toHaveLength(1);
      await logLine(mx, "FILTER_BUSY");
      a.close();
      b.close();
    });
  });
});


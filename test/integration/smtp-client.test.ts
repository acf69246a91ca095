/**
 * The drain's SMTP client against real peers: smtp-server (TLS, AUTH, byte-exact bodies) and
 * Postfix's smtp-sink, and against scripted loopback servers where the test is about the wire
 * itself (what is pipelined, what a hostile server can make it hold).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SmtpClient, type ClientOptions, type SmtpError } from "../../src/transport/smtp-client.js";
import { recipientResults, sendMessage } from "../../src/transport/send-message.js";
import { ConnectionPool } from "../../src/transport/connection-pool.js";
import { freePort, portOpen, waitFor } from "../helpers/net.js";
import { selfSignedCert } from "../helpers/certs.js";
import { withParentDeathSignal } from "../../src/redis/parent-death.js";

const base = (port: number, extra: Partial<ClientOptions> = {}): ClientOptions =>
  ({ host: "127.0.0.1", port, name: "mx2.example.test", connectTimeout: 2000, commandTimeout: 2000, tls: "may", ...extra });

interface Got { from: string; rcpts: string[]; raw: Buffer; user?: string; secure: boolean }

/** smtp-server recording each message; refuses rcpts starting "bad", 452s "full@". */
async function realServer(opts: { tls?: { key: string; cert: string }; secure?: boolean; auth?: boolean }): Promise<{ port: number; got: Got[]; stop(): Promise<void> }> {
  const got: Got[] = [];
  const port = await freePort();
  const server = new SMTPServer({
    logger: false, disableReverseLookup: true, secure: opts.secure ?? false, closeTimeout: 200,
    ...(opts.tls ?? {}),
    ...(opts.tls ? {} : { disabledCommands: ["STARTTLS"], hideSTARTTLS: true }),
    authOptional: !opts.auth, authMethods: ["PLAIN", "LOGIN"], allowInsecureAuth: true,
    onAuth: (auth, _s, cb) => (auth.username === "relay" && auth.password === "secret" ? cb(null, { user: auth.username }) : cb(new Error("bad credentials"))),
    onRcptTo: (addr, _s, cb) => {
      if (addr.address.startsWith("bad")) return cb(Object.assign(new Error("5.1.1 no such user"), { responseCode: 550 }));
      if (addr.address.startsWith("full")) return cb(Object.assign(new Error("4.2.2 mailbox full"), { responseCode: 452 }));
      cb();
    },
    onData: (stream, session, cb) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        got.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", rcpts: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks), user: session.user as string | undefined, secure: session.secure });
        cb(null, "2.0.0 Ok: queued");
      });
    },
  });
  server.on("error", () => undefined);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  return { port, got, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * A loopback server that speaks SMTP from a script: `reply(line)` answers each command (DATA's
 * body is collected separately). With `hold`, no reply leaves until DATA has come in — only a
 * client that pipelines gets through. `overlap` counts commands that arrived while a reply was owed.
 */
async function scripted(opts: { ehlo: string[]; reply?: (line: string) => string; hold?: boolean; raw?: (sock: net.Socket) => void; closeAfter?: RegExp }) {
  const port = await freePort();
  const seen = { lines: [] as string[], bodies: [] as Buffer[], overlap: 0 };
  const server = net.createServer((sock) => {
    sock.on("error", () => undefined);
    if (opts.raw) return opts.raw(sock);
    sock.write("220 scripted ESMTP\r\n");
    let buf = Buffer.alloc(0);
    let inData = false;
    let owed: string[] = [];
    const answer = (line: string): string => {
      const verb = line.split(/[ :]/)[0]!.toUpperCase();
      if (verb === "EHLO") return opts.ehlo.map((e, i) => `250${i === opts.ehlo.length - 1 ? " " : "-"}${e}`).join("\r\n");
      if (verb === "QUIT") return "221 bye";
      return opts.reply?.(line) ?? (verb === "DATA" ? "354 go on" : "250 ok");
    };
    sock.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (inData) {
          const end = buf.indexOf("\r\n.\r\n");
          if (end === -1) return;
          seen.bodies.push(buf.subarray(0, end + 2));
          buf = buf.subarray(end + 5);
          inData = false;
          sock.write(`${opts.reply?.("<end of data>") ?? "250 2.0.0 queued"}\r\n`);
          continue;
        }
        const lf = buf.indexOf("\n");
        if (lf === -1) return;
        const line = buf.subarray(0, lf).toString().replace(/\r$/, "");
        buf = buf.subarray(lf + 1);
        seen.lines.push(line);
        if (owed.length && !opts.hold) seen.overlap++;
        const r = answer(line);
        owed.push(r);
        if (opts.hold && line !== "DATA" && /^(MAIL|RCPT)/i.test(line)) continue;
        sock.write(owed.join("\r\n") + "\r\n");
        if (line === "DATA" && /^[23]/.test(r)) inData = true;
        if (line === "QUIT" || opts.closeAfter?.test(line)) return void sock.end();
        owed = [];
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  return { port, seen, stop: () => new Promise<void>((resolve) => { server.close(() => resolve()); }) };
}

/** Postfix's smtp-sink on a free port, dumping each transaction into `dir` (as nobody when root); `args` e.g. ["-f", "RCPT"]. */
async function postfixSink(dir: string, args: string[] = []): Promise<{ port: number; proc: ChildProcess; dumps(): string[] }> {
  const port = await freePort();
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(path.dirname(dir), 0o755); // smtp-sink runs as nobody: it must reach the directory
  fs.chmodSync(dir, 0o777);
  const proc = spawn(...withParentDeathSignal("/usr/sbin/smtp-sink", [...(process.getuid?.() === 0 ? ["-u", "nobody"] : []), "-d", `${dir}/%M.`, ...args, `127.0.0.1:${port}`, "64"], "SIGKILL"), { stdio: "ignore" });
  await waitFor("smtp-sink to listen", () => portOpen(port), 10_000, 20);
  // a dump smtp-sink opened at MAIL is removed again when the transaction ends without a message:
  // one listed by readdir may be gone by the time it is read
  const read = (f: string): string[] => { try { return [fs.readFileSync(path.join(dir, f), "latin1")]; } catch (err) { if ((err as NodeJS.ErrnoException).code === "ENOENT") return []; throw err; } };
  return { port, proc, dumps: () => fs.readdirSync(dir).sort().flatMap(read) };
}

const MSG = Buffer.from("From: a@example.org\r\nTo: b@example.test\r\nSubject: t\r\n\r\n.a line starting with a dot\r\nbare\nLF and a lone dot:\r\n.\r\nend\r\n");

describe("the drain's SMTP client", () => {
  let tmp: string;
  let certs: { key: string; cert: string };

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-smtp-client-"));
    const { key, cert } = selfSignedCert(tmp, { subject: "/CN=primary.example.test" });
    certs = { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") };
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("delivers the bytes unchanged but for dot-stuffing and line ends, and reports each recipient's own reply", async () => {
    const s = await realServer({});
    try {
      const c = await SmtpClient.connect(base(s.port));
      const rcpts = ["ok1@example.test", "bad@example.test", "full@example.test", "ok2@example.test"];
      const t = await c.transaction({ from: "a@example.org", rcpts, body8bit: false }, MSG);
      const { results, clean } = recipientResults(rcpts, t);
      expect(clean).toBe(true);
      expect(results.map((r) => [r.rcpt, r.outcome, r.code])).toEqual([
        ["ok1@example.test", "delivered", 250], ["bad@example.test", "permanent", 550], ["full@example.test", "temporary", 452], ["ok2@example.test", "delivered", 250],
      ]);
      expect(results[1]!.response).toContain("no such user");
      // the same connection takes a second message; a stream body arrives the same
      const t2 = await c.transaction({ from: "", rcpts: ["ok3@example.test"], body8bit: false }, Readable.from([MSG.subarray(0, 70), MSG.subarray(70)]));
      expect(t2.final?.code).toBe(250);
      c.quit();
      expect(s.got.map((g) => [g.from, g.rcpts])).toEqual([["a@example.org", ["ok1@example.test", "ok2@example.test"]], ["", ["ok3@example.test"]]]);
      const expected = MSG.toString("latin1").replace(/\r?\n/g, "\r\n");
      for (const g of s.got) expect(g.raw.toString("latin1")).toBe(expected);
    } finally { await s.stop(); }
  });

  it("with Postfix's smtp-sink: 50 messages over one pipelined connection, each whole and once; a sink refusing RCPT (no PIPELINING then) gets no body", async () => {
    const ok = await postfixSink(path.join(tmp, "sink-ok"));
    const refusing = await postfixSink(path.join(tmp, "sink-refusing"), ["-f", "RCPT"]);
    try {
      const c = await SmtpClient.connect(base(ok.port));
      for (let i = 0; i < 50; i++) {
        const t = await c.transaction({ from: `s${i}@example.org`, rcpts: [`r${i}@example.test`, "x@example.test"], body8bit: true }, Buffer.concat([Buffer.from(`X-N: ${i}\r\n`), MSG]));
        expect(t.final?.code).toBe(250);
      }
      c.quit();
      await waitFor("50 dumps", () => ok.dumps().length === 50, 10_000, 50);
      const dumps = ok.dumps();
      for (let i = 0; i < 50; i++) {
        const d = dumps.find((x) => x.includes(`X-N: ${i}\n`))!;
        expect(d).toContain(`X-Mail-Args: <s${i}@example.org> BODY=8BITMIME\nX-Rcpt-Args: <r${i}@example.test>\nX-Rcpt-Args: <x@example.test>\n`);
        // smtp-sink writes the message unstuffed with LF line ends, after its own Received header
        expect(d.slice(d.indexOf(`X-N: ${i}\n`))).toBe(`X-N: ${i}\n${MSG.toString("latin1").replace(/\r?\n/g, "\n")}\n`);
      }
      const r = await SmtpClient.connect(base(refusing.port));
      const t = await r.transaction({ from: "a@example.org", rcpts: ["x@example.test", "y@example.test"], body8bit: false }, MSG);
      // smtp-sink -f answers 500 5.3.0: a protocol-class code, retried rather than bounced (policies/primary-reply.ts)
      expect(recipientResults(["x@example.test", "y@example.test"], t).results.map((x) => [x.outcome, x.code])).toEqual([["temporary", 500], ["temporary", 500]]);
      expect(t.data).toBeUndefined();
      r.close();
      expect(refusing.dumps().filter((d) => d.includes("Subject: t"))).toEqual([]); // (smtp-sink may open an empty dump at MAIL)
    } finally { ok.proc.kill("SIGKILL"); refusing.proc.kill("SIGKILL"); }
  });

  it("pipelines MAIL, RCPT and DATA when PIPELINING is offered: a server that answers only after DATA still gets the message", async () => {
    const s = await scripted({ ehlo: ["scripted", "PIPELINING", "8BITMIME"], hold: true });
    try {
      const c = await SmtpClient.connect(base(s.port));
      const t = await c.transaction({ from: "a@example.org", rcpts: ["x@example.test", "y@example.test"], body8bit: true }, MSG);
      expect([t.mail.code, ...t.rcpts.map((r) => r.code), t.data?.code, t.final?.code]).toEqual([250, 250, 250, 354, 250]);
      expect(s.seen.lines.slice(1, 5)).toEqual(["MAIL FROM:<a@example.org> BODY=8BITMIME", "RCPT TO:<x@example.test>", "RCPT TO:<y@example.test>", "DATA"]);
      c.close();
    } finally { await s.stop(); }
  });

  it("waits for each reply when PIPELINING is not offered, and stops after a refused MAIL FROM", async () => {
    const s = await scripted({ ehlo: ["scripted"], reply: (l) => (l.startsWith("MAIL FROM:<refused") ? "553 5.1.8 sender refused" : undefined)! });
    try {
      const c = await SmtpClient.connect(base(s.port));
      const t = await c.transaction({ from: "a@example.org", rcpts: ["x@example.test", "y@example.test"], body8bit: true }, MSG);
      expect(t.final?.code).toBe(250);
      expect(s.seen.lines[1]).toBe("MAIL FROM:<a@example.org>"); // no BODY=8BITMIME: not offered
      const refused = await c.transaction({ from: "refused@example.org", rcpts: ["x@example.test"], body8bit: false }, MSG);
      expect(recipientResults(["x@example.test"], refused)).toEqual({ clean: false, results: [{ rcpt: "x@example.test", outcome: "permanent", code: 553, response: "553 5.1.8 sender refused" }] });
      expect(s.seen.overlap).toBe(0);
      expect(s.seen.lines.filter((l) => l.startsWith("RCPT"))).toHaveLength(2); // none after the refused MAIL
      c.close();
    } finally { await s.stop(); }
  });

  it("gives accepted recipients DATA's refusal, and the end-of-data reply when that is one", async () => {
    const s = await scripted({ ehlo: ["scripted", "PIPELINING"], reply: (l) => (l === "DATA" ? "451 4.3.0 try later" : undefined)! });
    const s2 = await scripted({ ehlo: ["scripted", "PIPELINING"], reply: (l) => (l === "<end of data>" ? "554 5.7.1 content refused" : undefined)! });
    try {
      const c = await SmtpClient.connect(base(s.port));
      expect(recipientResults(["x@example.test"], await c.transaction({ from: "a@example.org", rcpts: ["x@example.test"], body8bit: false }, MSG)).results[0])
        .toMatchObject({ outcome: "temporary", code: 451 });
      expect(s.seen.bodies).toHaveLength(0);
      c.close();
      const c2 = await SmtpClient.connect(base(s2.port));
      expect(recipientResults(["x@example.test"], await c2.transaction({ from: "a@example.org", rcpts: ["x@example.test"], body8bit: false }, MSG)))
        .toMatchObject({ clean: true, results: [{ outcome: "permanent", code: 554 }] });
      c2.close();
    } finally { await s.stop(); await s2.stop(); }
  });

  it("takes a 421 to a pipelined MAIL FROM, the connection then closed, as every recipient's answer", async () => {
    const s = await scripted({ ehlo: ["scripted", "PIPELINING"], reply: (l) => (l.startsWith("MAIL") ? "421 4.3.2 shutting down" : undefined)!, closeAfter: /^MAIL/ });
    try {
      const c = await SmtpClient.connect(base(s.port));
      const t = await c.transaction({ from: "a@example.org", rcpts: ["x@example.test", "y@example.test"], body8bit: false }, MSG);
      expect(recipientResults(["x@example.test", "y@example.test"], t).results.map((r) => [r.outcome, r.code])).toEqual([["temporary", 421], ["temporary", 421]]);
    } finally { await s.stop(); }
  });

  it("refuses replies that came in clear after the 220 to STARTTLS (command injection)", async () => {
    const s = await scripted({ ehlo: ["scripted", "STARTTLS"], reply: (l) => (l === "STARTTLS" ? "220 ready\r\n250 injected" : undefined)! });
    try {
      await expect(SmtpClient.connect(base(s.port))).rejects.toMatchObject({ code: "ETLS", message: expect.stringContaining("after its 220") });
    } finally { await s.stop(); }
  });

  it("sends the body after a 250 to DATA (some servers say so), and only the end-of-data reply counts as delivered", async () => {
    const s = await scripted({ ehlo: ["scripted", "PIPELINING"], reply: (l) => (l === "DATA" ? "250 go ahead" : undefined)! });
    try {
      const c = await SmtpClient.connect(base(s.port));
      const t = await c.transaction({ from: "a@example.org", rcpts: ["x@example.test"], body8bit: false }, MSG);
      expect(recipientResults(["x@example.test"], t).results[0]).toMatchObject({ outcome: "delivered", code: 250, response: "250 2.0.0 queued" });
      expect(s.seen.bodies).toHaveLength(1);
      c.close();
    } finally { await s.stop(); }
  });

  it("a delivery whose stored bytes stop coming ends at its deadline, its slot free, the server given no end marker", async () => {
    const s = await scripted({ ehlo: ["scripted", "PIPELINING"] });
    try {
      const pool = new ConnectionPool({ host: "127.0.0.1", port: s.port }, { name: "mx2.example.test", connectTimeout: 200, commandTimeout: 200, idleMs: 1000, maxMessages: 10 });
      const stalled = () => new Readable({ read() { if (!this.readableLength) this.push(MSG); } }); // one piece, then nothing, ever
      const sent = await sendMessage([pool], { from: "a@example.org", rcpts: ["x@example.test"], raw: () => { const r = stalled(); r.read(0); return r; }, body8bit: false });
      expect(sent).toMatchObject({ kind: "attempted", results: [{ outcome: "temporary", response: "delivery timed out" }] });
      expect(s.seen.bodies).toHaveLength(0);
      pool.close();
    } finally { await s.stop(); }
  });

  it("speaks the old AUTH= form of EHLO, takes a bare CR in a reply's text, and refuses an address that would break its command", async () => {
    const s = await scripted({ ehlo: ["scripted\rhost", "AUTH=PLAIN"], reply: (l) => (l.startsWith("AUTH PLAIN") ? "235 2.7.0 ok" : undefined)! });
    try {
      const c = await SmtpClient.connect(base(s.port, { tls: "none", auth: { user: "relay", pass: "secret" } }));
      expect(s.seen.lines[1]).toMatch(/^AUTH PLAIN /);
      const err = await c.transaction({ from: "a@example.org", rcpts: ["x@example.test>\r\nRCPT TO:<y@example.test"], body8bit: false }, MSG).catch((e: SmtpError) => e);
      expect(err).toMatchObject({ code: "EENVELOPE" });
      expect(s.seen.lines.some((l) => l.startsWith("MAIL"))).toBe(false);
      c.close();
    } finally { await s.stop(); }
  });

  it("upgrades with STARTTLS when offered, speaks implicit TLS, and fails without STARTTLS only when required", async () => {
    const starttls = await realServer({ tls: certs });
    const implicit = await realServer({ tls: certs, secure: true });
    const plain = await realServer({});
    try {
      for (const [server, mode] of [[starttls, "may"], [implicit, "implicit"]] as const) {
        const c = await SmtpClient.connect(base(server.port, { tls: mode }));
        expect((await c.transaction({ from: "a@example.org", rcpts: ["x@example.test"], body8bit: false }, MSG)).final?.code).toBe(250);
        c.quit();
        expect(server.got.at(-1)?.secure).toBe(true);
      }
      const none = await SmtpClient.connect(base(starttls.port, { tls: "none" }));
      await none.transaction({ from: "a@example.org", rcpts: ["x@example.test"], body8bit: false }, MSG);
      none.close();
      expect(starttls.got.at(-1)?.secure).toBe(false);
      await expect(SmtpClient.connect(base(plain.port, { tls: "required" }))).rejects.toMatchObject({ code: "ETLS" });
    } finally { await starttls.stop(); await implicit.stop(); await plain.stop(); }
  });

  it("authenticates with PLAIN or LOGIN, and a refused login is an error naming the reply", async () => {
    const s = await realServer({ auth: true });
    try {
      const c = await SmtpClient.connect(base(s.port, { tls: "none", auth: { user: "relay", pass: "secret" } }));
      await c.transaction({ from: "a@example.org", rcpts: ["x@example.test"], body8bit: false }, MSG);
      c.quit();
      expect(s.got.at(-1)?.user).toBe("relay");
      await expect(SmtpClient.connect(base(s.port, { tls: "none", auth: { user: "relay", pass: "wrong" } }))).rejects.toMatchObject({ code: "EAUTH", responseCode: 535 });
    } finally { await s.stop(); }
    const login = await scripted({ ehlo: ["scripted", "AUTH LOGIN"], reply: (l) => (l === "AUTH LOGIN" || l === Buffer.from("relay").toString("base64") ? "334 go on" : l === Buffer.from("secret").toString("base64") ? "235 2.7.0 ok" : undefined)! });
    try {
      const c = await SmtpClient.connect(base(login.port, { tls: "none", auth: { user: "relay", pass: "secret" } }));
      expect(login.seen.lines.slice(1, 4)).toEqual(["AUTH LOGIN", "cmVsYXk=", "c2VjcmV0"]);
      c.close();
    } finally { await login.stop(); }
  });

  it("holds a hostile server to bounded replies and to its timeout", async () => {
    const longLine = await scripted({ ehlo: [], raw: (sock) => { sock.write("220 "); const junk = Buffer.alloc(64 * 1024, 0x41); for (let i = 0; i < 64; i++) sock.write(junk); } });
    const manyLines = await scripted({ ehlo: [], raw: (sock) => { sock.write("220-x\r\n".repeat(1000)); } });
    const silent = await scripted({ ehlo: [], raw: () => undefined });
    const trickle = await scripted({ ehlo: [], raw: (sock) => { const t = setInterval(() => sock.write("2"), 50); sock.on("close", () => clearInterval(t)); } });
    let trickleClosed = false;
    const flood = await scripted({ ehlo: [], raw: (sock) => {
      sock.write("220 x\r\n");
      sock.once("data", () => { sock.write("250 x\r\n"); const t = setInterval(() => { if (!sock.destroyed) sock.write("250 more\r\n".repeat(1000)); }, 5); sock.on("close", () => clearInterval(t)); });
    } });
    const garbage = await scripted({ ehlo: [], raw: (sock) => { sock.write("HTTP/1.1 400 Bad Request\r\n\r\n"); } });
    try {
      await expect(SmtpClient.connect(base(longLine.port))).rejects.toMatchObject({ code: "EPROTOCOL", message: expect.stringContaining("longer than") });
      await expect(SmtpClient.connect(base(manyLines.port))).rejects.toMatchObject({ code: "EPROTOCOL", message: expect.stringContaining("more than 200 lines") });
      await expect(SmtpClient.connect(base(silent.port, { connectTimeout: 300 }))).rejects.toMatchObject({ code: "ETIMEDOUT" });
      await expect(SmtpClient.connect(base(garbage.port))).rejects.toMatchObject({ code: "EPROTOCOL", message: expect.stringContaining("not an SMTP reply") });
      // a greeting trickled a byte at a time keeps the socket's idle timer alive: the handshake's own deadline ends it
      const t0 = Date.now();
      await expect(SmtpClient.connect(base(trickle.port, { connectTimeout: 200, commandTimeout: 200 }))).rejects.toMatchObject({ code: "ETIMEDOUT" });
      expect(Date.now() - t0).toBeLessThan(5000);
      // replies nobody asked for, streamed while the connection sits idle: refused, not queued
      const idle = await SmtpClient.connect(base(flood.port));
      await waitFor("the flood refused", () => idle.closed, 5000, 10);
      trickleClosed = true;
    } finally { for (const s of [longLine, manyLines, silent, garbage, trickle, flood]) await s.stop(); }
    expect(trickleClosed).toBe(true);
  });

  it("never ends DATA when the stored bytes fail mid-way: the server takes nothing", async () => {
    const s = await scripted({ ehlo: ["scripted", "PIPELINING"] });
    try {
      const c = await SmtpClient.connect(base(s.port));
      async function* failing() { yield MSG; throw new Error("redis went away"); }
      const err = await c.transaction({ from: "a@example.org", rcpts: ["x@example.test"], body8bit: false }, Readable.from(failing())).catch((e: SmtpError) => e);
      expect(err).toMatchObject({ command: "DATA_END", message: expect.stringContaining("redis went away") });
      expect(c.closed).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      expect(s.seen.bodies).toHaveLength(0);
    } finally { await s.stop(); }
  });

  it("a connection the server closed while idle fails its next transaction at MAIL FROM, before any reply (the pool retries it)", async () => {
    const s = await realServer({});
    try {
      const c = await SmtpClient.connect(base(s.port));
      await s.stop();
      await new Promise((r) => setTimeout(r, 200));
      const err = await c.transaction({ from: "a@example.org", rcpts: ["x@example.test"], body8bit: false }, MSG).catch((e: SmtpError) => e);
      expect(err).toMatchObject({ command: "MAIL FROM" });
      expect((err as SmtpError).responseCode).toBeUndefined();
    } finally { await s.stop(); }
  });
});

/**
 * SMTP submission on the real CLI (smtp + http roles, real redis-server), with real clients:
 * nodemailer and swaks. Port 587 style: EHLO offers AUTH only after STARTTLS (538 5.7.0 for
 * AUTH before it), MAIL without AUTH gets 530 5.7.0; 465 style: implicit TLS. AUTH PLAIN/LOGIN
 * against the webmail accounts, and the webmail's lock-out: wrong passwords over SMTP lock the
 * account for the webmail too. What a user may send is the outbound submitter's answer,
 * relayed as the SMTP reply: another user's From 553 5.7.1, the hourly limit 450 4.7.1; another
 * user's MAIL FROM is refused 553 5.7.1 already as the reply to MAIL, by the submitter's own rule. The open-relay battery runs first: unauthenticated, through both doors (SMTP on
 * 25 and 587/465, and the webmail's compose), and nothing is queued.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import nodemailer from "nodemailer";
import { Queue } from "bullmq";
import { OUTBOUND_QUEUE, Keyspace } from "../../src/redis/keyspace.js";
import { MessageRecords } from "../../src/store/message-records.js";
import { freePort, waitFor } from "../helpers/net.js";
import { RawSmtp } from "../helpers/smtp-client.js";
import { mail, startWebmailStack, WebClient, type WebmailStack } from "../helpers/webmail-stack.js";
import { selfSignedCert } from "../helpers/certs.js";

const PASSWORD = "submission-test-password";
const keys = new Keyspace("mxspool");

/** swaks marks a refusal `<**` in clear and `<~*` inside TLS; a success `<-` / `<~`. */
function swaks(args: string[]): { code: number | null; out: string } {
  const r = spawnSync("swaks", ["--timeout", "20", "--helo", "client.test", ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("SMTP submission", () => {
  let s: WebmailStack;
  let sub: number;
  let implicit: number;
  let tmp: string;
  let outbound: Queue;
  const transport = (user: string, pass = PASSWORD, port = sub) => nodemailer.createTransport({
    host: "127.0.0.1", port, secure: port === implicit, requireTLS: port !== implicit, tls: { rejectUnauthorized: false }, auth: { user, pass }, name: "client.test",
  });
  const queued = async () => Object.values(await outbound.getJobCounts()).reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-sub-"));
    const tls = selfSignedCert(tmp, { subject: "/CN=mx2.example.test", name: "sub" });
    sub = await freePort();
    implicit = await freePort();
    s = await startWebmailStack({
      webmail: { login: { maxFailuresPerAccount: 3 }, compose: { maxUploadBytes: 100_000 } },
      config: {
        submission: { listen: `127.0.0.1:${sub}`, implicitTls: `127.0.0.1:${implicit}`, tls },
        outbound: { enabled: true, limits: { messagesPerHour: 3 }, aliases: { "alice@example.test": ["sales@example.test"] } },
      },
    });
    for (const u of ["alice", "bob", "rate", "locked"]) await s.addUser(`${u}@example.test`, PASSWORD);
    outbound = new Queue(OUTBOUND_QUEUE, { connection: { host: "127.0.0.1", port: Number(new URL(s.redis.url).port) }, prefix: keys.bullPrefixOf(OUTBOUND_QUEUE) });
  });

  afterAll(async () => {
    await outbound?.close();
    await s?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("open-relay battery: nothing unauthenticated is queued, through SMTP (25, 587, 465) or the webmail", async () => {
    // 587 in clear: AUTH is not offered and is refused; MAIL and RCPT need AUTH
    const c = await RawSmtp.connect(sub);
    expect(await c.reply()).toMatch(/^220 /);
    const ehlo = await c.cmd("EHLO relay.test");
    expect(ehlo).toContain("STARTTLS");
    expect(ehlo).not.toMatch(/AUTH/);
    expect(await c.cmd("AUTH PLAIN " + Buffer.from(`\0alice@example.test\0${PASSWORD}`).toString("base64"))).toMatch(/^538 5\.7\.0 /);
    expect(await c.cmd("MAIL FROM:<alice@example.test>")).toMatch(/^530 5\.7\.0 /);
    expect(await c.cmd("RCPT TO:<victim@elsewhere.example>")).toMatch(/^530 5\.7\.0 /);
    expect(await c.cmd("DATA")).toMatch(/^5\d\d /);
    c.close();
    // 587 after STARTTLS but without AUTH (swaks), and 465 without AUTH
    const tlsNoAuth = swaks(["--server", "127.0.0.1", "--port", String(sub), "--tls", "--from", "alice@example.test", "--to", "victim@elsewhere.example"]);
    expect(tlsNoAuth.out).toMatch(/<~?\*\*? 530 5\.7\.0 Authentication required/);
    expect(tlsNoAuth.out).toMatch(/250[- ]AUTH PLAIN LOGIN/); // offered once TLS is up
    const implicitNoAuth = swaks(["--server", "127.0.0.1", "--port", String(implicit), "--tlsc", "--from", "alice@example.test", "--to", "victim@elsewhere.example"]);
    expect(implicitNoAuth.out).toMatch(/<~?\*\*? 530 5\.7\.0 Authentication required/);
    // port 25: relaying to an outside domain is refused at RCPT
    const mx = swaks(["--server", "127.0.0.1", "--port", String(s.smtpPort), "--from", "alice@example.test", "--to", "victim@elsewhere.example"]);
    expect(mx.out).toMatch(/<~?\*\*? 550 5\.7\.1 /);
    // the webmail: no session, then a session without the CSRF token
    const form = new FormData();
    form.set("to", "victim@elsewhere.example");
    form.set("body", "relay?");
    const anon = await fetch(`${s.base}/compose`, { method: "POST", body: form, redirect: "manual", headers: { origin: s.base } });
    expect(anon.status).toBe(403);
    const web = new WebClient(s.base);
    expect((await web.login("alice@example.test", PASSWORD)).status).toBe(303);
    const cookie = [...web.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const noCsrf = await fetch(`${s.base}/compose`, { method: "POST", body: form, redirect: "manual", headers: { origin: s.base, cookie } });
    expect(noCsrf.status).toBe(403);
    form.set("_csrf", await web.csrf("/compose"));
    const crossSite = await fetch(`${s.base}/compose`, { method: "POST", body: form, redirect: "manual", headers: { origin: "https://evil.example", cookie } });
    expect(crossSite.status).toBe(403);

    expect(await queued()).toBe(0);
    expect(s.mx.events("OUTBOUND_ACCEPTED")).toEqual([]);
    expect(await s.redis.client().keys(`${keys.prefix}:out:sent:*`)).toEqual([]);
  });

  it("sends with AUTH PLAIN after STARTTLS (nodemailer) and AUTH LOGIN on implicit TLS (swaks): a colleague has it in the spool at once", async () => {
    const t = transport("alice@example.test");
    const info = await t.sendMail({ envelope: { from: "alice@example.test", to: ["bob@example.test"] }, raw: await mail({ from: "Alice <alice@example.test>", to: ["bob@example.test"], subject: "Lunch moved", text: "12:30 instead." }) });
    t.close();
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-Z]{20}$/);
    const viaSwaks = swaks(["--server", "127.0.0.1", "--port", String(implicit), "--tlsc", "--auth", "LOGIN", "--auth-user", "alice@example.test", "--auth-password", PASSWORD,
      "--from", "alice@example.test", "--to", "bob@example.test", "--h-From", "Alice <alice@example.test>", "--h-Subject", "From my phone", "--body", "sent from swaks"]);
    expect(viaSwaks.out).toMatch(/<~  250 2\.0\.0 Ok: queued as /);
    const records = new MessageRecords(s.redis.client(), keys);
    await waitFor("both in bob's spool", async () => (await records.list({ rcpt: "bob@example.test" }, undefined, 10)).items.length === 2, 20_000);
    expect(s.mx.events("SUBMISSION_AUTH").map((l) => l.address)).toEqual(["alice@example.test", "alice@example.test"]);
  });

  it("refuses another user's MAIL FROM and From with 553 5.7.1, relayed from the submitter", async () => {
    const t = transport("alice@example.test");
    const envelopeErr = await t.sendMail({ envelope: { from: "bob@example.test", to: ["carol@partner.example"] }, raw: await mail({ from: "bob@example.test", to: ["carol@partner.example"], subject: "x", text: "x" }) }).catch((e: Error & { responseCode?: number; response?: string }) => e);
    const headerErr = await t.sendMail({ envelope: { from: "alice@example.test", to: ["carol@partner.example"] }, raw: await mail({ from: "Bob <bob@example.test>", to: ["carol@partner.example"], subject: "x", text: "x" }) }).catch((e: Error & { responseCode?: number; response?: string }) => e);
    t.close();
    for (const e of [envelopeErr, headerErr]) {
      expect(e).toBeInstanceOf(Error);
      expect((e as { responseCode?: number }).responseCode).toBe(553);
      expect((e as { response?: string }).response).toMatch(/^553 5\.7\.1 .*not yours/);
    }
    expect(await queued()).toBe(0);
  });

  it("refuses another user's MAIL FROM at MAIL itself (553 5.7.1, not after DATA) and accepts an alias there", async () => {
    const auth = ["--server", "127.0.0.1", "--port", String(sub), "--tls", "--auth", "PLAIN", "--auth-user", "alice@example.test", "--auth-password", PASSWORD, "--to", "carol@partner.example"];
    const other = swaks([...auth, "--from", "bob@example.test"]);
    // the reply right after MAIL is the refusal; no RCPT or DATA was sent
    expect(other.out).toMatch(/~> MAIL FROM:<bob@example\.test>\r?\n<~\* 553 5\.7\.1 Sender address <bob@example\.test> is not yours \(logged in as alice@example\.test\)/);
    expect(other.out).not.toMatch(/~> (RCPT|DATA)/);
    const alias = swaks([...auth, "--from", "sales@example.test", "--quit-after", "MAIL"]);
    expect(alias.out).toMatch(/~> MAIL FROM:<sales@example\.test>\r?\n<~  250 /);
    expect(await queued()).toBe(0);
  });

  it("relays the hourly limit as 450 4.7.1", async () => {
    const t = transport("rate@example.test");
    const send = (n: number) => mail({ from: "rate@example.test", to: ["bob@example.test"], subject: `rate ${n}`, text: "x" }).then((raw) => t.sendMail({ envelope: { from: "rate@example.test", to: ["bob@example.test"] }, raw }));
    for (let n = 1; n <= 3; n++) expect((await send(n)).response).toMatch(/^250 /);
    const over = await send(4).catch((e: Error & { responseCode?: number; response?: string }) => e);
    t.close();
    expect((over as { responseCode?: number }).responseCode).toBe(450);
    expect((over as { response?: string }).response).toMatch(/^450 4\.7\.1 Sending limit reached/);
  });

  it("locks an account out after wrong passwords like the webmail does, for the webmail too", async () => {
    for (let i = 0; i < 3; i++) {
      const wrong = swaks(["--server", "127.0.0.1", "--port", String(sub), "--tls", "--auth", "PLAIN", "--auth-user", "locked@example.test", "--auth-password", `wrong-${i}`, "--quit-after", "AUTH"]);
      expect(wrong.out).toMatch(/<~?\*\*? 535 5\.7\.8 Authentication credentials invalid/);
    }
    const right = swaks(["--server", "127.0.0.1", "--port", String(sub), "--tls", "--auth", "PLAIN", "--auth-user", "locked@example.test", "--auth-password", PASSWORD, "--quit-after", "AUTH"]);
    expect(right.out).toMatch(/<~?\*\*? 454 4\.7\.0 /);
    const web = new WebClient(s.base);
    expect((await web.login("locked@example.test", PASSWORD)).status).toBe(429);
    expect((await s.mx.waitForEvents("SUBMISSION_AUTH_FAILED", 1, (l) => l.address === "locked@example.test" && l.lockedAccount === true)).length).toBeGreaterThan(0);
    // and nobody else is locked: alice still authenticates
    const alice = swaks(["--server", "127.0.0.1", "--port", String(sub), "--tls", "--auth", "PLAIN", "--auth-user", "alice@example.test", "--auth-password", PASSWORD, "--quit-after", "AUTH"]);
    expect(alice.out).toMatch(/<~  235 /);
  });
  // last: the refused upload's connection is not reused by a later request
  it("refuses a compose upload over webmail.compose.maxUploadBytes with 413, sending nothing", async () => {
    const web = new WebClient(s.base);
    expect((await web.login("alice@example.test", PASSWORD)).status).toBe(303);
    const form = new FormData();
    form.set("_csrf", await web.csrf("/compose"));
    form.set("to", "bob@example.test");
    form.set("attachments", new Blob([Buffer.alloc(1_200_000, 65)]), "big.bin");
    const cookie = [...web.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const before = s.mx.events("OUTBOUND_ACCEPTED").length;
    const res = await fetch(`${s.base}/compose`, { method: "POST", body: form, redirect: "manual", headers: { origin: s.base, cookie } });
    expect(res.status).toBe(413);
    expect(await res.text()).toContain("The message is too large");
    expect(s.mx.events("OUTBOUND_ACCEPTED").length).toBe(before);
    // the log line comes over a pipe, maybe after the response
    await waitFor("the refusal logged", () => s.mx.events("WEBMAIL_SEND_REFUSED").at(-1)?.problem === "too large", 15_000);
  });

});

/**
 * Test messages as exact bytes (built with nodemailer's MailComposer, so they are what a
 * real client sends), and a sender that delivers them over real SMTP with nodemailer.
 */
import crypto from "node:crypto";
import nodemailer from "nodemailer";
import MailComposer from "nodemailer/lib/mail-composer";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";

export interface TestMessage { testId: string; from: string; to: string[]; raw: Buffer; smtputf8?: boolean; body8bit?: boolean }

export async function compose(opts: { testId: string; from: string; to: string[]; subject?: string; text?: string; html?: string;
  attachments?: { filename: string; content: Buffer }[]; textEncoding?: "quoted-printable" | "base64"; raw8bit?: boolean }): Promise<Buffer> {
  if (opts.raw8bit) {
    // a real 8-bit body (no transfer encoding): what an 8BITMIME client may send
    return Buffer.from([
      `From: <${opts.from}>`, `To: ${opts.to.map((t) => `<${t}>`).join(", ")}`, `Subject: ${opts.subject ?? "8-bit"}`,
      `Message-ID: <${opts.testId}@test>`, `X-Test-Id: ${opts.testId}`, "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "",
      opts.text ?? "", "",
    ].join("\r\n"), "utf8");
  }
  const mail = new MailComposer({
    from: opts.from, to: opts.to, subject: opts.subject ?? `test ${opts.testId}`, text: opts.text ?? `body of ${opts.testId}\n`,
    html: opts.html, attachments: opts.attachments, messageId: `<${opts.testId}@test>`, headers: { "X-Test-Id": opts.testId },
    textEncoding: opts.textEncoding, date: new Date("2026-11-21T10:00:00Z"),
  });
  // SMTP carries CRLF lines only: normalise here so the bytes we compare are the wire bytes
  return Buffer.from((await mail.compile().build()).toString("latin1").replace(/\r?\n/g, "\r\n"), "latin1");
}

export interface DkimKey { privateKey: string; publicKeyTxt: string; selector: string; domain: string }

export function makeDkimKey(domain = "sender.test", selector = "s1"): DkimKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const der = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  return { privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), publicKeyTxt: `v=DKIM1; k=rsa; p=${der}`, selector, domain };
}

export async function signDkim(raw: Buffer, key: DkimKey): Promise<Buffer> {
  // mailauth reads signatureData[] (its .d.ts describes an older flat shape)
  const res = await dkimSign(raw, {
    canonicalization: "relaxed/relaxed",
    signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey, algorithm: "rsa-sha256" }],
  } as never);
  if (!res.signatures.trim()) throw new Error(`DKIM signing failed: ${JSON.stringify(res.errors)}`);
  return Buffer.concat([Buffer.from(res.signatures, "utf8"), raw]);
}

/** A resolver that knows only `key`'s DKIM record (for mailauth's dkimVerify). */
export function dkimResolver(key: DkimKey) {
  return async (name: string, type: string): Promise<string[][]> => {
    if (type === "TXT" && name === `${key.selector}._domainkey.${key.domain}`) return [[key.publicKeyTxt]];
    throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
  };
}

/**
 * A message from `make`, signed, whose signature mailauth itself verifies before it goes
 * anywhere: mailauth's own sign and verify disagree on about 1 message in 1,200 (measured:
 * 5 "bad signature" in 6,000 composed and signed in one process, nothing sent), so a test of
 * what the spool does to signatures starts from ones that verify. A new `make()` each try
 * (nodemailer draws a new MIME boundary).
 */
export async function signedVerifiably(make: () => Promise<Buffer>, key: DkimKey): Promise<Buffer> {
  for (let tries = 0; tries < 5; tries++) {
    const signed = await signDkim(await make(), key);
    const res = await dkimVerify(signed, { resolver: dkimResolver(key) } as never);
    if (res.results.every((r: { status: { result: string } }) => r.status.result === "pass")) return signed;
  }
  throw new Error("no message whose DKIM signature verified in 5 tries");
}

/** Sends raw messages over real SMTP sessions, `concurrency` connections at a time. */
export async function sendAll(port: number, messages: TestMessage[], concurrency = 10): Promise<{ accepted: Map<string, string>; errors: Map<string, string> }> {
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true, pool: true, maxConnections: concurrency, maxMessages: 50, name: "client.test", connectionTimeout: 30_000, socketTimeout: 120_000 });
  const accepted = new Map<string, string>();
  const errors = new Map<string, string>();
  await Promise.all(messages.map(async (m) => {
    try {
      const info = await transport.sendMail({ envelope: { from: m.from, to: m.to }, raw: m.raw });
      accepted.set(m.testId, info.response);
    } catch (err) {
      errors.set(m.testId, (err as Error).message);
    }
  }));
  transport.close();
  return { accepted, errors };
}

/** Splits what the primary received into mxspool's Received header and the rest. */
export function stripFirstReceived(raw: Buffer): { header: string; rest: Buffer } {
  const text = raw.toString("latin1");
  if (!text.startsWith("Received: ")) throw new Error("message does not start with a Received header");
  let i = 0;
  for (;;) {
    const nl = text.indexOf("\r\n", i);
    if (nl < 0) throw new Error("unterminated header");
    i = nl + 2;
    if (text[i] !== " " && text[i] !== "\t") break;
  }
  return { header: text.slice(0, i), rest: raw.subarray(i) };
}

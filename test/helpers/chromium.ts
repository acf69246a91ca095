/**
 * For the browser tests: Debian's Chromium launched through playwright-core (headless, no
 * sandbox, GPU or background traffic; the launch bounded), the context options of a desktop
 * or a phone screen, and the webmail's login form filled in and sent as a user does it.
 */
import { chromium, type Browser, type BrowserContextOptions, type Page } from "playwright-core";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium", headless: true, timeout: 30_000,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
}

/** A screen of that size, in British English; a phone's is a touch screen at twice the pixels. */
export function screen(viewport: { width: number; height: number }, mobile = false): BrowserContextOptions {
  return { viewport, isMobile: mobile, hasTouch: mobile, deviceScaleFactor: mobile ? 2 : 1, locale: "en-GB" };
}

/** On the webmail's login page: types the address and the password, presses Enter, waits for the inbox. */
export async function submitWebmailLogin(page: Page, base: string, address: string, password: string): Promise<void> {
  await page.getByLabel("E-mail address").fill(address);
  await page.getByLabel("Password").fill(password);
  await page.getByLabel("Password").press("Enter");
  await page.waitForURL(`${base}/`);
}

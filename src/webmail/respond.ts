/**
 * Writing webmail responses with the security headers every one of them carries: a strict
 * CSP for our pages (only our own script and stylesheet, frames only from us, never framed
 * ourselves), nosniff, no referrer to other sites, no caching of mail. Pages, redirects and downloads.
 */
import type http from "node:http";
import { Readable } from "node:stream";
import type { SafeHtml } from "./pages/html.js";

export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  // not "no-referrer": with it Chromium sends "Origin: null" on our own form posts
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
  "cache-control": "no-store",
};

export type Headers = Record<string, string | string[]>;

export function sendPage(res: http.ServerResponse, status: number, page: SafeHtml, headers: Headers = {}): void {
  const body = Buffer.from(page.value, "utf8");
  res.writeHead(status, {
    ...SECURITY_HEADERS, "content-security-policy": PAGE_CSP, "x-frame-options": "DENY",
    "content-type": "text/html; charset=utf-8", "content-length": body.length, ...headers,
  });
  res.end(body);
}

/** 303 See Other: after a POST the browser GETs the new page. */
export function redirect(res: http.ServerResponse, location: string, headers: Headers = {}): void {
  res.writeHead(303, { ...SECURITY_HEADERS, location, "content-length": 0, ...headers });
  res.end();
}

/** Bytes (a download, the frame document, a static file): `headers` must set the type and CSP. */
export function sendBytes(res: http.ServerResponse, status: number, body: Buffer | (() => Readable), headers: Headers): Promise<void> {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-security-policy": "default-src 'none'; sandbox", ...headers, ...(Buffer.isBuffer(body) ? { "content-length": body.length } : {}) });
  if (Buffer.isBuffer(body)) { res.end(body); return Promise.resolve(); }
  return new Promise((resolve) => {
    const s = body();
    s.on("error", () => { res.destroy(); resolve(); });
    s.pipe(res).on("finish", () => resolve()).on("close", () => resolve());
  });
}

/**
 * Facts about a request the webmail (and the admin console, which shares its webmail.* cookie
 * settings) decides on: the client IP and whether it came over TLS (X-Forwarded-For /
 * X-Forwarded-Proto are believed only with webmail.trustProxy), so whether the cookies it sets
 * carry Secure; whether it is same-origin (Origin / Sec-Fetch-Site); and its urlencoded form
 * body (size-capped).
 */
import type http from "node:http";
import type { TLSSocket } from "node:tls";
import type { WebmailConfig } from "../config/webmail-schema.js";
import { readCookies } from "./cookies.js";

export const MAX_FORM_BYTES = 16 * 1024;

export function clientIp(req: http.IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const fwd = String(req.headers["x-forwarded-for"] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    if (fwd.length) return fwd[fwd.length - 1].slice(0, 64);
  }
  return (req.socket.remoteAddress ?? "unknown").replace(/^::ffff:/, "");
}

export function overTls(req: http.IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as TLSSocket).encrypted) return true;
  return trustProxy && String(req.headers["x-forwarded-proto"] ?? "").split(",")[0].trim().toLowerCase() === "https";
}

type CookieSettings = Pick<WebmailConfig, "secureCookies" | "trustProxy">;

/** Whether the cookies set in answer to this request carry Secure: always, never, or (auto) when it came over TLS. */
export function secureCookies(req: http.IncomingMessage, w: CookieSettings): boolean {
  return w.secureCookies === "always" || (w.secureCookies === "auto" && overTls(req, w.trustProxy));
}

/** What the webmail and the console know of every request before routing it. */
export interface RequestFacts {
  ip: string;
  /** Cookies set in the answer carry Secure. */
  secure: boolean;
  cookies: Map<string, string>;
}

export function requestFacts(req: http.IncomingMessage, w: CookieSettings): RequestFacts {
  return { ip: clientIp(req, w.trustProxy), secure: secureCookies(req, w), cookies: readCookies(req) };
}

/**
 * A state-changing request must come from our own pages: a present Origin must name this
 * host, and a browser's Sec-Fetch-Site must not be cross-site. (The CSRF token is the main
 * defence; this is the second.)
 */
export function sameOrigin(req: http.IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site && site !== "same-origin" && site !== "none") return false;
  const origin = req.headers.origin;
  if (!origin) return true;
  if (origin === "null") return site === "same-origin"; // a privacy-minded browser hides the origin
  try { return new URL(origin).host === req.headers.host; } catch { return false; }
}

export type FormResult = { ok: true; form: URLSearchParams } | { ok: false; status: 400 | 413 | 415 };

export async function readForm(req: http.IncomingMessage): Promise<FormResult> {
  const type = String(req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") { req.resume(); return { ok: false, status: 415 }; }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_FORM_BYTES) { req.resume(); return { ok: false, status: 413 }; }
    chunks.push(c as Buffer);
  }
  return { ok: true, form: new URLSearchParams(Buffer.concat(chunks).toString("utf8")) };
}

/**
 * The webmail's static files, served from memory at content-hashed URLs
 * (/static/webmail.<hash>.css|js) with a year of immutable caching: a new build gets new URLs.
 */
import crypto from "node:crypto";
import { CSS } from "./webmail-css.js";
import { JS } from "./webmail-js.js";

export interface Asset { url: string; type: string; body: Buffer; etag: string }

/** `base` + `.<hash>.<ext>`: the admin console makes its own under /admin/static/. */
export function makeAsset(base: string, ext: "css" | "js", text: string, type: string): Asset {
  const body = Buffer.from(text, "utf8");
  const hash = crypto.createHash("sha256").update(body).digest("hex").slice(0, 12);
  return { url: `${base}.${hash}.${ext}`, type, body, etag: `"${hash}"` };
}

const ASSETS = { css: makeAsset("/static/webmail", "css", CSS, "text/css; charset=utf-8"), js: makeAsset("/static/webmail", "js", JS, "text/javascript; charset=utf-8") };

export function assetUrl(kind: "css" | "js"): string {
  return ASSETS[kind].url;
}

export function findAsset(pathname: string): Asset | undefined {
  return Object.values(ASSETS).find((a) => a.url === pathname);
}

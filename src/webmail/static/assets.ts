/**
 * The webmail's static files, served from memory at content-hashed URLs
 * (/static/webmail.<hash>.css|js) with a year of immutable caching: a new build gets new URLs.
 */
import crypto from "node:crypto";
import { CSS } from "./webmail-css.js";
import { JS } from "./webmail-js.js";

interface Asset { url: string; type: string; body: Buffer; etag: string }

function asset(ext: "css" | "js", text: string, type: string): Asset {
  const body = Buffer.from(text, "utf8");
  const hash = crypto.createHash("sha256").update(body).digest("hex").slice(0, 12);
  return { url: `/static/webmail.${hash}.${ext}`, type, body, etag: `"${hash}"` };
}

const ASSETS = { css: asset("css", CSS, "text/css; charset=utf-8"), js: asset("js", JS, "text/javascript; charset=utf-8") };

export function assetUrl(kind: "css" | "js"): string {
  return ASSETS[kind].url;
}

export function findAsset(pathname: string): Asset | undefined {
  return Object.values(ASSETS).find((a) => a.url === pathname);
}

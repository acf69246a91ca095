/**
 * The document shown inside the message's iframe: sanitised mail HTML in a minimal page,
 * served with its own Content-Security-Policy — nothing may load but data: images (and
 * https: images once the user asks), no script runs, no form posts, no base URL; and the CSP
 * `sandbox` directive, so even opened on its own (not in our iframe) it stays sandboxed.
 */
import { sanitizeMailHtml } from "./html-sanitizer.js";

export const FRAME_SANDBOX = "allow-popups allow-popups-to-escape-sandbox";

export function frameCsp(remoteImages: boolean): string {
  return [
    "default-src 'none'", `img-src data:${remoteImages ? " https:" : ""}`, "style-src 'unsafe-inline'", "font-src data:",
    "base-uri 'none'", "form-action 'none'", "frame-ancestors 'self'", `sandbox ${FRAME_SANDBOX}`,
  ].join("; ");
}

const FRAME_STYLE = "html{color-scheme:light}body{margin:0;padding:16px;font:15px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24;background:#fff;overflow-wrap:anywhere}img{max-width:100%;height:auto}table{max-width:100%}pre{white-space:pre-wrap}a{color:#0b57d0}";

export function frameDocument(mailHtml: string, remoteImages: boolean): { body: string; blockedImages: number } {
  const s = sanitizeMailHtml(mailHtml, { remoteImages });
  const body = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer"><style>${FRAME_STYLE}</style></head><body>${s.html}</body></html>`;
  return { body, blockedImages: s.blockedImages };
}

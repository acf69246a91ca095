/**
 * Headers for downloading what a sender named: a Content-Type that is a plain type/subtype
 * (anything else becomes application/octet-stream), and `Content-Disposition: attachment`
 * with a filename stripped of paths, control characters and quotes, as an ASCII fallback
 * plus the exact UTF-8 name (RFC 6266 / 5987). The browser always downloads; it never renders.
 * A sender's name is cut to MAX_NAME_INPUT before any regex, and the regexes are single
 * character classes (linear); the trims are loops (`/[\s.]+$/` is quadratic on long runs).
 */
const TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

export function safeContentType(type: string | undefined): string {
  const t = (type ?? "").split(";")[0].trim().toLowerCase();
  return TYPE.test(t) ? t : "application/octet-stream";
}

/** Names longer than this (from a Content-Disposition or Content-Type parameter) are cut first. */
const MAX_NAME_INPUT = 4096;

const trimmable = (c: string) => c === "." || /\s/.test(c);

/** `s` without leading and trailing whitespace and dots. */
function trimDotsAndSpaces(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && trimmable(s[start])) start++;
  while (end > start && trimmable(s[end - 1])) end--;
  return s.slice(start, end);
}

export function safeFilename(name: string | undefined, fallback: string): string {
  const base = (name ?? "").slice(-MAX_NAME_INPUT).split(/[\\/]/).pop() ?? "";
  const clean = trimDotsAndSpaces(base.normalize("NFC").replace(/[\u0000-\u001f\u007f-\u009f"*:<>?|\u202a-\u202e\u2066-\u2069]/g, "_")).slice(0, 150);
  return clean || fallback;
}

export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, "_").replace(/[%\\]/g, "_");
  const utf8 = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}

/**
 * A realistic, deterministic mail corpus for memory and throughput measurements (no downloads):
 * smtp-source's 10 KB of one repeated letter compresses 100:1 and flatters any store, so the
 * capacity bench and tests use this mix instead. Same seed, same bytes, on every machine.
 *
 * The mix (by message count; sizes are drawn first, the kind follows from the size):
 *   - size: log-normal, median 20 KB, σ 1.4 (mean ≈ 55 KB), cut at 25 MB; plus one message in
 *     a thousand drawn uniformly from 10–25 MB — together a median of ~20 KB, a mean of ~75 KB;
 *   - under 12 KB: 70% plain-text replies with a quoted thread, 30% small HTML newsletters;
 *   - 12–60 KB: 35% replies, 40% multipart/alternative HTML newsletters (half with the HTML
 *     part base64-encoded, as many bulk senders do), 25% messages with an attachment;
 *   - above 60 KB: attachments — 60% incompressible (random bytes standing in for JPEG, PDF,
 *     zip), 40% compressible (CSV, text, uncompressed Office XML), base64 in 76-column lines;
 *   - every message has a realistic header block: a Received chain of 3–6 hops, a 2048-bit
 *     DKIM-Signature, ARC/Authentication-Results, Message-ID, MIME headers (~2–4 KB).
 * Text is word salad from a Zipf-weighted vocabulary, which compresses about as English does.
 */

import { prng } from "./prng.js";

export { prng };

export type CorpusKind = "reply" | "newsletter" | "attach-random" | "attach-text";
export interface CorpusMessage { kind: CorpusKind; raw: Buffer }

const WORDS = ("the of and to a in is it you that he was for on are with as I his they be at one have this from or had by hot word but what some we can out other were all there when up use your how said an each she which do their time if will way about many then them write would like so these her long make thing see him two has look more day could go come did number sound no most people my over know water than call first who may down side been now find any new work part take get place made live where after back little only round man year came show every good me give our under name very through just form sentence great think say help low line differ turn cause much mean before move right boy old too same tell does set three want air well also play small end put home read hand port large spell add even land here must big high such follow act why ask men change went light kind off need house picture try us again animal point mother world near build self earth father meeting invoice budget quarter report project deadline customer review schedule").split(" ");
const NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter"];
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

class Gen {
  constructor(readonly r: () => number) {}
  int(lo: number, hi: number): number { return lo + Math.floor(this.r() * (hi - lo + 1)); }
  pick<T>(a: readonly T[]): T { return a[Math.floor(this.r() * a.length)]; }
  /** Zipf-ish: low indexes far more often, as in real text. */
  word(): string { return WORDS[Math.floor(WORDS.length * this.r() ** 2.2)]; }
  sentence(): string {
    const n = this.int(5, 18);
    const w: string[] = [];
    for (let i = 0; i < n; i++) w.push(this.word());
    w[0] = w[0][0].toUpperCase() + w[0].slice(1);
    return w.join(" ") + this.pick([".", ".", ".", "?", "!"]);
  }
  paragraph(): string { const n = this.int(2, 6); return Array.from({ length: n }, () => this.sentence()).join(" "); }
  b64chars(n: number): string { let s = ""; for (let i = 0; i < n; i++) s += B64[Math.floor(this.r() * 64)]; return s; }
  hex(n: number): string { let s = ""; for (let i = 0; i < n; i++) s += "0123456789abcdef"[Math.floor(this.r() * 16)]; return s; }
  randomBytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i += 4) { const v = (this.r() * 4294967296) >>> 0; for (let k = 0; k < 4 && i + k < n; k++) b[i + k] = (v >>> (8 * k)) & 255; }
    return b;
  }
  addr(): string { return `${this.pick(NAMES)}.${this.pick(NAMES)}@${this.pick(["example.com", "mail.example.org", "corp.example.net", "news.example.info"])}`; }
  ip(): string { return `${this.int(1, 223)}.${this.int(0, 255)}.${this.int(0, 255)}.${this.int(1, 254)}`; }
}

/** Folds text to lines of at most `width` (CRLF ends), at spaces. */
function wrap(text: string, width = 72, prefix = ""): string {
  const out: string[] = [];
  let line = "";
  for (const w of text.split(" ")) {
    if (line && line.length + 1 + w.length > width) { out.push(prefix + line); line = w; } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(prefix + line);
  return out.join("\r\n");
}

function base64Lines(b: Buffer): string {
  const s = b.toString("base64");
  const out: string[] = [];
  for (let i = 0; i < s.length; i += 76) out.push(s.slice(i, i + 76));
  return out.join("\r\n");
}

function headerBlock(g: Gen, from: string, to: string, subject: string, date: Date, mime: string): string {
  const hops = g.int(3, 6);
  const h: string[] = [];
  for (let i = 0; i < hops; i++) {
    const t = new Date(date.getTime() - i * g.int(1, 20) * 1000).toUTCString().replace("GMT", "+0000");
    h.push(`Received: from mail${g.int(1, 40)}.relay${i}.example.net (mail${g.int(1, 40)}.relay${i}.example.net [${g.ip()}])\r\n\tby mx${i}.example.org (Postfix) with ESMTPS id ${g.hex(10).toUpperCase()}\r\n\tfor <${to}>; ${t}`);
  }
  const dom = from.split("@")[1];
  h.push(`ARC-Seal: i=1; a=rsa-sha256; t=${Math.floor(date.getTime() / 1000)}; cv=none; d=${dom}; s=arc-2024;\r\n\tb=${wrap(g.b64chars(344), 70, "\t").trimStart()}`);
  h.push(`Authentication-Results: mx0.example.org; dkim=pass header.d=${dom} header.s=sel1 header.b=${g.b64chars(8)};\r\n\tspf=pass (mx0.example.org: domain of ${from} designates ${g.ip()} as permitted sender) smtp.mailfrom=${from};\r\n\tdmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=${dom}`);
  h.push(`DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${dom}; s=sel1; t=${Math.floor(date.getTime() / 1000)};\r\n\th=from:to:subject:date:message-id:mime-version:content-type;\r\n\tbh=${g.b64chars(43)}=;\r\n\tb=${wrap(g.b64chars(344), 70, "\t").trimStart()}`);
  h.push(`From: ${from.split("@")[0].replace(".", " ")} <${from}>`, `To: <${to}>`, `Subject: ${subject}`, `Date: ${date.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${g.hex(16)}.${g.hex(8)}@${dom}>`, `MIME-Version: 1.0`, mime);
  if (g.r() < 0.5) h.push(`X-Mailer: ${g.pick(["Microsoft Outlook 16.0", "Apple Mail (2.3774)", "Thunderbird 128.3", "Mailchimp Mailer"])}`);
  return h.join("\r\n") + "\r\n\r\n";
}

function replyBody(g: Gen, size: number): string {
  const parts: string[] = [];
  let depth = 0;
  let len = 0;
  while (len < size) {
    const p = wrap(g.paragraph(), 72, "> ".repeat(depth));
    parts.push(p);
    len += p.length + 4;
    if (g.r() < 0.25) { const q = `${"> ".repeat(depth)}On ${new Date(1_750_000_000_000 + g.int(0, 1e9)).toUTCString()}, ${g.addr()} wrote:`; parts.push(q); len += q.length + 4; depth++; }
  }
  return parts.join("\r\n\r\n") + "\r\n";
}

function htmlBody(g: Gen, size: number): string {
  const rows: string[] = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>td{font-family:Arial,sans-serif;font-size:14px;color:#333333}</style></head><body><table width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" align=\"center\">"];
  let len = rows[0].length;
  while (len < size) {
    const r = `<tr><td style="padding:12px 24px;background-color:#ffffff;border-bottom:1px solid #eeeeee"><h2 style="margin:0 0 8px 0;font-size:18px">${g.sentence()}</h2><p style="margin:0;line-height:20px">${g.paragraph()}</p><a href="https://news.example.info/c/${g.hex(24)}?utm_source=newsletter&amp;utm_medium=email" style="color:#0066cc">Read more</a></td></tr>`;
    rows.push(r);
    len += r.length;
  }
  rows.push("</table></body></html>");
  return rows.join("\r\n");
}

function csv(g: Gen, size: number): string {
  const lines = ["date,customer,region,product,quantity,unit_price,total"];
  let len = lines[0].length;
  while (len < size) {
    const q = g.int(1, 500), p = g.int(100, 99_999) / 100;
    const l = `2026-${String(g.int(1, 12)).padStart(2, "0")}-${String(g.int(1, 28)).padStart(2, "0")},${g.pick(NAMES)} ${g.pick(NAMES)},${g.pick(["north", "south", "east", "west"])},SKU-${g.int(1000, 9999)},${q},${p.toFixed(2)},${(q * p).toFixed(2)}`;
    lines.push(l);
    len += l.length + 2;
  }
  return lines.join("\r\n");
}

function officeXml(g: Gen, size: number): string {
  const out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'];
  let len = out[0].length;
  while (len < size) {
    const p = `<w:p><w:pPr><w:pStyle w:val="Normal"/><w:spacing w:after="160" w:line="259" w:lineRule="auto"/></w:pPr><w:r><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri"/><w:sz w:val="22"/></w:rPr><w:t xml:space="preserve">${g.paragraph()}</w:t></w:r></w:p>`;
    out.push(p);
    len += p.length;
  }
  out.push("</w:body></w:document>");
  return out.join("");
}

/** The size of the next message, in bytes. */
function drawSize(g: Gen): number {
  if (g.r() < 0.001) return g.int(10 << 20, 25 << 20);
  // Box–Muller normal, then log-normal around a 20 KB median
  const z = Math.sqrt(-2 * Math.log(1 - g.r())) * Math.cos(2 * Math.PI * g.r());
  return Math.max(1500, Math.min(25 << 20, Math.round(20_000 * Math.exp(1.4 * z))));
}

function kindFor(g: Gen, size: number): CorpusKind {
  const x = g.r();
  if (size < 12_000) return x < 0.7 ? "reply" : "newsletter";
  if (size < 60_000) return x < 0.35 ? "reply" : x < 0.75 ? "newsletter" : g.r() < 0.6 ? "attach-random" : "attach-text";
  return x < 0.6 ? "attach-random" : "attach-text";
}

/** One message of about `size` bytes of the given kind (CRLF line ends, no NUL, lines ≤ 998). */
export function makeMessage(g: Gen, kind: CorpusKind, size: number, to: string): Buffer {
  const from = g.addr();
  const date = new Date(1_760_000_000_000 + g.int(0, 3e10));
  const boundary = `----=_Part_${g.hex(12)}`;
  const subject = `${kind === "reply" ? "Re: " : ""}${g.sentence().slice(0, 60)}`;
  if (kind === "reply") {
    const h = headerBlock(g, from, to, subject, date, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit");
    return Buffer.from(h + replyBody(g, Math.max(200, size - h.length)), "utf8");
  }
  if (kind === "newsletter") {
    const h = headerBlock(g, from, to, subject, date, `Content-Type: multipart/alternative; boundary="${boundary}"`);
    const room = Math.max(600, size - h.length);
    const text = wrap(g.paragraph() + " " + g.paragraph(), 76);
    const html = htmlBody(g, Math.max(300, room - text.length - 400));
    const b64 = g.r() < 0.5;
    const htmlPart = b64 ? base64Lines(Buffer.from(html)) : html;
    return Buffer.from(`${h}--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n--${boundary}\r\n`
      + `Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: ${b64 ? "base64" : "8bit"}\r\n\r\n${htmlPart}\r\n--${boundary}--\r\n`, "utf8");
  }
  const h = headerBlock(g, from, to, subject, date, `Content-Type: multipart/mixed; boundary="${boundary}"`);
  const note = wrap(g.paragraph(), 72);
  const payloadBytes = Math.max(100, Math.floor((size - h.length - note.length - 400) * 57 / 78));
  let name: string, type: string, payload: Buffer;
  if (kind === "attach-random") {
    [name, type] = g.pick([["scan.pdf", "application/pdf"], ["photo.jpg", "image/jpeg"], ["archive.zip", "application/zip"]] as const);
    payload = g.randomBytes(payloadBytes);
  } else {
    [name, type] = g.pick([["report.csv", "text/csv"], ["notes.txt", "text/plain"], ["document.xml", "application/xml"]] as const);
    payload = Buffer.from(name === "report.csv" ? csv(g, payloadBytes) : name === "notes.txt" ? replyBody(g, payloadBytes) : officeXml(g, payloadBytes)).subarray(0, payloadBytes);
  }
  return Buffer.from(`${h}--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${note}\r\n--${boundary}\r\n`
    + `Content-Type: ${type}; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n`
    + `${base64Lines(payload)}\r\n--${boundary}--\r\n`, "utf8");
}

export interface CorpusOptions {
  seed?: number;
  count: number;
  to?: string;
  /** Sizes (bytes) of extra messages put first, e.g. one ~5 MB attachment in a small test sample. */
  extraSizes?: number[];
  /** Leave out messages above this size (tests with a size limit). */
  maxSize?: number;
}

/** `count` messages of the mix (plus `extraSizes`), the same for the same options. */
export function* corpus(opts: CorpusOptions): Generator<CorpusMessage> {
  const g = new Gen(prng(opts.seed ?? 20261201));
  const to = opts.to ?? "user@bench.test";
  for (const size of opts.extraSizes ?? []) {
    const kind: CorpusKind = g.r() < 0.5 ? "attach-random" : "attach-text";
    yield { kind, raw: makeMessage(g, kind, size, to) };
  }
  for (let i = 0; i < opts.count;) {
    const size = drawSize(g);
    if (opts.maxSize && size > opts.maxSize) continue;
    const kind = kindFor(g, size);
    yield { kind, raw: makeMessage(g, kind, size, to) };
    i++;
  }
}

export interface CorpusStats { messages: number; bytes: number; meanBytes: number; medianBytes: number; p90Bytes: number; p99Bytes: number; maxBytes: number; over10MiB: number; byKind: Record<string, { messages: number; bytes: number }> }

export function corpusStats(msgs: Iterable<{ kind: string; size: number }>): CorpusStats {
  const sizes: number[] = [];
  const byKind: CorpusStats["byKind"] = {};
  for (const m of msgs) {
    sizes.push(m.size);
    const k = (byKind[m.kind] ??= { messages: 0, bytes: 0 });
    k.messages++;
    k.bytes += m.size;
  }
  sizes.sort((a, b) => a - b);
  const at = (q: number) => sizes[Math.min(sizes.length - 1, Math.floor(q * sizes.length))] ?? 0;
  const bytes = sizes.reduce((a, b) => a + b, 0);
  return { messages: sizes.length, bytes, meanBytes: Math.round(bytes / Math.max(1, sizes.length)), medianBytes: at(0.5), p90Bytes: at(0.9), p99Bytes: at(0.99),
    maxBytes: sizes.at(-1) ?? 0, over10MiB: sizes.filter((s) => s >= 10 << 20).length, byKind };
}

export function formatCorpusStats(s: CorpusStats): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const lines = [`${s.messages} messages, ${(s.bytes / 1048576).toFixed(1)} MiB: median ${kb(s.medianBytes)}, mean ${kb(s.meanBytes)}, p90 ${kb(s.p90Bytes)}, p99 ${kb(s.p99Bytes)}, max ${kb(s.maxBytes)}, ${s.over10MiB} at 10 MiB or more`];
  for (const [k, v] of Object.entries(s.byKind).sort()) lines.push(`  ${k.padEnd(14)} ${String(v.messages).padStart(6)} messages (${(100 * v.messages / s.messages).toFixed(0)}%), ${(100 * v.bytes / s.bytes).toFixed(0)}% of the bytes`);
  return lines.join("\n");
}

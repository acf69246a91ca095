/**
 * Parses spamd's answer (SPAMD/1.x protocol) from the raw bytes of the whole reply. Pure.
 *   SPAMD/1.1 0 EX_OK\r\n
 *   Content-length: 841\r\n
 *   Spam: True ; 1000.0 / 5.0\r\n
 *   \r\n
 *   <body: for REPORT, SpamAssassin's report with its rule table>
 * The header is ASCII; the body may carry 8-bit bytes from the message (the "Content
 * preview"), so it is handled as bytes and decoded as latin1 only to read the rule table,
 * and its length is checked against Content-length (a short body means a cut connection).
 */
import type { SpamRule } from "../../policies/scan-outcome.js";

export type SpamdReply =
  | { ok: true; version: string; code: 0; message: string; headers: Map<string, string>;
      spam?: { isSpam: boolean; score: number; threshold: number }; body: Buffer }
  | { ok: false; error: string };

const STATUS = /^SPAMD\/(\d+\.\d+) +(\d+) +(.*)$/;
const SPAM = /^(True|False|Yes|No) *; *(-?\d+(?:\.\d+)?) *\/ *(-?\d+(?:\.\d+)?)$/i;

export function parseSpamdReply(raw: Buffer): SpamdReply {
  const headEnd = raw.indexOf("\r\n\r\n");
  const firstEnd = raw.indexOf("\r\n");
  if (firstEnd < 0) return { ok: false, error: raw.length ? `incomplete status line ${JSON.stringify(raw.subarray(0, 80).toString("latin1"))}` : "empty reply" };
  const status = STATUS.exec(raw.subarray(0, firstEnd).toString("latin1"));
  if (!status) return { ok: false, error: `not a SPAMD reply: ${JSON.stringify(raw.subarray(0, Math.min(firstEnd, 80)).toString("latin1"))}` };
  const code = Number(status[2]);
  if (code !== 0) return { ok: false, error: `spamd error ${code} ${status[3].slice(0, 120)}` };
  const headers = new Map<string, string>();
  const headText = raw.subarray(firstEnd + 2, headEnd < 0 ? raw.length : headEnd).toString("latin1");
  for (const line of headText.split("\r\n")) {
    if (!line) continue;
    const i = line.indexOf(":");
    if (i <= 0) return { ok: false, error: `bad header line ${JSON.stringify(line.slice(0, 80))}` };
    headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  const body = headEnd < 0 ? Buffer.alloc(0) : raw.subarray(headEnd + 4);
  const length = headers.get("content-length");
  if (length !== undefined) {
    if (!/^\d+$/.test(length)) return { ok: false, error: `bad Content-length ${JSON.stringify(length)}` };
    if (body.length < Number(length)) return { ok: false, error: `reply cut short: ${body.length} of ${length} body bytes` };
  }
  let spam: { isSpam: boolean; score: number; threshold: number } | undefined;
  const spamHeader = headers.get("spam");
  if (spamHeader !== undefined) {
    const m = SPAM.exec(spamHeader);
    if (!m) return { ok: false, error: `bad Spam header ${JSON.stringify(spamHeader.slice(0, 80))}` };
    spam = { isSpam: /^(true|yes)$/i.test(m[1]), score: Number(m[2]), threshold: Number(m[3]) };
  }
  return { ok: true, version: status[1], code: 0, message: status[3], headers, spam, body: length === undefined ? body : body.subarray(0, Number(length)) };
}

const RULE_ROW = /^ *(-?\d+(?:\.\d+)?) +([A-Za-z0-9_]+) +(.*)$/;

/**
 * The rule table of a REPORT body (" pts rule name  description", a dashed line, then one
 * row per rule; long descriptions continue on deeper-indented lines). Rules missing when the
 * report template was customised without the table: an empty list, never an error.
 */
export function parseReportRules(body: Buffer | string): SpamRule[] {
  const lines = (typeof body === "string" ? body : body.toString("latin1")).split(/\r?\n/);
  const start = lines.findIndex((l, i) => /^-{3,} +-{3,}/.test(l) && /pts +rule/i.test(lines[i - 1] ?? ""));
  if (start < 0) return [];
  const rules: SpamRule[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.trim()) break;
    const m = RULE_ROW.exec(line);
    if (m) rules.push({ score: Number(m[1]), name: m[2], description: m[3].trim() });
    else if (rules.length && /^\s/.test(line)) rules[rules.length - 1].description += " " + line.trim();
    else break;
  }
  return rules;
}

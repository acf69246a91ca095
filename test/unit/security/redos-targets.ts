/**
 * The ReDoS audit's table, kept out of the test file so a worker thread can load it (built, from
 * dist/) and be stopped when a case does not return: a catastrophic regex never yields, so only
 * terminating its thread ends it. INPUTS are pathological 64 KB texts; TARGETS are the functions
 * that run regexes over a stranger's text (see regex-audit.test.ts for the audit notes).
 */
import { classifyRecipient } from "../../../policies/recipients.js";
import { validHeloName } from "../../../policies/client-checks.js";
import { MessageInspector } from "../../../policies/message-limits.js";
import { mayNotify } from "../../../policies/dsn-policy.js";
import { composeDsn } from "../../../src/dsn/compose-dsn.js";
import { parseClamdReply } from "../../../src/filters/clamd-reply.js";
import { parseReportRules, parseSpamdReply } from "../../../src/filters/spamd-reply.js";
import { receivedHeader } from "../../../src/mail/received-header.js";
import { normalizeAddress } from "../../../src/webmail/address.js";
import { contentDisposition, safeContentType, safeFilename } from "../../../src/webmail/content-disposition.js";
import { headerLines, splitMailbox, summarize } from "../../../src/webmail/message-summary.js";
import { decodeMimeWords } from "../../../src/webmail/mime-words.js";
import { sanitizeMailHtml } from "../../../src/webmail/html-sanitizer.js";
import { parseListQuery } from "../../../src/api/validate.js";

const K64 = 64 * 1024;
const fill = (unit: string, size = K64) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** The pathological 64 KB texts every function gets. */
export const INPUTS: Record<string, string> = {
  spaces: fill(" "),
  "spaces then x": fill(" ", K64 - 1) + "x",
  "spaces inside": "x" + fill(" ", K64 - 2) + "x",
  "q-encoded underscores": `=?utf-8?q?${fill("_", K64 - 14)}?=x`,
  "q-encoded underscores then <": `=?utf-8?q?${fill("_", K64 - 16)}?=x<`,
  quotes: fill('"'),
  "quote space": fill('" '),
  "open angles": fill("<"),
  "angle space quote": fill('< "'),
  "encoded-word starts": fill("=?"),
  "encoded-word heads": fill("=?a?q?"),
  "charset stars": "=?a*" + fill("x", K64 - 4),
  dots: fill("."),
  "dot space": fill(". "),
  hyphens: fill("-"),
  "hyphen labels": fill("a-"),
  "open parens": fill("("),
  "at signs": fill("a@"),
  backslashes: fill("\\"),
  crlfs: fill("\r\n", K64 - 1) + "x",
  "folded empty lines": "Subject:" + fill("\r\n ", K64 - 8),
  "header names": fill("content-type: multipart/report;\r\n "),
  semicolons: "content-type:" + fill("; "),
  "report-type runs": "content-type: multipart/report;" + fill(" report-type = "),
  mixed: fill('=?utf-8?q?_"<a@b. -(\\\r\n ?= '),
};

/** Each function a stranger's text reaches, fed one input. Returns something to sanity-check. */
export const TARGETS: Record<string, (s: string) => unknown> = {
  "webmail splitMailbox (From)": (s) => splitMailbox(s),
  "webmail summarize (From:)": (s) => summarize(`From: ${s}\r\nSubject: ${s}\r\n\r\n`),
  "webmail summarize (body after the header)": (s) => summarize(`From: a@b\r\nContent-Type: multipart/mixed\r\n\r\n${s}`),
  "webmail headerLines": (s) => headerLines(s),
  "webmail decodeMimeWords": (s) => decodeMimeWords(s),
  "webmail safeFilename + contentDisposition": (s) => contentDisposition(safeFilename(s, "attachment")),
  "webmail safeContentType": (s) => safeContentType(s),
  "webmail normalizeAddress (login)": (s) => normalizeAddress(s),
  "webmail sanitizeMailHtml (style, href)": (s) => sanitizeMailHtml(`<p style="color:${s}"><a href="${s}">x</a></p>`, { remoteImages: false }),
  "HELO validHeloName": (s) => validHeloName(s),
  "HELO validHeloName (literal)": (s) => validHeloName(`[${s}]`),
  "RCPT classifyRecipient": (s) => classifyRecipient(`${s}@example.test`, { hasDomain: () => true, knows: () => true }),
  "RCPT classifyRecipient (domain)": (s) => classifyRecipient(`a@${s}`, { hasDomain: () => true, knows: () => true }),
  "ingress MessageInspector": (s) => {
    const i = new MessageInspector({ maxHeaderSize: 1_000_000, maxLineLength: 1_000_000, maxReceivedHeaders: 50, maxMessageSize: 10_000_000 });
    i.push(Buffer.from(`Subject: ${s}\r\nReceived: ${s}\r\n\r\n${s}`, "latin1"));
    return i.subject;
  },
  "smtp receivedHeader (HELO, rcpt)": (s) => receivedHeader({ helo: s, clientHostname: s, clientIp: "192.0.2.1", hostname: "mx.test", id: "ID", smtputf8: false, rcpts: [s], date: new Date(0) }),
  "dsn mayNotify": (s) => mayNotify("a@b.test", s),
  "dsn composeDsn (original headers)": (s) => composeDsn({ kind: "failed", hostname: "mx.test", queueId: "ID", sender: "a@b.test", arrival: new Date(0), recipients: [], originalHeaders: s + "\r\n".repeat(16_000), willRetryUntil: new Date(0) }),
  "api parseListQuery (q, from, rcpt, since, cursor)": (s) => parseListQuery(new URLSearchParams({ q: s, from: s, rcpt: s, since: s, cursor: s }), ["example.test"]),
  "scanner parseClamdReply": (s) => parseClamdReply(`stream: ${s} FOUND`),
  "scanner parseSpamdReply": (s) => parseSpamdReply(Buffer.from(`SPAMD/1.1 0 EX_OK\r\nSpam: True ; ${s}\r\n\r\n${s}`, "latin1")),
  "scanner parseReportRules": (s) => parseReportRules(` pts rule name\r\n---- ----------\r\n${s}\r\n 1.0 RULE ${s}`),
};

/** Runs one target over every input (in a worker); returns how many inputs it took. */
export function runTarget(target: string): number {
  const fn = TARGETS[target];
  if (!fn) throw new Error(`no target ${target}`);
  for (const input of Object.values(INPUTS)) fn(input);
  return Object.keys(INPUTS).length;
}

/** The longest name + address splitMailbox returns for any input (in a worker). */
export function longestMailbox(): number {
  return Math.max(...Object.values(INPUTS).map((s) => { const r = splitMailbox(s); return r.name.length + r.address.length; }));
}

/**
 * Fuzzing the header and address parsing that strangers' mail reaches: the webmail's inbox
 * summary (headerLines, splitMailbox, summarize, decodeMimeWords) and the ingress
 * MessageInspector (policies/message-limits.ts). A seeded PRNG (the seed is printed) builds
 * random and pathological header blocks and address lists; each must not throw, must return,
 * and must give bounded output. A bounded number of cases; one summary line per run.
 */
import { describe, expect, it } from "vitest";
import { MessageInspector } from "../../../policies/message-limits.js";
import { headerLines, MAX_HEADER_TEXT, splitMailbox, summarize } from "../../../src/webmail/message-summary.js";
import { decodeMimeWords } from "../../../src/webmail/mime-words.js";
import { prng } from "../../helpers/prng.js";

const SEED = 0x6d78_7370;
const CASES = 2_000;

const rnd = prng(SEED);
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
const PIECES = [" ", "\t", '"', "<", ">", "@", ",", ";", ":", "(", ")", "\\", ".", "-", "_", "=?", "?=", "?q?", "?b?", "=C3=A9", "\r\n ", "\r\n", "\n", "\r", "\0", "é", "\u202e", "a", "Z", "9", "utf-8", "From:", "Subject:", "Content-Type:", "name=", "attachment"];
const runOf = (unit: string, max: number) => unit.repeat(1 + int(max));

const GENERATORS: Record<string, () => string> = {
  /** Random pieces glued together (syntax soup). */
  soup: () => Array.from({ length: 1 + int(300) }, () => pick(PIECES)).join(""),
  /** Plausible address lists with random damage. */
  addressList: () => Array.from({ length: 1 + int(8) }, () => {
    const name = pick(["", "Alice", '"Doe, John"', "=?utf-8?q?Andr=C3=A9?=", '"a \\" b"', "(comment)"]);
    const addr = pick(["a@example.test", "<b@example.test>", "c@[192.0.2.1]", "", "d@", "@e", "f@g@h"]);
    return `${name} ${addr.startsWith("<") || !name ? addr : `<${addr}>`}${pick(["", "", "(x)", " ;", "Group:"])}`;
  }).join(pick([",", ", ", ";", "\r\n ,"])),
  /** Long runs of one troublesome unit (the ReDoS shapes). */
  run: () => pick(["From: ", "Subject: ", "Content-Type: multipart/mixed; name=", ""]) + runOf(pick([" ", "_", '"', "<", "=?", ".", "-", "(", "\\", "\r\n ", "=?utf-8?q?_"]), 20_000),
  /** An encoded word holding a long run of q-encoded spaces, maybe folded. */
  encodedRun: () => `From: =?utf-8?q?${runOf("_", 20_000)}?=${pick(["x", "<", " <a@b>", "\r\n =?utf-8?q?__?="])}`,
  /** Random bytes read as latin1. */
  bytes: () => Buffer.from(Array.from({ length: int(2_000) }, () => int(256))).toString("latin1"),
};

/** A header block around `text` (sometimes the text is the whole block). */
function block(text: string): string {
  return int(4) === 0 ? text : `From: ${text}\r\nSubject: ${text.slice(0, 500)}\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; name=${text.slice(0, 200)}\r\n\r\nbody\r\n`;
}

describe("header and address parsing under fuzzing", () => {
  it(`survives ${CASES} random and pathological header blocks and address lists (seed ${SEED})`, () => {
    const names = Object.keys(GENERATORS);
    const counts: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
    let longestInput = 0;
    for (let i = 0; i < CASES; i++) {
      const gen = names[i % names.length];
      counts[gen]++;
      const text = GENERATORS[gen]();
      const head = block(text);
      longestInput = Math.max(longestInput, head.length);

      const mailbox = splitMailbox(text);
      expect(mailbox.name.length + mailbox.address.length).toBeLessThanOrEqual(MAX_HEADER_TEXT);
      const s = summarize(head);
      expect(s.fromName.length + s.fromAddress.length).toBeLessThanOrEqual(MAX_HEADER_TEXT);
      expect(s.subject.length).toBeLessThanOrEqual(MAX_HEADER_TEXT);
      expect(typeof s.hasAttachments).toBe("boolean");
      expect(headerLines(head).length).toBeLessThanOrEqual(head.length);
      expect(decodeMimeWords(text).length).toBeLessThanOrEqual(text.length);

      const inspector = new MessageInspector({ maxHeaderSize: 64 * 1024, maxLineLength: 10_000, maxReceivedHeaders: 30, maxMessageSize: 10_000_000 });
      const raw = Buffer.from(head, "latin1");
      let stored = 0;
      for (let off = 0, len = 0; off < raw.length; off += len) {
        len = 1 + int(4096);
        stored += inspector.push(raw.subarray(off, off + len)).length;
      }
      expect(stored).toBeLessThanOrEqual(raw.length * 2); // bare LF → CRLF at most doubles
      expect(inspector.subject.length).toBeLessThanOrEqual(raw.length);
    }
    console.log(`header fuzz: seed ${SEED}, ${CASES} cases (${names.map((n) => `${n} ${counts[n]}`).join(", ")}), longest block ${longestInput} chars`);
  }, 120_000);
});

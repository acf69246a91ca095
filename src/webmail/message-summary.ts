/**
 * What an inbox row shows beyond the record: the From header's name, the whole Subject (the
 * record keeps its first line only when it is folded), and whether the message carries attachments (a part with Content-Disposition: attachment, or a named part in a
 * multipart/mixed message), read from the first SUMMARY_BYTES of the stored message only —
 * one GETRANGE per row, however large the message. Messages never change, so summaries are
 * kept in a bounded in-memory cache by queue id.
 *
 * Everything here reads text a stranger wrote, on the supervisor's event loop: header values
 * are cut to MAX_HEADER_TEXT before anything else looks at them, the From header is parsed by
 * nodemailer's addressparser (a tokenizer, not a backtracking regex), and every regex left is
 * linear (test/unit/security/regex-audit.test.ts feeds each a pathological 64 KB input).
 */
import addressparser from "nodemailer/lib/addressparser";
import type { MessageStore } from "../store/message-store.js";
import { decodeMimeWords } from "./mime-words.js";
import { findHeaderEnd, headerBlock } from "../mail/header-end.js";

export interface MessageSummary { fromName: string; fromAddress: string; subject: string; hasAttachments: boolean }

const SUMMARY_BYTES = 64 * 1024;
const CACHE_ENTRIES = 20_000;
/** A From or Subject longer than this is cut before it is parsed or decoded (RFC 5322 lines stop at 998). */
export const MAX_HEADER_TEXT = 2048;

/** The header block as unfolded lines (name lower-cased). */
export function headerLines(head: string): { name: string; value: string }[] {
  const block = headerBlock(head).replace(/\r?\n[ \t]+/g, " ");
  return block.split(/\r?\n/).map((l) => {
    const i = l.indexOf(":");
    return i > 0 ? { name: l.slice(0, i).trim().toLowerCase(), value: l.slice(i + 1).trim() } : { name: "", value: "" };
  }).filter((h) => h.name);
}

/**
 * "Alice Example <alice@example.com>" → name and address (either may be empty): the first
 * mailbox of the header (a group's first member), its name decoded from RFC 2047 words after
 * parsing, so an encoded word can never turn into address syntax.
 */
export function splitMailbox(value: string): { name: string; address: string } {
  const first = addressparser(value.slice(0, MAX_HEADER_TEXT), { flatten: true })[0];
  if (!first) return { name: "", address: "" };
  return { name: decodeMimeWords(first.name ?? "").trim(), address: (first.address ?? "").trim() };
}

export function summarize(prefix: string): MessageSummary {
  const headers = headerLines(prefix);
  const from = splitMailbox(headers.find((h) => h.name === "from")?.value ?? "");
  const type = headers.find((h) => h.name === "content-type")?.value.toLowerCase() ?? "";
  const attachment = /^content-disposition:[ \t]*attachment/im.test(prefix)
    || (type.startsWith("multipart/mixed") && /^content-type:[^\r\n]*(\r?\n[ \t][^\r\n]*)*;\s*name\*?=/im.test(prefix.slice(findHeaderEnd(prefix)?.headerEnd ?? 0)));
  const subject = decodeMimeWords((headers.find((h) => h.name === "subject")?.value ?? "").slice(0, MAX_HEADER_TEXT)).trim();
  return { fromName: from.name, fromAddress: from.address, subject, hasAttachments: attachment };
}

export class SummaryCache {
  private cache = new Map<string, MessageSummary>();

  constructor(private readonly store: MessageStore) {}

  async get(id: string): Promise<MessageSummary> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const head = (await this.store.head(id, SUMMARY_BYTES)).toString("utf8");
    const s = summarize(head);
    if (!head) return s; // gone (purged): nothing to remember
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, s);
    return s;
  }
}

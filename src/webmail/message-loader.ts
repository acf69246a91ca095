/**
 * Loads one message for display: the full raw message (the headers mxspool added, then the
 * stored bytes — what the user's server receives) parsed with mailparser. Messages over
 * `maxMessageSize` are not parsed (the page offers the .eml download instead). Parsed
 * messages are kept in a small cache (a page, its HTML frame and an attachment download
 * parse the same message) bounded by count and bytes. Errors are values.
 */
import type { Readable } from "node:stream";
// mailparser is loaded at the first message shown (import below), not with the process: ~6 MiB of heap
import type { ParsedMail } from "mailparser";
import type { MessageRecord } from "../store/message-records.js";
import type { MessageStore } from "../store/message-store.js";

export type Loaded = { ok: true; mail: ParsedMail } | { ok: false; reason: "gone" | "too-large" | "unparseable" };

const CACHE_ENTRIES = 8;
const CACHE_BYTES = 64 * 1024 * 1024;

export class MessageLoader {
  private cache = new Map<string, { mail: ParsedMail; size: number }>();
  private cachedBytes = 0;

  constructor(private readonly store: MessageStore, private readonly maxSize: number) {}

  /** The original message as the user's server gets it: a Buffer, or a stream factory for large ones. */
  raw(record: MessageRecord): Promise<Buffer | (() => Readable) | null> {
    return this.store.open(record.id, record.addedHeaders);
  }

  async load(record: MessageRecord): Promise<Loaded> {
    const hit = this.cache.get(record.id);
    if (hit) return { ok: true, mail: hit.mail };
    if (record.size > this.maxSize) return { ok: false, reason: "too-large" };
    const source = await this.raw(record);
    if (!source) return { ok: false, reason: "gone" };
    let mail: ParsedMail;
    try {
      const { simpleParser } = await import("mailparser");
      mail = await simpleParser(Buffer.isBuffer(source) ? source : source(), { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
    } catch {
      return { ok: false, reason: "unparseable" };
    }
    this.remember(record.id, mail, record.size);
    return { ok: true, mail };
  }

  private remember(id: string, mail: ParsedMail, size: number): void {
    if (size > CACHE_BYTES / 2) return;
    while (this.cache.size >= CACHE_ENTRIES || (this.cache.size && this.cachedBytes + size > CACHE_BYTES)) {
      const [oldest, v] = this.cache.entries().next().value!;
      this.cache.delete(oldest);
      this.cachedBytes -= v.size;
    }
    this.cache.set(id, { mail, size });
    this.cachedBytes += size;
  }
}

/**
 * A user's mailbox: the messages for which the user is an envelope recipient, read through
 * the per-recipient index (MessageRecords.list({ rcpt })), newest first. Visible are those
 * still waiting for the user's mail server (queued, active, deferred: the user's recipient
 * outcome is pending) and those delivered to it and still retained; held, deleted and
 * bounced ones are not, nor the copies of what the user sent (flag "sent-copy": they are
 * spooled for the user's own mailbox at the primary; the Sent view lists them). `open` is the
 * isolation check every message URL goes through: the
 * record must exist, name the user among its recipients (case-insensitive) and be visible —
 * an id alone never grants anything.
 */
import type { MessageRecord, MessageRecords } from "../store/message-records.js";
import { MessageRecords as Records } from "../store/message-records.js";
import { QUEUE_ID_PATTERN } from "../mail/queue-id.js";
import { isRecipient } from "./address.js";
import { decodeMimeWords } from "./mime-words.js";

export type Badge = "waiting" | "delivered";

export interface MailboxItem { record: MessageRecord; badge: Badge; subject: string }

const HIDDEN_STATES = new Set(["held", "deleted", "bounced"]);
/** Records read per index round while searching. */
const SCAN_BATCH = 500;

/** The badge this user sees for the record, or null when it is not theirs to see. */
export function badgeFor(r: MessageRecord, address: string): Badge | null {
  if (!isRecipient(r.rcpts, address) || HIDDEN_STATES.has(r.state) || r.flags?.includes("sent-copy")) return null;
  const mine = Object.entries(r.outcomes).find(([rcpt]) => rcpt.toLowerCase() === address.toLowerCase())?.[1];
  const state = mine?.state ?? (r.state === "delivered" ? "delivered" : "pending");
  return state === "pending" ? "waiting" : state === "delivered" ? "delivered" : null;
}

function cursorOf(r: MessageRecord): string {
  return Buffer.from(`${r.receivedAt}:${r.id}`).toString("base64url");
}

export class Mailbox {
  constructor(private readonly records: MessageRecords) {}

  /**
   * One page: up to `limit` visible messages older than `after` (a cursor from a previous
   * page), matching `q` (case-insensitive, in the decoded subject or the sender) when given.
   * `next` is the cursor of the following page, absent on the last one.
   */
  async page(address: string, opts: { q?: string; after?: string; limit: number }): Promise<{ items: MailboxItem[]; next?: string }> {
    const q = opts.q?.trim().toLowerCase() || undefined;
    let cursor = opts.after ? Records.parseCursor(opts.after) ?? undefined : undefined;
    const items: MailboxItem[] = [];
    // without a search a few hidden messages at most are skipped: read a little more than a page
    const batch = q ? SCAN_BATCH : opts.limit + 11;
    for (;;) {
      const res = await this.records.list({ rcpt: address }, cursor, batch);
      for (const r of res.items) {
        const badge = badgeFor(r, address);
        if (!badge) continue;
        const subject = decodeMimeWords(r.subject);
        if (q && !`${subject}\n${r.from}`.toLowerCase().includes(q)) continue;
        items.push({ record: r, badge, subject });
        // one more than a page tells whether an older page exists
        if (items.length > opts.limit) return { items: items.slice(0, opts.limit), next: cursorOf(items[opts.limit - 1].record) };
      }
      if (!res.next || !res.items.length) return { items };
      cursor = Records.parseCursor(res.next) ?? undefined;
      if (!cursor) return { items };
    }
  }

  /** The record behind a message URL, only if this user may see it; null otherwise (a 404). */
  async open(address: string, id: string): Promise<{ record: MessageRecord; badge: Badge } | null> {
    if (!QUEUE_ID_PATTERN.test(id)) return null;
    const record = await this.records.get(id);
    if (!record) return null;
    const badge = badgeFor(record, address);
    return badge ? { record, badge } : null;
  }
}

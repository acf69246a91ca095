/**
 * Reads messages for the admin: the records of src/store/message-records.ts with the one
 * fact they do not hold — whether BullMQ is delivering a message right now ("active" comes
 * from the queue's active list, not from the record). Lists newest first with a cursor,
 * counts per state, and the full detail of one message (record, ledger, job, bytes).
 * Reads only; admin-actions.ts changes things. Outbound mail to outside domains (records
 * flagged "remote") has its job in the outbound queue.
 */
import type { Redis } from "ioredis";
import type { Job } from "bullmq";
import { isRemote, MessageRecords, STATES, type LedgerEvent, type ListFilter, type MessageRecord, type MessageState } from "../store/message-records.js";
import type { DeliveryQueues, SpooledMessage } from "../../queues/delivery-queue.js";
import type { Keyspace } from "../redis/keyspace.js";

export interface MessageDetail extends MessageRecord {
  ledger: LedgerEvent[];
  job: { state: string; attemptsMade: number; runAt?: number; rcpts: string[]; delayWarned: boolean } | null;
  bytes: { stored: boolean; size: number };
}

export interface Page { items: MessageRecord[]; next?: string }

type Cursor = { score: number; id: string };

export class MessageQuery {
  constructor(private readonly redis: Redis, private readonly keys: Keyspace, private readonly queues: DeliveryQueues, private readonly records: MessageRecords) {}

  /** Ids BullMQ is delivering now (bounded by delivery.concurrency per domain). */
  async activeIds(domain?: string): Promise<Set<string>> {
    const domains = domain ? [domain] : this.queues.domains();
    const lists = await Promise.all([...domains.map((d) => this.queues.get(d).keys.active), ...(domain ? [] : [this.keys.outboundActive()])].map((k) => this.redis.lrange(k, 0, -1)));
    return new Set(lists.flat());
  }

  /** A record as the admin sees it: "active" while a delivery of it is in progress. */
  private view(r: MessageRecord, active: Set<string>): MessageRecord {
    return active.has(r.id) && (r.state === "queued" || r.state === "deferred") ? { ...r, state: "active" } : r;
  }

  /** Newest first. `cursor` as returned in `next`; pages are exactly `limit` long while more remain. */
  async list(f: ListFilter, cursor: Cursor | undefined, limit: number): Promise<Page> {
    const active = await this.activeIds(f.domain && this.queues.domains().includes(f.domain) ? f.domain : undefined);
    if (f.state === "active") return this.listActive(f, active, cursor, limit);
    const items: MessageRecord[] = [];
    let after = cursor;
    for (;;) {
      const page = await this.records.list(f, after, limit - items.length);
      for (const r of page.items) {
        const v = this.view(r, active);
        if (f.state && v.state !== f.state) continue; // being delivered: listed under "active"
        items.push(v);
      }
      if (!page.next) return { items };
      if (items.length >= limit) return { items, next: page.next };
      after = MessageRecords.parseCursor(page.next) ?? undefined;
      if (!after) return { items };
    }
  }

  private async listActive(f: ListFilter, active: Set<string>, cursor: Cursor | undefined, limit: number): Promise<Page> {
    const found = (await Promise.all([...active].map((id) => this.records.get(id)))).filter((r): r is MessageRecord => r !== null);
    const lc = (s: string) => s.toLowerCase();
    const matching = found
      .filter((r) => r.state === "queued" || r.state === "deferred")
      .filter((r) => (!f.domain || r.domain === f.domain) && (!f.rcpt || r.rcpts.some((x) => lc(x) === lc(f.rcpt!)))
        && (!f.from || lc(r.from).includes(lc(f.from))) && (!f.q || lc(`${r.subject} ${r.from}`).includes(lc(f.q)))
        && (!f.since || r.receivedAt >= f.since))
      .filter((r) => !cursor || r.receivedAt < cursor.score || (r.receivedAt === cursor.score && r.id < cursor.id))
      .sort((a, b) => b.receivedAt - a.receivedAt || (a.id < b.id ? 1 : -1))
      .map((r) => ({ ...r, state: "active" as const }));
    const items = matching.slice(0, limit);
    const last = items[items.length - 1];
    return matching.length > limit ? { items, next: Buffer.from(`${last.receivedAt}:${last.id}`).toString("base64url") } : { items };
  }

  async get(id: string): Promise<MessageRecord | null> {
    const r = await this.records.get(id);
    if (!r) return null;
    return this.view(r, await this.activeIds(this.queues.domains().includes(r.domain) ? r.domain : undefined));
  }

  /** Everything known about one message; null when it is unknown (or purged). */
  async detail(id: string): Promise<MessageDetail | null> {
    const r = await this.get(id);
    if (!r) return null;
    const [ledger, size, job] = await Promise.all([
      this.records.ledger(id),
      this.redis.strlen(this.keys.messageRaw(id)),
      isRemote(r) ? this.queues.outbound().getJob(id) as Promise<Job<SpooledMessage> | undefined>
        : this.queues.domains().includes(r.domain) ? this.queues.get(r.domain).getJob(id) as Promise<Job<SpooledMessage> | undefined> : Promise.resolve(undefined),
    ]);
    let jobInfo: MessageDetail["job"] = null;
    if (job) {
      const state = await job.getState();
      jobInfo = { state, attemptsMade: job.attemptsMade, rcpts: job.data.rcpts, delayWarned: Boolean(job.data.delayWarned),
        runAt: state === "delayed" ? job.timestamp + (job.delay ?? 0) : undefined };
    }
    // the stored value may be compressed: the size is the message's, from the record
    return { ...r, ledger, job: jobInfo, bytes: { stored: size > 0, size: size > 0 ? r.size : 0 } };
  }

  /** Messages per state; "active" ones are counted there and not under queued/deferred. */
  async stateCounts(): Promise<Record<MessageState, number>> {
    const c = await this.records.counts();
    const counts = Object.fromEntries(STATES.map((s) => [s, c[`state_${s}`] ?? 0])) as Record<MessageState, number>;
    const active = [...await this.activeIds()];
    const states = await Promise.all(active.map((id) => this.redis.hget(this.keys.messageMeta(id), "state")));
    for (const s of states) {
      if (s === "queued" || s === "deferred") { counts[s]--; counts.active++; }
    }
    return counts;
  }
}

/**
 * What each user sent (outbound mail), for the webmail's "Sent" view and the outbound
 * worker: per message a hash (Keyspace.outboundMessage: the bytes as sent, a summary, one
 * outcome per outside recipient) and per user a sorted set of ids by time. Everything expires
 * after `outbound.keepSent`; no other part of the spool depends on it.
 */
import type { ChainableCommander, Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";

export interface SentSummary {
  id: string;
  user: string;
  envelopeFrom: string;
  /** Every envelope recipient (Bcc included: this is the sender's own record). */
  recipients: string[];
  /** Recipients at configured domains, spooled at once; and those sent out through the outbound queue. */
  local: string[];
  remote: string[];
  subject: string;
  messageId: string;
  size: number;
  sentAt: number;
  via: "webmail" | "submission";
}

/** Where an outside recipient stands: pending until the worker's last word. */
export interface SentOutcome { state: "pending" | "delivered" | "failed"; response?: string; at: number }

export interface SentItem { summary: SentSummary; outcomes: Record<string, SentOutcome> }

export class SentMessages {
  constructor(private readonly redis: Redis, private readonly keys: Keyspace, private readonly keepMs: number) {}

  /** Adds to `m` what records a sent message (bytes: as the recipients get them). */
  record(m: ChainableCommander, s: SentSummary, raw: Buffer): void {
    const key = this.keys.outboundMessage(s.id);
    const list = this.keys.outboundSent(s.user);
    const outcomes = s.remote.flatMap((r) => [`rcpt:${r}`, JSON.stringify({ state: "pending", at: s.sentAt } satisfies SentOutcome)]);
    m.hset(key, "raw", raw, "summary", JSON.stringify(s), ...outcomes).pexpire(key, this.keepMs)
      .zadd(list, s.sentAt, s.id).zremrangebyscore(list, "-inf", s.sentAt - this.keepMs).pexpire(list, this.keepMs);
  }

  async remove(s: SentSummary): Promise<void> {
    await this.redis.multi().del(this.keys.outboundMessage(s.id)).zrem(this.keys.outboundSent(s.user), s.id).exec();
  }

  async setOutcome(id: string, rcpt: string, o: SentOutcome): Promise<void> {
    // only while the message is still kept: HSET on an expired hash would make one without a TTL
    const key = this.keys.outboundMessage(id);
    if (await this.redis.exists(key)) await this.redis.hset(key, `rcpt:${rcpt}`, JSON.stringify(o));
  }

  /** The bytes as sent, for the worker and the "Sent" view; null once expired. */
  async raw(id: string): Promise<Buffer | null> {
    return this.redis.hgetBuffer(this.keys.outboundMessage(id), "raw");
  }

  /** A user's sent messages, newest first: `limit` of them sent before `before` (ms; default now). */
  async list(user: string, opts: { limit: number; before?: number }): Promise<SentItem[]> {
    const ids = await this.redis.zrevrangebyscore(this.keys.outboundSent(user), `(${opts.before ?? "+inf"}`, "-inf", "LIMIT", 0, opts.limit);
    const items = await Promise.all(ids.map((id) => this.item(user, id)));
    return items.filter((i): i is SentItem => i !== null);
  }

  /** One sent message of this user (an id alone grants nothing): its summary, outcomes and bytes; null when not theirs or gone. */
  async load(user: string, id: string): Promise<(SentItem & { raw: Buffer }) | null> {
    const item = await this.item(user, id);
    const raw = item && (await this.raw(id));
    return item && raw ? { ...item, raw } : null;
  }

  private async item(user: string, id: string): Promise<SentItem | null> {
    const key = this.keys.outboundMessage(id);
    const text = await this.redis.hget(key, "summary");
    if (!text) return null;
    const summary = JSON.parse(text) as SentSummary;
    if (summary.user.toLowerCase() !== user.toLowerCase()) return null;
    // the outcome fields only, not the bytes (HGETALL would read the whole message)
    const [, flat] = await this.redis.hscan(key, "0", "MATCH", "rcpt:*", "COUNT", 10_000);
    const outcomes: Record<string, SentOutcome> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) outcomes[flat[i].slice(5)] = JSON.parse(flat[i + 1]) as SentOutcome;
    return { summary, outcomes };
  }
}

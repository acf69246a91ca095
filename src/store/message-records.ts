/**
 * What mxspool knows about each message besides its bytes: the record an admin and a user
 * see. Per message (hash tag {id}): `meta` (envelope, subject, size, state, attempts, last
 * error, per-recipient outcome) and `ledger` (a list of events: received, each attempt with
 * the reply per recipient, admin actions, the final state). Indexes (sorted by arrival) for
 * listing: all messages, per state, per recipient, per domain. Counters per message and per
 * recipient that always reconcile: accepted = delivered + bounced + deleted + in queue.
 *
 * States and which event moves a message between them: policies/message-state.ts. A state
 * change (transition, completeAttempt) reads the record, asks that policy, and writes record,
 * ledger, indexes and counters together only if the record is still what was read (one
 * guarded Lua write, ./guarded-write.ts); if it moved on meanwhile, it reads and asks again.
 * With Redis Cluster the indexes and counters are split per shard (src/redis/keyspace.ts):
 * each write touches its message's shard only; list() and counts() read every shard and merge.
 */
import type { Redis, ChainableCommander } from "ioredis";
import { LuaScript } from "../redis/lua-script.js";
import { countAttempt, countLatency } from "../observability/delivery-stats.js";
import type { Keyspace } from "../redis/keyspace.js";
import { closePending, FINAL, foldAttempt, nextState, STATES, type MessageEvent, type MessageState, type RecipientOutcome, type RecipientResult } from "../../policies/message-state.js";
import { GuardedWrite } from "./guarded-write.js";
import { sumHashes, zcardAll } from "../redis/sharded-reads.js";

export { FINAL, STATES, type MessageEvent, type MessageState, type RecipientOutcome };

/** How often a state change is computed again when the record keeps changing under it. */
const APPLY_TRIES = 5;

export interface MessageRecord {
  id: string;
  domain: string;
  from: string;
  rcpts: string[];
  subject: string;
  size: number;
  receivedAt: number;
  state: MessageState;
  attempts: number;
  lastError?: string;
  nextAttempt?: number;
  client?: { ip: string; hostname?: string; helo?: string };
  flags: string[];
  outcomes: Record<string, RecipientOutcome>;
  finalAt?: number;
  /** Header lines mxspool added (Received, scan results): the full message is these + the stored bytes. */
  addedHeaders: string;
}

/**
 * An accept whose jobs were added more than this long after the record's arrival time checks
 * that its records are still there before it answers 250 (an orphan reconcile may have removed
 * them meanwhile). delivery.orphanAge must be well above it (the schema's minimum is 5 s),
 * which leaves room for clock differences between nodes.
 */
export const LATE_ENQUEUE_MS = 1000;

/**
 * Removes a message that was never acknowledged. Does nothing if its record is gone already
 * (so a message is never taken out of the counters twice). With a cutoff (ARGV[2]) it is the
 * orphan check as well: only a record still `queued` with nothing in its ledger but
 * "received" (a released or redelivered message has more), arrived before the cutoff, whose
 * delivery job (KEYS[9]) does not exist.
 * KEYS: 1 meta, 2 ledger, 3 raw, 4 part, 5 idx:all, 6 idx:state:queued, 7 idx:domain:<d>,
 *       8 counters, 9 job hash (orphan check only), 10.. idx:rcpt:<x>
 * ARGV: 1 id, 2 cutoff in ms ("" = no orphan check).   Returns 1 if removed, else 0.
 */
const REMOVE_UNACKNOWLEDGED = new LuaScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
if ARGV[2] ~= '' then
  if state ~= 'queued' or redis.call('EXISTS', KEYS[9]) == 1 or redis.call('LLEN', KEYS[2]) > 1 then return 0 end
  local at = tonumber(redis.call('HGET', KEYS[1], 'receivedAt'))
  if not at or at > tonumber(ARGV[2]) then return 0 end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
for i = 5, 7 do redis.call('ZREM', KEYS[i], ARGV[1]) end
for i = 10, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
redis.call('HINCRBY', KEYS[8], 'accepted', -1)
redis.call('HINCRBY', KEYS[8], 'rcpt_accepted', -(#KEYS - 9))
return 1
`);

export interface LedgerEvent { at: number; type: string; [k: string]: unknown }

export type Direction = "inbound" | "outbound";
export const DIRECTIONS: Direction[] = ["inbound", "outbound"];
/** Mail users sent (src/outbound/) carries the flag "outbound"; everything else came in. */
export const directionOf = (r: { flags: string[] }): Direction => (r.flags.includes("outbound") ? "outbound" : "inbound");
/** Outbound mail to an outside domain (flag "remote"): its job is in the outbound queue, not a domain's delivery queue. */
export const isRemote = (r: { flags: string[] }): boolean => r.flags.includes("remote");

export interface ListFilter { state?: MessageState; domain?: string; rcpt?: string; from?: string; q?: string; since?: number; direction?: Direction }

export class MessageRecords {
  constructor(private readonly redis: Redis, private readonly keys: Keyspace) {}

  redisMulti(): ChainableCommander { return this.redis.multi(); }

  // short names for the keys used on every line below (all named in the Keyspace)
  private meta(id: string) { return this.keys.messageMeta(id); }
  private ledgerKey(id: string) { return this.keys.messageLedger(id); }
  private counters(id: string) { return this.keys.counters(this.keys.shardOf(id)); }
  private shard(id: string) { return this.keys.shardOf(id); }

  /** Called in the same step that makes a message durable (before the 250). */
  addAccepted(m: ChainableCommander, r: Omit<MessageRecord, "state" | "attempts" | "outcomes">, event: Omit<LedgerEvent, "at" | "type">): void {
    const outcomes: Record<string, RecipientOutcome> = Object.fromEntries(r.rcpts.map((x) => [x, { state: "pending" }]));
    m.hset(this.meta(r.id), {
      id: r.id, domain: r.domain, from: r.from, rcpts: JSON.stringify(r.rcpts), subject: r.subject, size: String(r.size),
      receivedAt: String(r.receivedAt), state: "queued", attempts: "0", client: JSON.stringify(r.client ?? {}), flags: JSON.stringify(r.flags),
      outcomes: JSON.stringify(outcomes), addedHeaders: r.addedHeaders,
    });
    m.rpush(this.ledgerKey(r.id), JSON.stringify({ at: r.receivedAt, type: "received", ...event }));
    const n = this.shard(r.id);
    m.zadd(this.keys.indexAll(n), r.receivedAt, r.id).zadd(this.keys.indexState(n, "queued"), r.receivedAt, r.id).zadd(this.keys.indexDomain(n, r.domain), r.receivedAt, r.id);
    for (const x of r.rcpts) m.zadd(this.keys.indexRcpt(n, x), r.receivedAt, r.id);
    if (directionOf(r) === "outbound") m.zadd(this.keys.indexOutbound(n), r.receivedAt, r.id);
    m.hincrby(this.counters(r.id), "accepted", 1).hincrby(this.counters(r.id), "rcpt_accepted", r.rcpts.length);
  }

  async get(id: string): Promise<MessageRecord | null> {
    const h = await this.redis.hgetall(this.meta(id));
    if (!h.id) return null;
    return {
      id: h.id, domain: h.domain, from: h.from, rcpts: JSON.parse(h.rcpts), subject: h.subject ?? "", size: Number(h.size),
      receivedAt: Number(h.receivedAt), state: h.state as MessageState, attempts: Number(h.attempts ?? 0),
      lastError: h.lastError || undefined, nextAttempt: h.nextAttempt ? Number(h.nextAttempt) : undefined,
      client: JSON.parse(h.client || "{}"), flags: JSON.parse(h.flags || "[]"), outcomes: JSON.parse(h.outcomes || "{}"),
      finalAt: h.finalAt ? Number(h.finalAt) : undefined, addedHeaders: h.addedHeaders ?? "",
    };
  }

  /** Whether every one of these records is still there. */
  async allExist(ids: string[]): Promise<boolean> {
    return (await Promise.all(ids.map((id) => this.redis.exists(this.meta(id))))).every((n) => n === 1);
  }

  async ledger(id: string): Promise<LedgerEvent[]> {
    return (await this.redis.lrange(this.ledgerKey(id), 0, -1)).map((l) => JSON.parse(l));
  }

  /** A record's state change applies only if these fields are still what `r` says. */
  private guarded(r: MessageRecord): GuardedWrite {
    return new GuardedWrite(this.meta(r.id), { state: r.state, attempts: String(r.attempts), outcomes: JSON.stringify(r.outcomes) });
  }

  /**
   * Applies `event` to a message as policies/message-state.ts allows, with a ledger event and
   * `extra` meta fields; atomic against any other change of the record. Null: no such
   * message. `refused`: the policy said no to the record as it is now (nothing written).
   */
  async transition(id: string, event: MessageEvent, ledger: Omit<LedgerEvent, "at"> & { type: string }, extra: Record<string, string> = {},
                   retentionMs?: number): Promise<{ record: MessageRecord; refused?: { code: string; why: string } } | null> {
    for (let tries = 1; ; tries++) {
      const r = await this.get(id);
      if (!r) return null;
      const v = nextState(r, event);
      if (!v.ok) return { record: r, refused: { code: v.code, why: v.why } };
      const to = v.to;
      const now = Date.now();
      const w = this.guarded(r);
      w.hset(this.meta(id), { state: to, ...extra });
      w.rpush(this.ledgerKey(id), JSON.stringify({ at: now, ...ledger }));
      if (to !== r.state) w.zrem(this.keys.indexState(this.shard(id), r.state), id).zadd(this.keys.indexState(this.shard(id), to), r.receivedAt, id);
      if (to === "delivered" || to === "bounced" || to === "deleted") {
        w.hset(this.meta(id), { finalAt: String(now) });
        const closed = closePending(r.outcomes, to, String(ledger.reply ?? ledger.reason ?? ""), now);
        if (closed.closed) w.hset(this.meta(id), { outcomes: JSON.stringify(closed.outcomes) }).hincrby(this.counters(id), `rcpt_${to}`, closed.closed);
        w.hincrby(this.counters(id), to, 1);
        // purged by purgeDue() with its index entries; the TTL is only a safety net
        if (retentionMs !== undefined) {
          w.zadd(this.keys.indexPurge(this.shard(id)), now + retentionMs, id);
          w.pexpire(this.meta(id), retentionMs + 86_400_000).pexpire(this.ledgerKey(id), retentionMs + 86_400_000);
        }
      }
      if (FINAL.includes(r.state) && !FINAL.includes(to)) {
        // redelivery of a retained message: a new life in the queue, counted again
        w.hincrby(this.counters(id), r.state, -1).persist(this.meta(id)).persist(this.ledgerKey(id)).zrem(this.keys.indexPurge(this.shard(id)), id);
        w.hset(this.meta(id), { outcomes: JSON.stringify(Object.fromEntries(r.rcpts.map((x) => [x, { state: "pending" }]))) });
        w.hincrby(this.counters(id), `rcpt_${r.state}`, -r.rcpts.length);
        w.hdel(this.meta(id), "finalAt");
      }
      if (await w.apply(this.redis)) return { record: { ...r, state: to } };
      if (tries === APPLY_TRIES) throw new Error(`message ${id} kept changing; ${event} not applied`);
    }
  }

  /**
   * One attempt's per-recipient results and, when nothing is left pending, the final state
   * and the start of retention (record, ledger and bytes kept for `retentionMs`) — one
   * guarded write. A result on a message that became final meanwhile (deleted while the
   * primary answered) goes to the ledger only; the state stays. Returns the state afterwards.
   */
  async completeAttempt(id: string, endpoint: string, results: (RecipientResult & { code?: number })[],
                        opts: { retentionMs: number; lastError?: string; nextAttempt?: number; expired?: boolean },
                        /** The record as read when the delivery began: a first guess that saves a read while nobody changed it. */
                        known?: MessageRecord | null): Promise<MessageState | null> {
    let r = known ?? await this.get(id);
    for (let tries = 1; ; tries++) {
      if (!r) return null;
      const now = Date.now();
      const fold = foldAttempt(r.outcomes, results, opts.expired ?? false, now);
      const v = nextState(r, fold.event);
      const to = v.ok ? v.to : r.state;
      const w = this.guarded(r);
      const attempt = { at: now, type: "attempt", primary: endpoint, results: results.map((x) => ({ rcpt: x.rcpt, outcome: x.outcome, reply: x.response })) };
      w.rpush(this.ledgerKey(id), JSON.stringify(v.ok ? attempt : { ...attempt, refused: v.code }));
      const result = fold.event === "attempt-deferred" ? "deferred" : fold.event === "attempt-delivered" ? "delivered" : "bounced";
      countAttempt(w, this.keys, this.shard(id), result);
      if (v.ok) {
        if (fold.settled.delivered) w.hincrby(this.counters(id), "rcpt_delivered", fold.settled.delivered);
        if (fold.settled.bounced) w.hincrby(this.counters(id), "rcpt_bounced", fold.settled.bounced);
        w.hset(this.meta(id), { outcomes: JSON.stringify(fold.outcomes), attempts: String(r.attempts + 1), state: to, ...(opts.lastError ? { lastError: opts.lastError } : {}), ...(opts.nextAttempt ? { nextAttempt: String(opts.nextAttempt) } : {}) });
        if (to !== r.state) w.zrem(this.keys.indexState(this.shard(id), r.state), id).zadd(this.keys.indexState(this.shard(id), to), r.receivedAt, id);
        if (to === "delivered") countLatency(w, this.keys, this.shard(id), now - r.receivedAt);
        if (to === "delivered" || to === "bounced") {
          w.hset(this.meta(id), { finalAt: String(now) }).hdel(this.meta(id), "nextAttempt");
          w.rpush(this.ledgerKey(id), JSON.stringify({ at: now, type: to }));
          w.hincrby(this.counters(id), to, 1);
          w.zadd(this.keys.indexPurge(this.shard(id)), now + opts.retentionMs, id);
          const safety = opts.retentionMs + 86_400_000;
          w.pexpire(this.meta(id), safety).pexpire(this.ledgerKey(id), safety).pexpire(this.keys.messageRaw(id), safety);
        }
      }
      if (await w.apply(this.redis)) return to;
      if (tries === APPLY_TRIES) throw new Error(`message ${id} kept changing; attempt not recorded`);
      r = await this.get(id);
    }
  }

  /**
   * Newest first; `cursor` is the arrival time and id of the last item seen (ties by id, descending).
   * With Redis Cluster each shard's index is listed on its own and the pages merged: the first
   * `limit` of the union, and a cursor no further than a shard that stopped early.
   */
  async list(f: ListFilter, cursor: { score: number; id: string } | undefined, limit: number): Promise<{ items: MessageRecord[]; next?: string }> {
    const index = (n: number) => f.rcpt ? this.keys.indexRcpt(n, f.rcpt) : f.state ? this.keys.indexState(n, f.state) : f.domain ? this.keys.indexDomain(n, f.domain)
      : f.direction === "outbound" ? this.keys.indexOutbound(n) : this.keys.indexAll(n);
    const shards = this.keys.shards();
    if (shards.length === 1) return this.listIndex(index(shards[0]!), f, cursor, limit);
    const parts = await Promise.all(shards.map((n) => this.listIndex(index(n), f, cursor, limit)));
    const before = (a: { score: number; id: string }, b: { score: number; id: string }) => a.score > b.score || (a.score === b.score && a.id > b.id);
    // a shard that scanned its limit of batches without filling the page: nothing past its cursor is known
    let stop: { score: number; id: string } | undefined;
    for (const p of parts) {
      const c = p.next && p.items.length < limit ? MessageRecords.parseCursor(p.next) : null;
      if (c && (!stop || before(c, stop))) stop = c;
    }
    const all = parts.flatMap((p) => p.items).filter((r) => !stop || before({ score: r.receivedAt, id: r.id }, stop));
    all.sort((a, b) => (before({ score: a.receivedAt, id: a.id }, { score: b.receivedAt, id: b.id }) ? -1 : 1));
    const items = all.slice(0, limit);
    const last = items[items.length - 1];
    const cursorOf = (c: { score: number; id: string }) => Buffer.from(`${c.score}:${c.id}`).toString("base64url");
    if (last && items.length === limit && (all.length > limit || parts.some((p) => p.next))) return { items, next: cursorOf({ score: last.receivedAt, id: last.id }) };
    return { items, next: stop ? cursorOf(stop) : undefined };
  }

  private async listIndex(index: string, f: ListFilter, cursor: { score: number; id: string } | undefined, limit: number): Promise<{ items: MessageRecord[]; next?: string }> {
    const items: MessageRecord[] = [];
    let after = cursor;
    const min = f.since ? String(f.since) : "-inf";
    const batch = Math.max(50, limit * 2);
    for (let rounds = 0; rounds < 200; rounds++) {
      const page = await this.redis.zrevrangebyscore(index, after ? String(after.score) : "+inf", min, "WITHSCORES", "LIMIT", 0, batch);
      let progressed = false;
      const fresh: { id: string; score: number }[] = [];
      for (let i = 0; i < page.length; i += 2) {
        const id = page[i];
        const score = Number(page[i + 1]);
        if (after && (score > after.score || (score === after.score && id >= after.id))) continue; // seen already
        fresh.push({ id, score });
      }
      // the page's records in one round trip (ioredis sends them together), not one by one
      const recs = await Promise.all(fresh.map(({ id }) => this.get(id)));
      for (let k = 0; k < fresh.length; k++) {
        const { id, score } = fresh[k];
        after = { score, id };
        progressed = true;
        const r = recs[k];
        if (!r) continue;
        if (f.state && r.state !== f.state) continue;
        if (f.domain && r.domain !== f.domain) continue;
        if (f.direction && directionOf(r) !== f.direction) continue;
        if (f.rcpt && !r.rcpts.some((x) => x.toLowerCase() === f.rcpt!.toLowerCase())) continue;
        if (f.from && !r.from.toLowerCase().includes(f.from.toLowerCase())) continue;
        if (f.q && !`${r.subject} ${r.from}`.toLowerCase().includes(f.q.toLowerCase())) continue;
        items.push(r);
        if (items.length === limit) return { items, next: Buffer.from(`${score}:${id}`).toString("base64url") };
      }
      if (!progressed || page.length < batch * 2) return { items }; // the end of the index
    }
    // a sparse filter scanned 200 batches: hand back a cursor rather than claim the end
    return { items, next: after ? Buffer.from(`${after.score}:${after.id}`).toString("base64url") : undefined };
  }

  static parseCursor(text: string): { score: number; id: string } | null {
    const m = /^(\d{1,15}):([0-9A-Z.]{1,40})$/.exec(Buffer.from(text, "base64url").toString());
    return m ? { score: Number(m[1]), id: m[2] } : null;
  }

  async counts(): Promise<Record<string, number>> {
    const shards = this.keys.shards();
    const h = await sumHashes(this.redis, shards.map((n) => this.keys.counters(n)));
    const out: Record<string, number> = {};
    for (const k of ["accepted", "delivered", "bounced", "deleted", "rcpt_accepted", "rcpt_delivered", "rcpt_bounced", "rcpt_deleted"]) out[k] = Number(h[k] ?? 0);
    for (const s of STATES) out[`state_${s}`] = await zcardAll(this.redis, shards.map((n) => this.keys.indexState(n, s)));
    return out;
  }

  /** The outbound messages per state now (the share of counts()' state_* that users sent). */
  async outboundStateCounts(): Promise<Record<MessageState, number>> {
    // each pair is in one shard's slot; the shards are summed
    const shards = this.keys.shards();
    const n = await Promise.all(STATES.map(async (s) => (await Promise.all(shards.map((k) => this.redis.zintercard(2, this.keys.indexState(k, s), this.keys.indexOutbound(k))))).reduce((a, b) => a + Number(b), 0)));
    return Object.fromEntries(STATES.map((s, i) => [s, n[i]!])) as Record<MessageState, number>;
  }

  /** Undoes addAccepted for a message that could not be queued (no 250 was sent); a record already gone is left alone. */
  async remove(id: string, domain: string, rcpts: string[]): Promise<void> {
    await this.removeUnacknowledged(id, domain, rcpts);
  }

  /**
   * Removes an orphan: a record that stayed `queued` since it was written, with no delivery
   * job, that arrived before `cutoff` (mxspool died between the accept MULTI and the job add,
   * so no 250 was sent). The checks and the removal are one script: a job added meanwhile
   * keeps the message. True when it was removed.
   */
  async removeOrphan(r: MessageRecord, jobKey: string, cutoff: number): Promise<boolean> {
    return this.removeUnacknowledged(r.id, r.domain, r.rcpts, { jobKey, cutoff });
  }

  /** Everything addAccepted and the store wrote (record, ledger, bytes, index entries, counts), atomically. */
  private async removeUnacknowledged(id: string, domain: string, rcpts: string[], orphan?: { jobKey: string; cutoff: number }): Promise<boolean> {
    const n = this.shard(id);
    // On Redis Cluster the job hash is in its queue's slot, not the message's: the script cannot
    // read it. The reconciler checked that it did not exist just before; an accept that adds its
    // job this late checks afterwards that the records are still there (LATE_ENQUEUE_MS) and
    // answers 451 if they are not, so a removal in between loses no acknowledged mail.
    const jobKey = orphan && !this.keys.cluster ? orphan.jobKey : this.meta(id);
    const keys = [this.meta(id), this.ledgerKey(id), this.keys.messageRaw(id), this.keys.messagePart(id),
      this.keys.indexAll(n), this.keys.indexState(n, "queued"), this.keys.indexDomain(n, domain), this.counters(id), jobKey,
      ...rcpts.map((x) => this.keys.indexRcpt(n, x))];
    const done = await REMOVE_UNACKNOWLEDGED.run(this.redis, keys, [id, orphan ? String(orphan.cutoff) : ""]);
    if (done === 1) await this.redis.zrem(this.keys.indexOutbound(n), id);
    return done === 1;
  }

  /**
   * Purges messages whose retention is over: record, ledger, bytes and every index entry go
   * together, so nothing stays behind. Returns how many were purged.
   */
  async purgeDue(now = Date.now()): Promise<number> {
    let purged = 0;
    for (const n of this.keys.shards()) {
      const due = await this.redis.zrangebyscore(this.keys.indexPurge(n), "-inf", String(now), "LIMIT", 0, 500);
      for (const id of due) {
        const r = await this.get(id);
        const m = this.redis.multi();
        m.del(this.meta(id), this.ledgerKey(id), this.keys.messageRaw(id), this.keys.messagePart(id));
        m.zrem(this.keys.indexAll(n), id).zrem(this.keys.indexPurge(n), id).zrem(this.keys.indexOutbound(n), id);
        for (const s of STATES) m.zrem(this.keys.indexState(n, s), id);
        if (r) {
          m.zrem(this.keys.indexDomain(n, r.domain), id);
          for (const x of r.rcpts) m.zrem(this.keys.indexRcpt(n, x), id);
        }
        await m.exec();
      }
      purged += due.length;
    }
    return purged;
  }
}

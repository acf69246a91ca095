/**
 * The continuity events in Redis, shared by every node and kept across restarts. One hash per
 * event (Keyspace.continuityEvent: the event as opened, then one field per patched value and
 * one `t:<name>` per transition), one sorted set of ids by start time (listed newest first),
 * and one "open" pointer per kind+domain. Opening sets the pointer with SET NX and a
 * transition claims its `t:<name>` field with HSETNX, each inside one Lua script: whatever
 * the number of nodes that see the same change, exactly one wins it (and only the winner
 * alerts). Closing an event removes its pointer, so the next outage opens a new event.
 * Never deletes an event: the history is small (one per outage) and is what the reports read.
 */
import crypto from "node:crypto";
import type { Redis } from "ioredis";
import { LuaScript } from "../redis/lua-script.js";
import type { Keyspace } from "../redis/keyspace.js";
import type { ContinuityEvent, ContinuityEvents, ContinuityKind } from "./continuity-event.js";

/**
 * Opens an event unless one of its kind+domain is open.
 * KEYS: 1 open pointer, 2 event hash, 3 index.   ARGV: 1 id, 2 event JSON, 3 startedAt, 4 now.
 * Returns 1 if opened, 0 if another event holds the pointer.
 */
const OPEN = new LuaScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
redis.call('HSET', KEYS[2], 'event', ARGV[2], 't:opened', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return 1
`);

/**
 * Records one named transition of an event, once.
 * KEYS: 1 event hash, 2 its open pointer.   ARGV: 1 name, 2 now, 3 id, 4 "1" if it closes the
 * event, 5.. field/value pairs (f:<top-level field> or d:<data key>, JSON values).
 * Returns 1 if recorded, 0 if the event is unknown or the transition was recorded already.
 */
const TRANSITION = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HSETNX', KEYS[1], 't:' .. ARGV[1], ARGV[2]) == 0 then return 0 end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[4] == '1' and redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
`);

/** Fields a transition may not change: they name the event. */
const FIXED = new Set(["id", "kind", "domain"]);
/** How many index entries a filtered list reads at most for one page. */
const FILTER_SCAN = 2000;

/** A new event id: time first (so ids sort by creation), then randomness. */
export function newEventId(now = Date.now()): string {
  return `ev_${now.toString(36).padStart(9, "0")}${crypto.randomBytes(6).toString("hex")}`;
}

/** Per configured domain, the outage figures behind the metrics (src/observability/metrics.ts). */
export async function outageMetrics(redis: Redis, keys: Keyspace, domains: string[], now = Date.now()): Promise<{ domain: string; active: boolean; secondsTotal: number; timeToDetectSeconds?: number }[]> {
  const store = new EventStore(redis, keys);
  const stats = await redis.hgetall(keys.continuityStats());
  return Promise.all(domains.map(async (domain) => {
    const open = await store.current("outage", domain);
    const active = !!open && open.recoveredAt === undefined;
    const detect = stats[`detect_ms:${domain}`];
    return { domain, active, secondsTotal: (Number(stats[`outage_ms:${domain}`] ?? 0) + (active ? now - open!.startedAt : 0)) / 1000,
      ...(detect !== undefined ? { timeToDetectSeconds: Number(detect) / 1000 } : {}) };
  }));
}

export class EventStore implements ContinuityEvents {
  constructor(private readonly redis: Redis, private readonly keys: Keyspace) {}

  async open(e: Omit<ContinuityEvent, "id" | "state">): Promise<ContinuityEvent | null> {
    const ev: ContinuityEvent = { id: newEventId(), state: "open", ...e, data: e.data ?? {} };
    const won = await OPEN.run(this.redis, [this.keys.continuityOpen(ev.kind, ev.domain), this.keys.continuityEvent(ev.id), this.keys.continuityIndex()],
      [ev.id, JSON.stringify(ev), String(ev.startedAt), String(Date.now())]);
    return won === 1 ? ev : null;
  }

  /** Records an event that is over as it happens (a primary-change): no open pointer, the caller decided it once (a Lua swap). */
  async record(e: Omit<ContinuityEvent, "id" | "state" | "closedAt">): Promise<ContinuityEvent> {
    const ev: ContinuityEvent = { id: newEventId(), state: "closed", closedAt: e.startedAt, ...e };
    await this.redis.multi().hset(this.keys.continuityEvent(ev.id), "event", JSON.stringify(ev), "t:opened", String(Date.now()))
      .zadd(this.keys.continuityIndex(), ev.startedAt, ev.id).exec();
    return ev;
  }

  async transition(id: string, name: string, patch: Partial<ContinuityEvent>): Promise<boolean> {
    const ev = await this.get(id);
    if (!ev) return false;
    const args: string[] = [];
    for (const [k, v] of Object.entries(patch)) {
      if (FIXED.has(k) || v === undefined) continue;
      if (k === "data") for (const [dk, dv] of Object.entries(v as Record<string, unknown>)) args.push(`d:${dk}`, JSON.stringify(dv));
      else args.push(`f:${k}`, JSON.stringify(v));
    }
    const won = await TRANSITION.run(this.redis, [this.keys.continuityEvent(id), this.keys.continuityOpen(ev.kind, ev.domain)],
      [name, String(Date.now()), id, patch.state === "closed" ? "1" : "", ...args]);
    return won === 1;
  }

  async get(id: string): Promise<ContinuityEvent | null> {
    return this.assemble(await this.redis.hgetall(this.keys.continuityEvent(id)));
  }

  /** When each transition was recorded (ms), by name; `opened` included. */
  async transitions(id: string): Promise<Record<string, number>> {
    const h = await this.redis.hgetall(this.keys.continuityEvent(id));
    return Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith("t:")).map(([k, v]) => [k.slice(2), Number(v)]));
  }

  async current(kind: ContinuityKind, domain?: string): Promise<ContinuityEvent | null> {
    const id = await this.redis.get(this.keys.continuityOpen(kind, domain));
    return id ? this.get(id) : null;
  }

  /** Newest first; `cursor` is the opaque `next` of the page before. */
  async list(opts: { limit: number; cursor?: string; kind?: ContinuityKind; domain?: string }): Promise<{ items: ContinuityEvent[]; next?: string }> {
    const filtered = opts.kind !== undefined || opts.domain !== undefined;
    let offset = opts.cursor ? Number(opts.cursor) : 0;
    if (!Number.isInteger(offset) || offset < 0) offset = 0;
    const items: ContinuityEvent[] = [];
    const stop = offset + (filtered ? FILTER_SCAN : opts.limit);
    while (items.length < opts.limit && offset < stop) {
      const batch = Math.min(filtered ? 100 : opts.limit - items.length, stop - offset);
      const ids = await this.redis.zrevrange(this.keys.continuityIndex(), offset, offset + batch - 1);
      if (!ids.length) return { items };
      for (const id of ids) {
        offset++;
        const ev = await this.get(id);
        if (!ev || (opts.kind && ev.kind !== opts.kind) || (opts.domain && ev.domain !== opts.domain)) continue;
        items.push(ev);
        if (items.length === opts.limit) break;
      }
    }
    const more = (await this.redis.zcard(this.keys.continuityIndex())) > offset;
    return more ? { items, next: String(offset) } : { items };
  }

  private assemble(h: Record<string, string>): ContinuityEvent | null {
    if (!h.event) return null;
    const ev = JSON.parse(h.event) as ContinuityEvent & Record<string, unknown>;
    ev.data = { ...(ev.data ?? {}) };
    for (const [k, v] of Object.entries(h)) {
      if (k.startsWith("f:")) ev[k.slice(2)] = JSON.parse(v);
      else if (k.startsWith("d:")) ev.data[k.slice(2)] = JSON.parse(v);
    }
    return ev;
  }
}

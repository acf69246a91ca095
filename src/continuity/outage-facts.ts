/**
 * What happened to the mail of one domain during an outage, read from the message records:
 * the messages that arrived between the first failed probe and the primary's return (the
 * domain index, by arrival time), their recipients and bytes, how each ended (delivered,
 * bounced with the reply, held, still waiting with the last error), the first delivery after
 * the return, and the largest senders and recipients. Reads at most MAX_MESSAGES records, and
 * says so when it stopped there. Writes nothing.
 */
import { hmgetMany, zrangeByScoreMerged } from "../redis/sharded-reads.js";
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";

/** The most records one report reads (a larger outage is reported on its first ones, flagged `truncated`). */
export const MAX_MESSAGES = 20_000;
const TOP = 5;

export interface Count { name: string; count: number }
export interface OutageFacts {
  messages: number;
  recipients: number;
  bytes: number;
  delivered: number;      // recipients
  bounced: number;        // recipients
  held: number;           // messages
  waiting: number;        // messages not final and not held
  firstDeliveryAt?: number;
  lastDeliveryAt?: number;
  bounceReasons: Count[];
  holdReasons: Count[];
  waitingReasons: Count[];
  topSenders: Count[];
  topRecipients: Count[];
  truncated: boolean;
}

const FIELDS = ["from", "rcpts", "size", "state", "outcomes", "lastError"] as const;

function top(m: Map<string, number>, n = TOP): Count[] {
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n).map(([name, count]) => ({ name, count }));
}
const bump = (m: Map<string, number>, k: string, by = 1) => m.set(k, (m.get(k) ?? 0) + by);

/** The mail of `domain` that arrived in [from, to]; `after` (ms): deliveries from then on count as the drain. */
export async function outageFacts(redis: Redis, keys: Keyspace, domain: string, from: number, to: number, after: number | undefined): Promise<OutageFacts> {
  const ids = (await zrangeByScoreMerged(redis, keys.shards().map((n) => keys.indexDomain(n, domain)), String(from), String(to), MAX_MESSAGES)).map((e) => e.id);
  const f: OutageFacts = { messages: 0, recipients: 0, bytes: 0, delivered: 0, bounced: 0, held: 0, waiting: 0, bounceReasons: [], holdReasons: [], waitingReasons: [],
    topSenders: [], topRecipients: [], truncated: ids.length >= MAX_MESSAGES };
  const senders = new Map<string, number>(), rcpts = new Map<string, number>(), bounces = new Map<string, number>(), holds = new Map<string, number>(), waits = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await hmgetMany(redis, ids.slice(i, i + 500).map((id) => keys.messageMeta(id)), [...FIELDS]);
    for (const [err, row] of rows) {
      const [sender, rcptJson, size, state, outcomesJson, lastError] = (row ?? []) as (string | null)[];
      if (err || !state) continue; // purged meanwhile
      f.messages++;
      f.bytes += Number(size ?? 0);
      const list = JSON.parse(rcptJson || "[]") as string[];
      f.recipients += list.length;
      bump(senders, sender || "<>");
      for (const r of list) bump(rcpts, r.toLowerCase());
      const outcomes = JSON.parse(outcomesJson || "{}") as Record<string, { state: string; reply?: string; at?: number }>;
      for (const o of Object.values(outcomes)) {
        if (o.state === "delivered") {
          f.delivered++;
          if (o.at && (after === undefined || o.at >= after)) {
            f.firstDeliveryAt = Math.min(f.firstDeliveryAt ?? o.at, o.at);
            f.lastDeliveryAt = Math.max(f.lastDeliveryAt ?? o.at, o.at);
          }
        } else if (o.state === "bounced") { f.bounced++; bump(bounces, o.reply || "no reply recorded"); }
      }
      if (state === "held") { f.held++; bump(holds, lastError || "held by an admin or a filter"); }
      else if (state === "queued" || state === "deferred" || state === "active") { f.waiting++; bump(waits, lastError || "not tried yet"); }
    }
  }
  Object.assign(f, { bounceReasons: top(bounces), holdReasons: top(holds), waitingReasons: top(waits), topSenders: top(senders), topRecipients: top(rcpts) });
  return f;
}

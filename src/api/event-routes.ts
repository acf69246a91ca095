/**
 * GET /api/events (the continuity events, newest first) and GET /api/events/{id} (one event
 * with its report). A closed outage's report is built from the facts stored when it closed;
 * an open one's from the message records as they are now.
 */
import type { Handler } from "./api-deps.js";
import { apiError, fromFailure, json } from "./reply.js";
import { checkParams, DEFAULT_LIMIT, MAX_LIMIT } from "./validate.js";
import { EventStore } from "../continuity/event-store.js";
import { buildReport, type Report } from "../continuity/outage-report.js";
import { outageFacts, type OutageFacts } from "../continuity/outage-facts.js";
import type { ContinuityEvent, ContinuityKind } from "../continuity/continuity-event.js";
import type { ApiDeps } from "./api-deps.js";

export const KINDS: readonly ContinuityKind[] = ["outage", "queue-stale", "scanner-down", "redis-memory", "aof", "cert-expiry", "drill", "backup-traffic", "primary-change",
  "traffic-surge", "traffic-silent", "dictionary-attack", "queue-growth"];
export const EVENT_LIST_PARAMS = ["kind", "domain", "cursor", "limit"] as const;
const EVENT_ID = /^ev_[0-9a-z]{1,40}$/;

/** An event's report (outage facts stored at close, or read now while it is open). */
export async function eventReport(ev: ContinuityEvent, d: Pick<ApiDeps, "redis" | "keys">): Promise<Report> {
  let facts = ev.data.facts as OutageFacts | undefined;
  if (!facts && ev.kind === "outage" && ev.domain) facts = await outageFacts(d.redis, d.keys, ev.domain, ev.startedAt, ev.recoveredAt ?? Date.now(), ev.recoveredAt);
  return buildReport(ev, facts);
}

export const listEvents: Handler = async (req, d) => {
  const params = checkParams(req.query, EVENT_LIST_PARAMS);
  if (!params.ok) return fromFailure(params);
  const kind = req.query.get("kind") ?? undefined;
  if (kind !== undefined && !KINDS.includes(kind as ContinuityKind)) return apiError(400, "INVALID_KIND", `kind must be one of ${KINDS.join(", ")}`);
  const limitText = req.query.get("limit");
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return apiError(400, "INVALID_LIMIT", `limit must be an integer from 1 to ${MAX_LIMIT}`);
  const cursor = req.query.get("cursor") ?? undefined;
  if (cursor !== undefined && !/^\d{1,9}$/.test(cursor)) return apiError(400, "INVALID_CURSOR", "cursor must be the `next` of a previous page");
  const page = await new EventStore(d.redis, d.keys).list({ limit, cursor, kind: kind as ContinuityKind | undefined, domain: req.query.get("domain")?.toLowerCase() || undefined });
  return json(200, { items: page.items, count: page.items.length, next: page.next ?? null });
};

export const getEvent: Handler = async (req, d) => {
  const id = req.params.id ?? "";
  if (!EVENT_ID.test(id)) return apiError(400, "INVALID_ID", "not an event id: expected ev_ followed by 0-9 and a-z");
  const ev = await new EventStore(d.redis, d.keys).get(id);
  if (!ev) return apiError(404, "NOT_FOUND", `no event ${id}`);
  return json(200, { event: ev, report: await eventReport(ev, d) });
};

/**
 * Input validation for the API: path ids, the list query (state, domain, rcpt, from, q,
 * since, cursor, limit) and the bulk body. Every problem is a value (kind "invalid", an
 * error code and a message that names the parameter and what it expects); nothing here
 * throws or touches Redis.
 */
import { DIRECTIONS, MessageRecords, STATES, type Direction, type ListFilter, type MessageState } from "../store/message-records.js";
import { QUEUE_ID_PATTERN } from "../mail/queue-id.js";
import { BULK_ACTIONS, type BulkAction } from "../admin/bulk-actions.js";
import { failure, ok, type Outcome } from "../admin/outcome.js";
import { everythingRefusal, normaliseFilter, type BulkScope } from "../admin/bulk-scope.js";

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
export const FILTER_PARAMS = ["state", "domain", "rcpt", "from", "q", "since", "direction"] as const;
export const LIST_PARAMS = [...FILTER_PARAMS, "cursor", "limit"] as const;

export interface ListQuery { filter: ListFilter; cursor?: { score: number; id: string }; limit: number }

const invalid = (code: string, message: string) => failure("invalid", code, message);

export function parseId(text: string | undefined): Outcome<string> {
  if (text && QUEUE_ID_PATTERN.test(text)) return ok(text);
  return invalid("INVALID_ID", `"${printable(text ?? "")}" is not a message id: expected 20 characters of 0-9 and A-Z, optionally followed by .N`);
}

export function parseDomain(text: string | undefined, domains: string[]): Outcome<string> {
  const d = (text ?? "").toLowerCase();
  if (domains.includes(d)) return ok(d);
  if (!/^[a-z0-9.-]{1,253}$/.test(d)) return invalid("INVALID_DOMAIN", `"${printable(text ?? "")}" is not a domain name`);
  return failure("not-found", "UNKNOWN_DOMAIN", `${d} is not a configured domain (configured: ${domains.join(", ")})`);
}

/** Only the parameters a route documents, each at most once. */
export function checkParams(q: URLSearchParams, allowed: readonly string[]): Outcome<void> {
  const seen = new Set<string>();
  for (const name of q.keys()) {
    if (!allowed.includes(name)) {
      return invalid("INVALID_PARAMETER", allowed.length ? `unknown parameter "${printable(name)}"; expected one of: ${allowed.join(", ")}` : `unknown parameter "${printable(name)}"; this route takes none`);
    }
    if (seen.has(name)) return invalid("INVALID_PARAMETER", `parameter "${name}" given more than once`);
    seen.add(name);
  }
  return ok(undefined);
}

/** The filter of a list query or a bulk body (values already as strings). */
export function parseFilter(get: (name: string) => string | undefined, domains: string[]): Outcome<ListFilter> {
  const f: ListFilter = {};
  const state = get("state");
  if (state !== undefined) {
    if (!STATES.includes(state as MessageState)) return invalid("INVALID_STATE", `state "${printable(state)}" is not one of: ${STATES.join(", ")}`);
    f.state = state as MessageState;
  }
  const domain = get("domain");
  if (domain !== undefined) {
    if (!domains.includes(domain.toLowerCase())) return invalid("INVALID_DOMAIN", `domain "${printable(domain)}" is not a configured domain (configured: ${domains.join(", ")})`);
    f.domain = domain.toLowerCase();
  }
  const direction = get("direction");
  if (direction !== undefined) {
    if (!DIRECTIONS.includes(direction as Direction)) return invalid("INVALID_DIRECTION", `direction "${printable(direction)}" is not one of: ${DIRECTIONS.join(", ")}`);
    f.direction = direction as Direction;
  }
  const rcpt = get("rcpt");
  if (rcpt !== undefined) {
    if (!/^[^\s@]{1,64}@[^\s@]{1,255}$/.test(rcpt)) return invalid("INVALID_RCPT", "rcpt must be one whole address, local@domain");
    f.rcpt = rcpt;
  }
  for (const name of ["from", "q"] as const) {
    const v = get(name);
    if (v === undefined) continue;
    if (v.length === 0 || v.length > 256) return invalid("INVALID_PARAMETER", `${name} must be 1 to 256 characters`);
    f[name] = v;
  }
  const since = get("since");
  if (since !== undefined) {
    const ms = /^\d{1,15}$/.test(since) ? Number(since) : /^\d{4}-\d\d-\d\d/.test(since) ? Date.parse(since) : NaN;
    if (!Number.isFinite(ms)) return invalid("INVALID_SINCE", `since "${printable(since)}" is neither milliseconds since the epoch nor an ISO 8601 time`);
    f.since = ms;
  }
  return ok(f);
}

export function parseListQuery(q: URLSearchParams, domains: string[]): Outcome<ListQuery> {
  const params = checkParams(q, LIST_PARAMS);
  if (!params.ok) return params;
  const filter = parseFilter((n) => q.get(n) ?? undefined, domains);
  if (!filter.ok) return filter;
  let limit = DEFAULT_LIMIT;
  const limitText = q.get("limit");
  if (limitText !== null) {
    if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIMIT) {
      return invalid("INVALID_LIMIT", `limit "${printable(limitText)}" must be a whole number from 1 to ${MAX_LIMIT}`);
    }
    limit = Number(limitText);
  }
  const cursorText = q.get("cursor");
  let cursor: ListQuery["cursor"];
  if (cursorText !== null) {
    const c = cursorText.length <= 100 && /^[A-Za-z0-9_-]+$/.test(cursorText) ? MessageRecords.parseCursor(cursorText) : null;
    if (!c) return invalid("INVALID_CURSOR", "cursor is not one this API returned: pass the `next` value of the previous page unchanged");
    cursor = c;
  }
  return ok({ filter: filter.value, cursor, limit });
}

export interface BulkRequest { scope: BulkScope<ListFilter>; action: BulkAction }

/**
 * { "action": "hold", "filter": { "q": "invoice.zip" } }, or { "action": "hold", "all": true }.
 * A filter that selects everything once blank text and a since at or before the epoch are
 * dropped (bulk-scope.ts) is refused unless "all": true says so; "all" never goes with a
 * narrowing filter.
 */
export function parseBulk(body: unknown, domains: string[]): Outcome<BulkRequest> {
  if (!body || typeof body !== "object" || Array.isArray(body)) return invalid("INVALID_BODY", 'expected a JSON object { "action": ..., "filter": { ... } } or { "action": ..., "all": true }');
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => k !== "action" && k !== "filter" && k !== "all");
  if (extra.length) return invalid("INVALID_BODY", `unknown field "${printable(extra[0])}"; expected "action" and "filter" (or "all": true)`);
  if (typeof b.action !== "string" || !BULK_ACTIONS.includes(b.action as BulkAction)) {
    return invalid("INVALID_ACTION", `action must be one of: ${BULK_ACTIONS.join(", ")}`);
  }
  if (b.all !== undefined && typeof b.all !== "boolean") return invalid("INVALID_BODY", '"all" must be true or false');
  const all = b.all === true;
  if (b.filter !== undefined && (!b.filter || typeof b.filter !== "object" || Array.isArray(b.filter))) {
    return invalid("INVALID_FILTER", `filter must be an object with some of: ${FILTER_PARAMS.join(", ")}`);
  }
  const given = (b.filter ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(given)) {
    if (!(FILTER_PARAMS as readonly string[]).includes(k)) return invalid("INVALID_FILTER", `unknown filter "${printable(k)}"; expected some of: ${FILTER_PARAMS.join(", ")}`);
  }
  const n = normaliseFilter(given);
  if (n.selectsEverything) {
    if (all) return ok({ scope: { all: true }, action: b.action as BulkAction });
    return invalid("INVALID_FILTER", everythingRefusal(n.dropped));
  }
  if (all) return invalid("INVALID_FILTER", '"all": true acts on every message: send it without a filter, or drop "all" to act on the filter\'s matches');
  for (const [k, v] of Object.entries(n.filter)) {
    if (typeof v !== "string" && !(k === "since" && typeof v === "number")) return invalid("INVALID_FILTER", `filter.${k} must be a string`);
  }
  const filter = parseFilter((name) => (n.filter[name] === undefined ? undefined : String(n.filter[name])), domains);
  if (!filter.ok) return filter;
  return ok({ scope: { filter: filter.value }, action: b.action as BulkAction });
}

/** User input echoed in a message: printable ASCII only, and short. */
function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 64 ? clean.slice(0, 64) + "…" : clean;
}

/**
 * Which messages a bulk action may touch. `normaliseFilter` takes a filter as a client gave
 * it (a JSON body, CLI options, query parameters) and drops the criteria that select
 * nothing away: blank or whitespace text, null, empty arrays, and a `since` at or before
 * 2000-01-01 (0, negative, the epoch — receivedAt is our own clock at acceptance, so no
 * message is older than mxspool). It then says whether what is left selects every message.
 * A bulk action on everything needs an explicit `all: true` (`--all` in the CLI): a stray
 * `{"q":" "}` or `{"since":0}` must never hold or delete the whole queue.
 * Pure: no I/O, nothing thrown; validating the values that remain is validate.ts's job.
 */

/** A `since` at or before this (ms) cannot exclude any message. */
export const SINCE_FLOOR = Date.UTC(2000, 0, 1);

export interface NormalisedFilter {
  /** The criteria that remain, text trimmed, `since` as given (validated later). */
  filter: Record<string, unknown>;
  /** Criteria that were given but select nothing away, by name. */
  dropped: string[];
  /** True when no criterion remains: the filter is every message. */
  selectsEverything: boolean;
}

/** `since` as milliseconds when it can be read (number, digits, ISO 8601), else undefined. */
function sinceMs(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  const t = v.trim();
  if (/^-?\d{1,16}$/.test(t)) return Number(t);
  if (/^\d{4}-\d\d-\d\d/.test(t)) { const ms = Date.parse(t); return Number.isNaN(ms) ? undefined : ms; }
  return undefined;
}

function isVoid(name: string, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === "string" && v.trim() === "") return true;
  if (Array.isArray(v) && v.length === 0) return true;
  if (name === "since") {
    const ms = sinceMs(v);
    if (ms !== undefined && (!Number.isFinite(ms) || ms <= SINCE_FLOOR)) return true;
  }
  return false;
}

export function normaliseFilter(raw: Readonly<Record<string, unknown>>): NormalisedFilter {
  const filter: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [name, v] of Object.entries(raw)) {
    if (isVoid(name, v)) { if (v !== undefined) dropped.push(name); continue; }
    filter[name] = typeof v === "string" ? v.trim() : v;
  }
  return { filter, dropped, selectsEverything: Object.keys(filter).length === 0 };
}

/** What a bulk action runs on: every message (said explicitly), or a filter that narrows. */
export type BulkScope<F> = { all: true } | { filter: F };

/** The message a client gets when its filter selects everything and it did not say `all`. */
export function everythingRefusal(dropped: string[], allFlag = '"all": true'): string {
  const why = dropped.length ? ` (${dropped.map((d) => `${d}`).join(", ")} ${dropped.length > 1 ? "select" : "selects"} nothing away: blank text and a since at or before 2000-01-01 count as absent)` : "";
  return `the filter selects every message${why}; a bulk action never applies to everything by default: narrow the filter, or send ${allFlag} to act on every message`;
}

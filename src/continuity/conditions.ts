/**
 * The continuity conditions besides outages, as pure verdicts from facts: mail waiting too
 * long although the primary is up (queue-stale), a content scanner down (scanner-down),
 * Redis memory above a share of its limit (redis-memory), Redis failing to write its AOF or
 * snapshot (aof: a full or broken disk), the STARTTLS certificate close to expiry (cert-expiry). Each verdict says whether the condition holds now, for which kind and
 * domain, with a one-line summary and its figures; ./condition-watch.ts gathers the facts and
 * opens or closes the events. Tested from tables (test/unit/continuity/conditions.test.ts).
 */
import type { ContinuityKind } from "./continuity-event.js";

/** `startedAt`: when the condition began, if known before it was judged (default: now). */
export interface Verdict { kind: ContinuityKind; domain?: string; active: boolean; summary: string; data: Record<string, unknown>; startedAt?: number }

const mins = (ms: number) => `${Math.round(ms / 60_000)} min`;

/** Mail for `domain` has waited longer than `after` ms while its primary answers. */
export function queueStale(domain: string, primaryUp: boolean, oldestWaitingAt: number | undefined, after: number, now: number): Verdict {
  const age = oldestWaitingAt === undefined ? 0 : now - oldestWaitingAt;
  const active = primaryUp && age > after;
  return { kind: "queue-stale", domain, active, summary: active ? `mail for ${domain} waits ${mins(age)} although its primary is up` : `queue of ${domain} moving`,
    data: { oldestWaitingAt: oldestWaitingAt ?? null, ageMs: age, thresholdMs: after } };
}

/** Content scanners that every reporting process sees down (one event for all scanners: `data.down` names them). */
export function scannerDown(states: Map<string, string[]>): Verdict {
  const down = [...states].filter(([, st]) => st.length > 0 && st.every((x) => x === "down")).map(([name]) => name).sort();
  const active = down.length > 0;
  return { kind: "scanner-down", active, summary: active ? `content scanner(s) down: ${down.join(", ")}` : "content scanners answer", data: { down } };
}

/** Redis's memory use above `percent` of its limit (maxmemory, or the machine's memory without one). */
export function redisMemory(used: number, limit: number, percent: number): Verdict {
  const share = limit > 0 ? Math.round((used / limit) * 1000) / 10 : 0;
  const active = limit > 0 && share >= percent;
  return { kind: "redis-memory", active, summary: active ? `Redis uses ${share}% of its memory limit (threshold ${percent}%)` : `Redis memory at ${share}%`,
    data: { usedBytes: used, limitBytes: limit, percent: share, thresholdPercent: percent } };
}

/** Redis's last AOF write, AOF rewrite or snapshot failed (INFO persistence fields; "ok" when fine). */
export function aofProblem(p: { aofEnabled: boolean; aofWrite?: string; aofRewrite?: string; rdbSave?: string }): Verdict {
  const failed = [
    ...(p.aofEnabled && p.aofWrite && p.aofWrite !== "ok" ? [`AOF write ${p.aofWrite}`] : []),
    ...(p.aofEnabled && p.aofRewrite && p.aofRewrite !== "ok" ? [`AOF rewrite ${p.aofRewrite}`] : []),
    ...(p.rdbSave && p.rdbSave !== "ok" ? [`snapshot ${p.rdbSave}`] : []),
  ];
  const active = failed.length > 0;
  return { kind: "aof", active, summary: active ? `Redis cannot persist: ${failed.join(", ")} (disk full or failing?)` : "Redis persists", data: { failed } };
}

/** The certificate expires within `days` (or already has). */
export function certExpiry(file: string, validTo: number, days: number, now: number): Verdict {
  const left = validTo - now;
  const active = left < days * 86_400_000;
  return { kind: "cert-expiry", active, summary: active ? `the STARTTLS certificate ${file} expires ${new Date(validTo).toISOString()} (in ${Math.floor(left / 86_400_000)} days)` : "certificate valid",
    data: { file, validTo, daysLeft: Math.floor(left / 86_400_000), thresholdDays: days } };
}

/**
 * GET /api/health (no token needed; no message data) and GET /api/status.
 * health: live as long as it answers; ready (200) unless Redis does not answer or a scanner
 * is down while its onError is tempfail (mail is being refused) — 503 with the reasons. A
 * primary being down is what mxspool is for: reported under `warnings`, still ready.
 * Without a token the body is only { status, reason } — ok / degraded / unavailable and one
 * word for why (redis, scanner, primary, paused, unscanned) — so a load balancer or Docker can
 * check it without learning the primaries' addresses, errors, domains or the filter state.
 * With the admin bearer token (checked by http-server.ts) the same route gives the details.
 * status: per domain the primary and its queue, messages per state, accept/delivery rates,
 * the drain pace and the time to empty the queue at that pace, the scanners, and what the
 * spool costs in Redis: bytes per queued message and the hours of outage that still fit
 * (src/store/spool-capacity.ts).
 */
import type { Handler } from "./api-deps.js";
import { json } from "./reply.js";
import { scannersStatus } from "./scanner-status.js";

const PING_TIMEOUT_MS = 1_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, () => { clearTimeout(t); resolve(undefined); });
  });
}

/** The one word an unauthenticated health check gets for why it is not "ok". */
export type HealthReason = "redis" | "scanner" | "primary" | "paused" | "unscanned";

export const health: Handler = async (req, d) => {
  const reasons: string[] = [];
  const warnings: string[] = [];
  let unavailableWhy: HealthReason | undefined;
  let degradedWhy: HealthReason | undefined;
  const refuse = (why: HealthReason, text: string) => { reasons.push(text); unavailableWhy ??= why; };
  const warn = (why: HealthReason, text: string) => { warnings.push(text); degradedWhy ??= why; };
  const redisOk = d.redis.status === "ready" && (await withTimeout(d.redis.ping(), PING_TIMEOUT_MS)) === "PONG";
  if (!redisOk) refuse("redis", "redis: not answering");
  const primaries: Record<string, unknown> = {};
  const queue: Record<string, unknown> = {};
  let scanners: unknown = null;
  if (redisOk) {
    const read = async () => {
      for (const p of await d.domains.primaries()) {
        primaries[p.domain] = { state: p.state, since: p.since, lastProbe: p.lastProbe, lastError: p.lastError, queuePaused: p.queuePaused, adminPaused: p.adminPaused };
        if (p.state !== "up") warn("primary", `primary for ${p.domain}: ${p.state}${p.lastError ? ` (${p.lastError})` : ""}; mail is queued`);
        if (p.adminPaused) warn("paused", `delivery to ${p.domain} is paused by an admin`);
        queue[p.domain] = await d.queues.get(p.domain).getJobCounts("wait", "active", "delayed", "prioritized", "failed");
      }
      const s = await scannersStatus(d.config, d.redis, d.keys);
      for (const x of s.scanners) {
        if (x.mailRefused) refuse("scanner", `${x.name}: down (${x.lastError ?? "no answer"}); mail is deferred (onError: tempfail)`);
        else if (x.state === "down") warn("scanner", `${x.name}: down; mail is accepted unscanned (onError: accept)`);
      }
      if (s.warning) warn("unscanned", s.warning);
      scanners = { status: s.status, scanners: s.scanners.map((x) => ({ name: x.name, state: x.state, since: x.since })) };
      return true;
    };
    if (!(await withTimeout(read(), 5_000))) refuse("redis", "redis: too slow to answer");
  }
  const ready = reasons.length === 0;
  const status = ready ? (warnings.length ? "degraded" : "ok") : "unavailable";
  const reason = unavailableWhy ?? degradedWhy ?? null;
  if (!req.authenticated) return json(ready ? 200 : 503, { status, reason });
  return json(ready ? 200 : 503, {
    status, reason,
    live: true, ready, reasons, warnings,
    redis: redisOk ? "up" : "down",
    primaries, queue, scanners,
  });
};

export const status: Handler = async (_req, d) => {
  const [primaries, byState, counters, rejected, rates, scanners, capacity] = await Promise.all([
    d.domains.primaries(), d.query.stateCounts(), d.records.counts(), rejectedTotal(d), d.rates.rates(), scannersStatus(d.config, d.redis, d.keys), d.capacity.capacity(),
  ]);
  const domains: Record<string, unknown> = {};
  for (const p of primaries) {
    const jobs = await d.queues.get(p.domain).getJobCounts("wait", "active", "delayed", "prioritized", "failed");
    domains[p.domain] = { primary: { state: p.state, since: p.since, lastProbe: p.lastProbe, lastError: p.lastError, endpoint: p.endpoint },
      queuePaused: p.queuePaused, adminPaused: p.adminPaused, jobs };
  }
  const inQueue = byState.queued + byState.deferred + byState.active;
  const per = rates?.perSecond;
  const pace = per ? Math.round(((per.delivered ?? 0) + (per.bounced ?? 0)) * 100) / 100 : null;
  return json(200, {
    now: Date.now(),
    hostname: d.config.hostname,
    domains,
    queue: { ...byState, inQueue },
    totals: { accepted: counters.accepted, delivered: counters.delivered, bounced: counters.bounced, deleted: counters.deleted, rejected },
    rates: rates ? {
      windowSeconds: rates.windowSeconds, acceptedPerSecond: per!.accepted ?? 0, deliveredPerSecond: per!.delivered ?? 0,
      bouncedPerSecond: per!.bounced ?? 0, rejectedPerSecond: per!.rejected ?? 0,
    } : null,
    drain: { inQueue, pacePerSecond: pace, etaSeconds: pace && pace > 0 ? Math.round(inQueue / pace) : null },
    scanners,
    redis: { usedMemory: capacity.usedMemory, limitBytes: capacity.limitBytes, limitFrom: capacity.limitFrom, bytesPerQueuedMessage: capacity.bytesPerQueuedMessage, messagesLeft: capacity.messagesLeft },
    outageHoursLeft: capacity.outageHoursLeft,
    acceptedPerHour: capacity.acceptedPerHour,
  });
};

async function rejectedTotal(d: Parameters<Handler>[1]): Promise<number> {
  const h = await d.redis.hgetall(d.keys.rejected());
  return Object.values(h).reduce((n, v) => n + Number(v), 0);
}

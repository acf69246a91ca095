/**
 * GET /metrics: one snapshot of the cross-process statistics in Redis (counters, refusals,
 * attempts, latency buckets, alerts sent/failed), the queue per state, the primaries and the scanners, rendered
 * as Prometheus text by observability/metrics.ts.
 */
import type { Handler } from "./api-deps.js";
import { scannersStatus } from "./scanner-status.js";

const numbers = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));

export const metrics: Handler = async (_req, d) => {
  const [counters, rejected, attempts, latency, queue, primaries, scanners, alerts, capacity] = await Promise.all([
    d.records.counts(), d.redis.hgetall(d.keys.rejected()), d.redis.hgetall(d.keys.attempts()), d.redis.hgetall(d.keys.latency()),
    d.query.stateCounts(), d.domains.primaries(), scannersStatus(d.config, d.redis, d.keys),
    d.redis.hgetall(d.keys.alertStats()), d.capacity.capacity(),
  ]);
  const text = await d.metrics.render({
    counters, rejected: numbers(rejected), alerts: numbers(alerts), attempts: numbers(attempts), latency, queue, capacity,
    primaries: primaries.map((p) => ({ domain: p.domain, state: p.state, queuePaused: p.queuePaused })),
    scanners: scanners.scanners.map((s) => ({ name: s.name, state: s.state, lastLatencyMs: s.lastLatencyMs })),
  });
  return { status: 200, text, contentType: d.metrics.contentType };
};

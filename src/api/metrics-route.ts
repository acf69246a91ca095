/**
 * GET /metrics: one snapshot of the cross-process statistics in Redis (counters, refusals,
 * attempts, latency buckets, outbound messages per state, alerts sent/failed, backup-traffic deferrals, the traffic series' totals per domain), the queue per state, the primaries, the scanners, the outages and the last drill per domain, rendered
 * as Prometheus text by observability/metrics.ts; plus the age of the oldest waiting message.
 */
import type { Handler } from "./api-deps.js";
import { scannersStatus } from "./scanner-status.js";
import { outageMetrics } from "../continuity/event-store.js";
import { lastDrills } from "../doctor/drill.js";
import { configuredTraffic, GLOBAL_DOMAIN } from "../observability/traffic-series.js";
import { sumHashes } from "../redis/sharded-reads.js";

const numbers = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));

export const metrics: Handler = async (_req, d) => {
  const [counters, rejected, attempts, latency, queue, primaries, scanners, alerts, backupDeferred, outages, drills, capacity, traffic, outbound, oldest] = await Promise.all([
    d.records.counts(), d.redis.hgetall(d.keys.rejected()), sumHashes(d.redis, d.keys.shards().map((n) => d.keys.attempts(n))), sumHashes(d.redis, d.keys.shards().map((n) => d.keys.latency(n))),
    d.query.stateCounts(), d.domains.primaries(), scannersStatus(d.config, d.redis, d.keys),
    d.redis.hgetall(d.keys.alertStats()), d.redis.hgetall(d.keys.backupDeferred()),
    outageMetrics(d.redis, d.keys, d.queues.domains()), lastDrills(d.redis, d.keys, d.queues.domains()), d.capacity.capacity(),
    configuredTraffic(d.config, d.redis, d.keys, d.log).totals([...d.queues.domains(), GLOBAL_DOMAIN]),
    d.records.outboundStateCounts(), oldestWaiting(d),
  ]);
  const text = await d.metrics.render({
    oldestWaitingSeconds: oldest, counters, rejected: numbers(rejected), alerts: numbers(alerts), backupDeferred: numbers(backupDeferred), attempts: numbers(attempts), latency, queue, outbound, capacity,
    primaries: primaries.map((p) => ({ domain: p.domain, state: p.state, queuePaused: p.queuePaused })),
    scanners: scanners.scanners.map((s) => ({ name: s.name, state: s.state, lastLatencyMs: s.lastLatencyMs })),
    outages, drills, traffic,
  });
  return { status: 200, text, contentType: d.metrics.contentType };
};

/** Seconds since the oldest message still waiting arrived (the state indexes are scored by arrival). */
async function oldestWaiting(d: Parameters<Handler>[1]): Promise<number> {
  // one command per state and shard (each index is in its shard's slot on a Cluster)
  const firsts = await Promise.all((["queued", "deferred", "active"] as const).flatMap((s) => d.keys.shards().map((n) => d.redis.zrange(d.keys.indexState(n, s), "0", "0", "WITHSCORES"))));
  const at = firsts.filter((f) => f.length === 2).map((f) => Number(f[1]));
  return at.length ? Math.max(0, Math.round((Date.now() - Math.min(...at)) / 1000)) : 0;
}

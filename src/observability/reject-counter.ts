/**
 * Refusals counted by reason (relay-domain, unknown-recipient, rate-limit, ...): kept in
 * this process for the metrics endpoint and added to a Redis hash
 * (Keyspace.rejected) so that the count covers every process and node. With a traffic
 * series, each refusal is also added to the domain's bucket under its reason class ("*" when
 * no configured domain is known yet: connection limits, MAIL, relay attempts).
 */
import type { Redis } from "ioredis";
import type { TrafficSeries } from "./traffic-series.js";

/** The key written here (named by src/redis/keyspace.ts, which sits above observability). */
interface RejectKeys { rejected(): string }

export class RejectCounter {
  readonly local = new Map<string, number>();

  constructor(private readonly redis: Redis, private readonly keys: RejectKeys, private readonly traffic?: TrafficSeries) {}

  /** `domains`: the configured domains the refused mail was for (none: the global series). */
  count(reason: string, domains: readonly string[] = []): void {
    const r = reason || "unspecified";
    this.local.set(r, (this.local.get(r) ?? 0) + 1);
    this.redis.hincrby(this.keys.rejected(), r, 1).catch(() => undefined);
    if (!this.traffic) return;
    if (domains.length === 0) this.traffic.recordRejection(undefined, r);
    for (const d of domains) this.traffic.recordRejection(d, r);
  }

  async totals(): Promise<Record<string, number>> {
    const h = await this.redis.hgetall(this.keys.rejected());
    return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  }
}

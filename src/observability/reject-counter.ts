/**
 * Refusals counted by reason (relay-domain, unknown-recipient, rate-limit, ...): kept in
 * this process for the metrics endpoint and added to a Redis hash
 * (Keyspace.rejected) so that the count covers every process and node.
 */
import type { Redis } from "ioredis";

/** The key written here (named by src/redis/keyspace.ts, which sits above observability). */
interface RejectKeys { rejected(): string }

export class RejectCounter {
  readonly local = new Map<string, number>();

  constructor(private readonly redis: Redis, private readonly keys: RejectKeys) {}

  count(reason: string): void {
    const r = reason || "unspecified";
    this.local.set(r, (this.local.get(r) ?? 0) + 1);
    this.redis.hincrby(this.keys.rejected(), r, 1).catch(() => undefined);
  }

  async totals(): Promise<Record<string, number>> {
    const h = await this.redis.hgetall(this.keys.rejected());
    return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  }
}

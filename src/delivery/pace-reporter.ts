/**
 * What this process's deliveries tell the DrainPacer: per domain, how many replies were ok
 * or busy and their total latency, summed here and written to Keyspace.pace(domain) a
 * few times per pacer step rather than once per message (one Redis write per 100 ms, not
 * one per delivery, at a thousand deliveries a second).
 */
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";
import { isBusyReply } from "../../policies/drain-pace.js";

interface Tally { ok: number; busy: number; ms: number }

export class PaceReporter {
  private readonly tallies = new Map<string, Tally>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly redis: Redis, private readonly keys: Keyspace, private readonly everyMs = 100) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.everyMs);
    this.timer.unref();
  }

  /** One attempt's replies: busy if any of them says "slow down" (policies/drain-pace.ts). */
  report(domain: string, replies: { code?: number; response: string }[], ms: number): void {
    const busy = replies.some((r) => isBusyReply(r.code, r.response));
    const t = this.tallies.get(domain) ?? { ok: 0, busy: 0, ms: 0 };
    if (busy) t.busy++; else t.ok++;
    t.ms += ms;
    this.tallies.set(domain, t);
  }

  async flush(): Promise<void> {
    if (!this.tallies.size) return;
    const m = this.redis.multi();
    for (const [domain, t] of this.tallies) {
      const k = this.keys.pace(domain);
      if (t.ok) m.hincrby(k, "ok", t.ok);
      if (t.busy) m.hincrby(k, "busy", t.busy);
      m.hincrby(k, "ms", Math.round(t.ms));
    }
    this.tallies.clear();
    await m.exec().catch(() => undefined); // a lost tally only makes one pacer step less informed
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/**
 * Applies policies/drain-pace.ts to each domain: every `stepMs` it reads what the delivery
 * workers reported since the last step (Keyspace.pace counters: ok, busy, total
 * latency), computes the next pace and publishes it in the primary's Redis hash (`pace`),
 * where every delivery process reads it (PaceGate) and the status API shows it. A primary
 * that comes back starts again from slow start. While a domain is in slow start and mail is
 * being delivered, the step is SLOW_START_STEP_MS, not `stepMs`: doubling from 1 to 20 then
 * takes ~0.25 s instead of ~1.5 s (the policy still grows only on a step that saw a delivery,
 * so a slow primary is not rushed); the gates poll as fast while deliveries wait on them.
 * (BullMQ's global concurrency was tried for
 * this and woke idle workers too slowly when the limit changed: a flapping primary drained
 * at a few messages per second.)
 */
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { DeliveryQueues } from "../../queues/delivery-queue.js";
import type { Keyspace } from "../redis/keyspace.js";
import { initialPace, nextPace, type PaceState } from "../../policies/drain-pace.js";

/** The step while a domain ramps up and its deliveries are flowing. */
export const SLOW_START_STEP_MS = 50;

export class DrainPacer {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly state = new Map<string, PaceState>();
  /** Whether the last step saw a delivery to a domain still in slow start. */
  private ramping = false;

  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly queues: DeliveryQueues, private readonly log: Logger,
              private readonly stepMs = 250) {}

  async start(): Promise<void> {
    for (const d of this.queues.domains()) await this.apply(d, initialPace());
    this.schedule(this.stepMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.step()
        .catch((err) => this.log.warn({ event: "PACER_FAILED", err: (err as Error).message }, "drain pacer step failed"))
        .finally(() => this.schedule(this.ramping ? SLOW_START_STEP_MS : this.stepMs));
    }, ms);
    this.timer.unref();
  }

  /** The primary came back: start slowly again. */
  async restart(domain: string): Promise<void> { await this.apply(domain, initialPace()); }

  private async apply(domain: string, s: PaceState): Promise<void> {
    const prev = this.state.get(domain);
    this.state.set(domain, s);
    if (prev && prev.concurrency === s.concurrency) return;
    await this.redis.hset(this.keys.primary(domain), "pace", String(s.concurrency));
    if (prev && s.concurrency < prev.concurrency) this.log.info({ event: "DRAIN_BACKOFF", domain, from: prev.concurrency, to: s.concurrency }, "primary is struggling; delivering more slowly");
  }

  private async step(): Promise<void> {
    let ramping = false;
    for (const domain of this.queues.domains()) {
      const k = this.keys.pace(domain);
      const res = await this.redis.multi().hgetall(k).del(k).exec();
      const h = (res?.[0]?.[1] ?? {}) as Record<string, string>;
      const ok = Number(h.ok ?? 0);
      const busy = Number(h.busy ?? 0);
      const n = ok + busy;
      const s = this.state.get(domain) ?? initialPace();
      const next = nextPace(s, { ok, busy, avgLatencyMs: n ? Number(h.ms ?? 0) / n : 0 }, this.config.delivery.concurrency, this.config.delivery.slowReply);
      if (ok > 0 && next.slowStart) ramping = true;
      await this.apply(domain, next);
    }
    this.ramping = ramping;
  }

  stop(): void { this.stopped = true; clearTimeout(this.timer); }
}

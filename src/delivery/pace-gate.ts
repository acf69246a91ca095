/**
 * This process's share of the drain pace: the supervisor's DrainPacer publishes the pace
 * per domain (`pace` in the primary's hash); each delivery process polls it and lets at
 * most its proportional share of deliveries talk to the primary at once. Deliveries beyond
 * it wait here (their BullMQ locks keep being renewed). The poll is every `everyMs`, and every
 * SLOW_START_STEP_MS while deliveries wait here below this process's share (the pace is
 * ramping up: monitor/drain-pacer.ts).
 */
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";
import { SLOW_START_STEP_MS } from "../monitor/drain-pacer.js";

export class PaceGate {
  private active = 0;
  private waiting: (() => void)[] = [];
  private limit: number;
  private timer?: NodeJS.Timeout;

  constructor(private readonly redis: Redis, private readonly keys: Keyspace, private readonly domain: string,
              private readonly share: number, private readonly max: number) {
    this.limit = share;
  }

  start(everyMs = 250): void {
    const poll = async () => {
      const pace = Number(await this.redis.hget(this.keys.primary(this.domain), "pace").catch(() => null));
      this.limit = pace > 0 ? Math.max(1, Math.round((this.share * Math.min(pace, this.max)) / this.max)) : this.share;
      this.release(0);
      if (this.stopped) return;
      this.timer = setTimeout(() => void poll(), this.waiting.length && this.limit < this.share ? SLOW_START_STEP_MS : everyMs);
      this.timer.unref();
    };
    void poll();
  }

  async acquire(): Promise<void> {
    if (this.active < this.limit) { this.active++; return; }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
  }

  /** Gives back `n` permits (0 = only re-check the waiters against a new limit). */
  release(n = 1): void {
    this.active -= n;
    while (this.waiting.length && this.active + this.pendingWakeups < this.limit) {
      this.pendingWakeups++;
      const w = this.waiting.shift()!;
      queueMicrotask(() => { this.pendingWakeups--; w(); });
    }
  }

  private pendingWakeups = 0;

  private stopped = false;

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const w of this.waiting.splice(0)) w();
  }
}

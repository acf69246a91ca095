/**
 * Rates for /api/status from the cross-process counters in Redis: the counters are sampled
 * every SAMPLE_EVERY_MS and read afresh on each request; a rate is the counter's growth between the
 * oldest sample of the last WINDOW_MS and now, per second. Honest and simple: no rate until
 * two samples a second apart exist; a counter that went down (a redelivery moves one back)
 * counts as no growth.
 */
export interface Sample { at: number; values: Record<string, number> }

export interface Rates { windowSeconds: number; perSecond: Record<string, number> }

export const SAMPLE_EVERY_MS = 5_000;
export const WINDOW_MS = 60_000;

export class RateSampler {
  private samples: Sample[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly read: () => Promise<Record<string, number>>) {}

  start(): void {
    const tick = () => { void this.sample().catch(() => undefined); };
    tick();
    this.timer = setInterval(tick, SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void { clearInterval(this.timer); }

  async sample(now = Date.now()): Promise<Sample> {
    const s = { at: now, values: await this.read() };
    this.samples.push(s);
    // keep the newest sample older than the window too: it starts the full window
    while (this.samples.length > 2 && this.samples[1].at <= now - WINDOW_MS) this.samples.shift();
    return s;
  }

  /** Rates over the last window, from a fresh read; null until there is a second of history. */
  async rates(now = Date.now()): Promise<Rates | null> {
    const latest: Sample = { at: now, values: await this.read() };
    const first = this.samples[0];
    const seconds = first ? (latest.at - first.at) / 1000 : 0;
    if (seconds < 1) return null;
    const perSecond: Record<string, number> = {};
    for (const [k, v] of Object.entries(latest.values)) perSecond[k] = Math.round(Math.max(0, v - (first.values[k] ?? 0)) / seconds * 100) / 100;
    return { windowSeconds: Math.round(seconds), perSecond };
  }
}

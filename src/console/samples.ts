/**
 * What the console's charts are drawn from until per-domain traffic series exist (h/traffic's
 * readTrafficSeries is the hook: `chartSeries` takes samples from wherever they come): every
 * `admin.sampleEvery` the cumulative counters (accepted, delivered, bounced, rejected) and the
 * queue depth are written to one Redis string per slot (Keyspace.consoleSample, SET NX: the
 * first node in a slot writes it, the rest find it taken; 8 days TTL). A chart reads a range of
 * slots with one MGET. `chartSeries` is pure: per-slot growth of the counters (a counter that
 * went down — a redelivery moves one back — counts as none) and the depth as sampled.
 */
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";
import type { Point } from "./svg-chart.js";

export interface Sample { at: number; inQueue: number; accepted: number; delivered: number; bounced: number; rejected: number }

const TTL_S = 8 * 86_400;
/** A chart asks for at most this many slots (7 days of 5-minute slots is 2016). */
const MAX_SLOTS = 4032;

export class Samples {
  private timer?: NodeJS.Timeout;

  constructor(private readonly redis: Redis, private readonly keys: Keyspace, readonly everyMs: number, private readonly read: () => Promise<Omit<Sample, "at">>) {}

  start(): void {
    const tick = () => { void this.take().catch(() => undefined); };
    tick();
    // a few ticks per slot, so a late timer never leaves one empty; SET NX keeps the first
    this.timer = setInterval(tick, Math.max(500, Math.floor(this.everyMs / 4)));
    this.timer.unref();
  }

  stop(): void { clearInterval(this.timer); }

  async take(now = Date.now()): Promise<boolean> {
    const slot = Math.floor(now / this.everyMs);
    const key = this.keys.consoleSample(slot);
    if (await this.redis.exists(key)) return false;
    const s: Sample = { at: now, ...await this.read() };
    return (await this.redis.set(key, JSON.stringify(s), "EX", TTL_S, "NX")) === "OK";
  }

  async range(from: number, to: number): Promise<Sample[]> {
    const first = Math.floor(from / this.everyMs);
    const last = Math.floor(to / this.everyMs);
    const slots: number[] = [];
    const step = Math.max(1, Math.ceil((last - first + 1) / MAX_SLOTS));
    for (let s = first; s <= last; s += step) slots.push(s);
    if (!slots.length) return [];
    const raw = await this.redis.mget(slots.map((s) => this.keys.consoleSample(s)));
    return raw.flatMap((r) => { try { return r ? [JSON.parse(r) as Sample] : []; } catch { return []; } });
  }
}

export interface ChartSeries { accepted: Point[]; delivered: Point[]; rejected: Point[]; bounced: Point[]; depth: Point[] }

/** Samples (any order) → per-interval counts (plotted at the interval's end) and the queue depth. */
export function chartSeries(samples: Sample[]): ChartSeries {
  const s = samples.slice().sort((a, b) => a.at - b.at);
  const out: ChartSeries = { accepted: [], delivered: [], rejected: [], bounced: [], depth: s.map((x) => ({ t: x.at, v: x.inQueue })) };
  for (let i = 1; i < s.length; i++) {
    for (const k of ["accepted", "delivered", "rejected", "bounced"] as const) out[k].push({ t: s[i].at, v: Math.max(0, s[i][k] - s[i - 1][k]) });
  }
  return out;
}

/** The queue depth from an outage's return until it drained (or now), with the pace in messages a minute. */
export function drainCurve(samples: Sample[], recoveredAt: number, drainedAt: number | undefined): { points: Point[]; perMinute: number | null } {
  const s = samples.filter((x) => x.at >= recoveredAt && (drainedAt === undefined || x.at <= drainedAt)).sort((a, b) => a.at - b.at);
  const points = s.map((x) => ({ t: x.at, v: x.inQueue }));
  if (s.length < 2) return { points, perMinute: null };
  const minutes = (s[s.length - 1].at - s[0].at) / 60_000;
  const drained = Math.max(0, (s[s.length - 1].delivered + s[s.length - 1].bounced) - (s[0].delivered + s[0].bounced));
  return { points, perMinute: minutes > 0 ? Math.round((drained / minutes) * 10) / 10 : null };
}

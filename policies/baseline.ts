/**
 * The learned-baseline detector: from a domain's traffic series (accepted and rejected
 * recipients per bucket, queue depth), the anomalies that mean something at a backup MX:
 * - traffic-surge     accepted far above its hour-of-week band while the primary is healthy
 *                     (a spam run aimed at MX 20, or senders who cannot reach the primary)
 * - traffic-silent    accepted far below its band, near nothing, where the domain usually
 *                     has volume (the MX record or the sender side broke)
 * - dictionary-attack rejected recipients far above their band
 * - queue-growth      the queue grew over the last hour faster than it usually does at this
 *                     hour; with the primary down, faster than all the mail usually accepted
 *                     in an hour (its usual outage profile: everything accepted stays queued)
 * An anomaly is raised when it holds for `holdoff` buckets in a row and cleared when it has
 * not held for `holdoff` buckets in a row (in between, it keeps its state). A floor (messages
 * per hour) keeps quiet domains quiet: the excess over the expected value must reach it, and a
 * domain must usually have that much to be called silent. Bands come from a BandSource
 * (./baseline-bands.ts: median and MAD per hour-of-week, with a cold start); a fixed threshold
 * and a seasonal EWMA plug in the same way for comparison (`mxspool baseline replay`).
 * Pure: series in, verdicts out. The server (src/continuity/baseline-watch.ts) and the replay
 * (`replay` below, `mxspool baseline replay`) call the same `assess`.
 */
import { DAY, floorPerBucket, HOUR, seasonalBand, type Band, type BandOptions, type Profile } from "./baseline-bands.js";

export type BaselineKind = "traffic-surge" | "traffic-silent" | "dictionary-attack" | "queue-growth";
export const BASELINE_KINDS: readonly BaselineKind[] = ["traffic-surge", "traffic-silent", "dictionary-attack", "queue-growth"];
export type Metric = "accepted" | "rejected" | "growth";

/** A domain's buckets from `start` (ms, bucket-aligned); index i covers start + i × bucketMs. */
export interface DomainSeries {
  domain: string;
  start: number;
  bucketMs: number;
  accepted: number[];
  rejected?: number[];
  /** Queue depth at the end of each bucket. */
  queued?: number[];
}
export interface BaselineOptions extends BandOptions {
  /** Buckets an anomaly must last before it is raised (and be absent before it clears). */
  holdoff: number;
}
/** Silent means at most this share of the expected traffic (a holiday still has some). */
export const SILENT_SHARE = 0.05;

/** The band of a metric at bucket i; implementations may remember what they computed. */
export type BandSource = (metric: Metric, i: number) => Band | null;

const growthOf = new WeakMap<number[], number[]>();
/** The series of a metric (growth: queue depth now minus an hour before; computed once per array). */
export function metricValues(s: DomainSeries, metric: Metric): number[] | undefined {
  if (metric !== "growth") return s[metric];
  const q = s.queued;
  if (!q) return undefined;
  let g = growthOf.get(q);
  if (!g) {
    const back = Math.max(1, Math.round(HOUR / s.bucketMs));
    growthOf.set(q, (g = q.map((x, i) => x - q[Math.max(0, i - back)]!)));
  }
  return g;
}

/**
 * Median/MAD bands (the server's), cached: once a day is seen, a band depends only on the
 * bucket's hour (it reads earlier hours), so it is computed once per hour.
 */
export function seasonalBands(s: DomainSeries, o: BandOptions): BandSource {
  const cache = new Map<string, Band>();
  const perDay = Math.round(DAY / s.bucketMs);
  return (metric, i) => {
    const v = metricValues(s, metric);
    if (!v) return null;
    const hourStart = i - Math.floor(((s.start + i * s.bucketMs) % HOUR) / s.bucketMs);
    const key = hourStart >= perDay ? `${metric}:h${hourStart}` : `${metric}:${i}`;
    let b = cache.get(key);
    if (!b) cache.set(key, (b = seasonalBand(v, i, s.start, s.bucketMs, o)));
    return b;
  };
}

/** Fixed thresholds per bucket on accepted and rejected, for comparison (no low side, no queue). */
export function thresholdBands(accepted: number, rejected = accepted): BandSource {
  return (metric) => (metric === "growth" ? null : { expected: 0, low: -Infinity, high: metric === "accepted" ? accepted : rejected, profile: "threshold" });
}

export interface Verdict {
  kind: BaselineKind;
  domain: string;
  /** raise: held `holdoff` buckets in a row; clear: absent as long; keep: in between. */
  state: "raise" | "clear" | "keep";
  at: number;          // start of the bucket judged (ms)
  actual: number;
  expected: number;
  low: number;
  high: number;
  profile: Profile;
  summary: string;
}
interface Rule { kind: BaselineKind; metric: Metric; side: "high" | "low" }
const RULES: Rule[] = [
  { kind: "traffic-surge", metric: "accepted", side: "high" },
  { kind: "traffic-silent", metric: "accepted", side: "low" },
  { kind: "dictionary-attack", metric: "rejected", side: "high" },
  { kind: "queue-growth", metric: "growth", side: "high" },
];

const r1 = (x: number) => Math.round(x * 10) / 10;

/**
 * The verdict of each kind at bucket i (the last complete one). `primaryUp` false: a surge is
 * the outage's own traffic (never raised), and queue growth is judged against the outage profile.
 */
export function assess(s: DomainSeries, i: number, bands: BandSource, o: BaselineOptions, primaryUp = true): Verdict[] {
  const floor = floorPerBucket(o.floor, s.bucketMs);
  const perHour = Math.max(1, Math.round(HOUR / s.bucketMs));
  const out: Verdict[] = [];
  for (const r of RULES) {
    const values = metricValues(s, r.metric);
    if (!values || i < 0 || i >= values.length || !bands(r.metric, i)) continue;
    const band = (j: number): Band | null => {
      const b = bands(r.metric, j);
      if (!b || r.metric !== "growth" || primaryUp) return b;
      // the primary is down: the queue may grow by what is usually accepted in an hour
      let high = 0;
      for (let k = Math.max(0, j - perHour + 1); k <= j; k++) high += bands("accepted", k)?.high ?? 0;
      return { ...b, high };
    };
    const holds = (j: number): boolean => {
      const b = band(j);
      const x = values[j]!;
      if (!b) return false;
      if (r.kind === "traffic-surge" && !primaryUp) return false;
      if (r.side === "high") return x > b.high && x - b.expected >= (r.metric === "growth" ? o.floor : floor);
      return (b.profile === "hour-of-week" || b.profile === "ewma") && x <= b.low && b.expected >= floor && x <= SILENT_SHARE * b.expected;
    };
    let held = 0;
    let absent = 0;
    for (let j = Math.max(0, i - o.holdoff + 1); j <= i; j++) (holds(j) ? held++ : absent++);
    const state = held === o.holdoff ? "raise" : absent === o.holdoff ? "clear" : "keep";
    const b = band(i)!;
    const x = values[i]!;
    const what = { "traffic-surge": `${s.domain}: ${r1(x)} accepted per bucket at the backup MX while the primary is healthy (usually ${r1(b.expected)}, band up to ${r1(b.high)})`,
      "traffic-silent": `${s.domain}: silent at the backup MX (${r1(x)} accepted per bucket, usually ${r1(b.expected)})`,
      "dictionary-attack": `${s.domain}: ${r1(x)} rejected recipients per bucket (usually ${r1(b.expected)}, band up to ${r1(b.high)}): a dictionary attack?`,
      "queue-growth": `${s.domain}: the queue grew by ${r1(x)} in the last hour (usually ${r1(b.expected)}, at most ${r1(b.high)}${primaryUp ? "" : " with the primary down"})` }[r.kind];
    const summary = state === "clear" ? `${s.domain}: ${r.metric} back within its band (${r1(x)}, usually ${r1(b.expected)})` : what;
    out.push({ kind: r.kind, domain: s.domain, state, at: s.start + i * s.bucketMs, actual: x, expected: b.expected, low: b.low, high: b.high, profile: b.profile, summary });
  }
  return out;
}

export interface ReplayAlert extends Omit<Verdict, "state"> { type: "raised" | "cleared" }

/** Walks the series bucket by bucket like the server does, and returns each raise and clear. */
export function replay(s: DomainSeries, bands: BandSource, o: BaselineOptions): ReplayAlert[] {
  const open = new Set<BaselineKind>();
  const out: ReplayAlert[] = [];
  for (let i = 0; i < s.accepted.length; i++) {
    for (const v of assess(s, i, bands, o)) {
      const { state, ...rest } = v;
      if (state === "raise" && !open.has(v.kind)) { open.add(v.kind); out.push({ type: "raised", ...rest }); }
      if (state === "clear" && open.delete(v.kind)) out.push({ type: "cleared", ...rest });
    }
  }
  return out;
}

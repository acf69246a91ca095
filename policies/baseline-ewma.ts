/**
 * The alternative the median/MAD bands were chosen against (README "Learned baselines"): a
 * seasonal EWMA, i.e. Holt-Winters' additive seasonal term without level or trend, one slot
 * per hour of the week. Every bucket of the slot moves its expected value by `alpha` towards
 * what was seen and its mean absolute deviation likewise; the band is expected ± width × 1.25
 * × deviation (mean absolute deviation to σ). It learns what it sees, outliers included:
 * a spam run widens the band for weeks, a silent day pulls the next week's expectation down.
 * Until `weeks` weeks are seen it answers like the median/MAD source (same cold start), so the
 * two differ only once learned. Pure; computed in one pass when created (bucket i's band
 * depends only on buckets before it).
 */
import { HOUR, WEEK, type Band, type BandOptions } from "./baseline-bands.js";
import { metricValues, seasonalBands, type BandSource, type DomainSeries, type Metric } from "./baseline.js";

/** Weight of one bucket in its slot's EWMA (12 buckets an hour: about two weeks of memory). */
export const EWMA_ALPHA = 0.05;
const MEAN_ABS_SIGMA = 1.2533;

export function ewmaBands(s: DomainSeries, o: BandOptions, alpha = EWMA_ALPHA): BandSource {
  const perWeek = Math.round(WEEK / s.bucketMs);
  const computed = new Map<Metric, Band[] | null>();
  const cold = seasonalBands(s, o);
  const build = (metric: Metric): Band[] | null => {
    const v = metricValues(s, metric);
    if (!v) return null;
    const level = new Map<number, number>();
    const dev = new Map<number, number>();
    const out: Band[] = [];
    for (let i = 0; i < v.length; i++) {
      const slot = Math.floor(((s.start + i * s.bucketMs) % WEEK) / HOUR);
      const m = level.get(slot);
      if (i < o.weeks * perWeek || m === undefined) out.push(cold(metric, i)!);
      else {
        const sigma = Math.max(MEAN_ABS_SIGMA * (dev.get(slot) ?? 0), Math.sqrt(Math.max(m, 1)));
        out.push({ expected: m, low: Math.max(0, m - o.width * sigma), high: m + o.width * sigma, profile: "ewma" });
      }
      const x = v[i]!;
      if (m === undefined) { level.set(slot, x); dev.set(slot, 0); continue; }
      dev.set(slot, (1 - alpha) * dev.get(slot)! + alpha * Math.abs(x - m));
      level.set(slot, (1 - alpha) * m + alpha * x);
    }
    return out;
  };
  return (metric, i) => {
    if (!computed.has(metric)) computed.set(metric, build(metric));
    return computed.get(metric)?.[i] ?? null;
  };
}

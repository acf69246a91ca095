/**
 * The learned baseline band on a domain's accepted-mail chart (issue 18): the server's own
 * detector bands (policies/baseline.ts seasonalBands, median/MAD per hour-of-week, cold start
 * hour-of-day then fixed) over the chart's window, from the series read the way BaselineWatch
 * reads it (readDomainSeries), so the chart shows what the alerts were judged against. The
 * detector's "accepted" is accepted + deferred to a healthy primary (rejected.backup).
 *
 * Cost: the band of a bucket reads `weeks` weeks back, so a render reads the window plus
 * weeks × 7 days + 1 day of chunks (a hash of 12 buckets each) in ONE pipeline: 7d at 5-minute
 * buckets and 4 weeks = 864 HGETALLs, 24h = 696, 1h = 685. The result is cached per domain,
 * window and bucket (a band depends only on earlier buckets), so another render within the
 * same bucket reads nothing. Pure parts (domainBand, bandNote) are tested from tables.
 */
import { DAY, WEEK, type BandOptions, type Profile } from "../../policies/baseline-bands.js";
import { seasonalBands, type DomainSeries } from "../../policies/baseline.js";
import { readDomainSeries } from "../continuity/baseline-watch.js";
import type { TrafficSeries } from "../observability/traffic-series.js";
import type { BandPoint } from "./svg-chart.js";

export interface DomainBand {
  /** Per chart step (t = the step's end, like the chart's lines): the band added up over its buckets. Empty in a fixed cold start. */
  points: BandPoint[];
  /** The profiles in force over the window, in order (a cold start moves from one to the next). */
  profiles: { profile: Profile; from: number }[];
  /** In a fixed cold start: the band's top per bucket (alerts only above it). */
  fixedHigh?: number;
  bucketMs: number;
}

/**
 * The band of `s`'s accepted series over [from, to) at `step` (a multiple of the bucket): each
 * step's expected, low and high are the sums of its buckets' (a step's count is a sum of
 * buckets). A step is drawn only when each of its buckets has an hour-of-week or hour-of-day band.
 */
export function domainBand(s: DomainSeries, o: BandOptions, from: number, to: number, step: number): DomainBand {
  const bands = seasonalBands(s, o);
  const per = Math.max(1, Math.round(step / s.bucketMs));
  const points: BandPoint[] = [];
  const profiles: DomainBand["profiles"] = [];
  let fixedHigh: number | undefined;
  for (let t0 = Math.floor(from / step) * step; t0 < to; t0 += step) {
    let lo = 0, hi = 0, mid = 0, ok = true;
    for (let k = 0; k < per; k++) {
      const t = t0 + k * s.bucketMs;
      const i = Math.round((t - s.start) / s.bucketMs);
      const b = i >= 0 && i < s.accepted.length ? bands("accepted", i) : null;
      if (!b) { ok = false; continue; }
      if (profiles[profiles.length - 1]?.profile !== b.profile) profiles.push({ profile: b.profile, from: t });
      if (b.profile === "fixed") { fixedHigh = b.high; ok = false; continue; }
      lo += b.low; hi += b.high; mid += b.expected;
    }
    if (ok) points.push({ t: t0 + step, lo: r1(lo), hi: r1(hi), mid: r1(mid) });
  }
  return { points, profiles, fixedHigh, bucketMs: s.bucketMs };
}

const r1 = (x: number) => Math.round(x * 10) / 10;

const PROFILE_TEXT: Record<Profile, string> = {
  "hour-of-week": "hour-of-week (the same hour of the week in the last weeks: median and MAD)",
  "hour-of-day": "hour-of-day (cold start: the same hour of the last days, a wider band)",
  fixed: "fixed (cold start, less than a day of traffic)",
  threshold: "threshold",
  ewma: "EWMA",
};

/** The sentence under the chart: which profile is in force (and since when), or why there is no band. */
export function bandNote(b: DomainBand | null, weeks: number, at: (t: number) => string): string {
  if (!b || !b.profiles.length) return "No learned baseline yet: no traffic recorded for this domain.";
  const now = b.profiles[b.profiles.length - 1]!;
  const before = b.profiles.slice(0, -1).map((p) => p.profile).join(", then ");
  const since = b.profiles.length > 1 ? ` (since ${at(now.from)}; before: ${before})` : "";
  const fixed = now.profile === "fixed"
    ? ` No band is drawn: the detector only alerts above ${r1(b.fixedHigh ?? 0)} accepted per ${b.bucketMs / 60_000}-minute bucket until it has a day of traffic.`
    : ` Shaded: the usual range of accepted mail (with recipients deferred to a healthy primary); dashed: the expected value. The hour-of-week profile needs ${weeks} weeks of traffic.`;
  return `Baseline profile in force: ${PROFILE_TEXT[now.profile]}${since}.${fixed}`;
}

/** Computed bands, one render per domain, window and bucket (the oldest dropped past LIMIT). */
const cache = new Map<string, DomainBand | null>();
const LIMIT = 64;

/** The band of `domain` over [from, to) at `step`, read through the traffic series (see the header for its cost). */
export async function readDomainBand(traffic: TrafficSeries, o: BandOptions, domain: string, from: number, to: number, step: number): Promise<DomainBand | null> {
  const bucketMs = traffic.options.bucketMs;
  const key = `${domain}|${o.weeks}|${o.width}|${o.floor}|${step}|${Math.floor(from / bucketMs)}|${Math.floor(to / bucketMs)}`;
  if (cache.has(key)) return cache.get(key)!;
  const start = Math.floor((from - o.weeks * WEEK - DAY) / bucketMs) * bucketMs;
  const s = await readDomainSeries(traffic, domain, start, Math.ceil(to / bucketMs) * bucketMs);
  const band = s ? domainBand(s, o, from, to, step) : null;
  cache.set(key, band);
  if (cache.size > LIMIT) cache.delete(cache.keys().next().value!);
  return band;
}

/**
 * The learned-baseline detector (policies/baseline.ts, policies/baseline-bands.ts) from tables:
 * which profile is in force (cold start), the floor, the holdoff, a holiday, a slow ramp, high
 * and low anomalies apart, queue growth against the outage profile. Series are built here from
 * a rate per hour of the week with seeded Poisson noise, in 15-minute buckets.
 */
import { describe, it, expect } from "vitest";
import { assess, replay, seasonalBands, thresholdBands, type BaselineOptions, type DomainSeries } from "../../../policies/baseline.js";
import { DAY, HOUR, WEEK, robust, seasonalBand } from "../../../policies/baseline-bands.js";
import { prng } from "../../../policies/prng.js";

const BUCKET = 15 * 60_000;
const MONDAY = Date.UTC(2026, 0, 5);
const O: BaselineOptions = { weeks: 4, width: 4, floor: 60, holdoff: 3 };
const PER_WEEK = WEEK / BUCKET;

/** Working-day traffic: `peak` per bucket 9–17, a tenth of it at night and on weekends. */
const office = (peak: number) => (at: number) => {
  const dow = Math.floor((at - MONDAY) / DAY) % 7;
  const h = (at % DAY) / HOUR;
  return dow < 5 && h >= 9 && h < 17 ? peak : peak / 10;
};

function series(weeks: number, rate: (at: number, i: number) => number, extra: Partial<DomainSeries> = {}, seed = 3): DomainSeries {
  const rnd = prng(seed);
  const poisson = (l: number) => { let k = 0; for (let p = rnd(), e = Math.exp(-l); p > e; p *= rnd()) k++; return k; };
  const n = Math.round(weeks * PER_WEEK);
  const accepted = Array.from({ length: n }, (_, i) => { const r = rate(MONDAY + i * BUCKET, i); return r > 200 ? Math.round(r) : poisson(r); });
  return { domain: "d.test", start: MONDAY, bucketMs: BUCKET, accepted, ...extra };
}
/** Index of the bucket at `week` weeks + `day` days + `hour` hours from the start. */
const at = (week: number, day: number, hour: number) => Math.round((week * WEEK + day * DAY + hour * HOUR) / BUCKET);
const raised = (s: DomainSeries, o = O) => replay(s, seasonalBands(s, o), o).filter((a) => a.type === "raised");

describe("robust statistics", () => {
  it.each([
    { xs: [10, 10, 10, 10], m: 10, sigma: Math.sqrt(10) },     // no spread: √m (Poisson) at least
    { xs: [10, 12, 8, 11, 1000], m: 11, sigma: 1.4826 * 1 > Math.sqrt(11) ? 1.4826 : Math.sqrt(11) },
    { xs: [0, 0, 0], m: 0, sigma: 1 },
    { xs: [100, 140, 60, 100], m: 100, sigma: 1.4826 * 20 },   // MAD 20
  ])("median and σ of $xs", ({ xs, m, sigma }) => {
    const r = robust(xs);
    expect(r.m).toBe(m);
    expect(r.sigma).toBeCloseTo(sigma, 6);
  });
});

describe("cold start: the profile in force", () => {
  const s = series(5, office(40));
  it.each([
    { i: at(0, 0, 10), profile: "fixed" },           // less than a day
    { i: at(0, 3, 10), profile: "hour-of-day" },     // three days
    { i: at(3, 6, 10), profile: "hour-of-day" },     // fewer than 4 weeks
    { i: at(4, 0, 10), profile: "hour-of-week" },    // 4 full weeks
  ])("bucket $i: $profile", ({ i, profile }) => {
    expect(seasonalBand(s.accepted, i, s.start, s.bucketMs, O).profile).toBe(profile);
    expect(assess(s, i, seasonalBands(s, O), O).every((v) => v.profile === profile)).toBe(true);
  });
  it("the fixed band is wide (0 … 4 × max(median so far, floor))", () => {
    const b = seasonalBand(s.accepted, at(0, 0, 10), s.start, s.bucketMs, O);
    expect(b.low).toBe(0);
    expect(b.high).toBeGreaterThanOrEqual(4 * 15); // floor 60/h = 15 per 15-minute bucket
  });
  it("a silent domain is not called silent before its hour-of-week profile (weekends look silent to a daily profile)", () => {
    const silentDay = series(2, (t, i) => (i >= at(1, 1, 0) && i < at(1, 2, 0) ? 0 : office(40)(t)));
    expect(raised(silentDay).filter((a) => a.kind === "traffic-silent")).toEqual([]);
  });
  it("the hour-of-day band raises a surge three times its width above the usual", () => {
    const s2 = series(2, (t, i) => office(40)(t) + (i >= at(1, 1, 2) && i < at(1, 1, 4) ? 200 : 0));
    expect(raised(s2).map((a) => [a.kind, a.profile])).toContainEqual(["traffic-surge", "hour-of-day"]);
  });
});

describe("the floor keeps quiet domains quiet", () => {
  it.each([
    { name: "a quiet domain's burst below the floor", usual: 0.5, burst: 8, kind: "traffic-surge", raised: 0 },
    { name: "the same domain's burst above the floor", usual: 0.5, burst: 60, kind: "traffic-surge", raised: 1 },
    { name: "a domain usually below the floor going silent", usual: 4, burst: -1, kind: "traffic-silent", raised: 0 },
    { name: "a domain usually above the floor going silent", usual: 40, burst: -1, kind: "traffic-silent", raised: 1 },
  ])("$name: $raised alert(s)", ({ usual, burst, kind, raised: n }) => {
    const window = (i: number) => i >= at(5, 1, 10) && i < at(5, 1, 13);
    const s = series(6, (_t, i) => (window(i) ? (burst < 0 ? 0 : usual + burst) : usual));
    expect(raised(s).filter((a) => a.kind === kind)).toHaveLength(n);
  });
});

describe("the holdoff: an anomaly must last K buckets", () => {
  it.each([
    { buckets: 1, holdoff: 3, raised: 0 },
    { buckets: 2, holdoff: 3, raised: 0 },
    { buckets: 3, holdoff: 3, raised: 1 },
    { buckets: 12, holdoff: 3, raised: 1 },  // one alert for one long anomaly
    { buckets: 3, holdoff: 4, raised: 0 },
    { buckets: 1, holdoff: 1, raised: 1 },
  ])("$buckets bucket(s) out of band, holdoff $holdoff: $raised alert(s)", ({ buckets, holdoff, raised: n }) => {
    const start = at(5, 2, 3);
    const s = series(6, (t, i) => office(40)(t) + (i >= start && i < start + buckets ? 300 : 0));
    const alerts = raised(s, { ...O, holdoff }).filter((a) => a.kind === "traffic-surge");
    expect(alerts).toHaveLength(n);
    if (n) expect(alerts[0]!.at).toBe(s.start + (start + holdoff - 1) * BUCKET); // raised at the K-th bucket
  });
  it("a raised anomaly clears after K buckets back in band, not at the first", () => {
    const start = at(5, 2, 3);
    const flicker = new Set([start, start + 1, start + 2, start + 4, start + 6]); // in band at +3 and +5 only
    const s = series(6, (t, i) => office(40)(t) + (flicker.has(i) ? 300 : 0));
    const all = replay(s, seasonalBands(s, O), O).filter((a) => a.kind === "traffic-surge");
    expect(all.map((a) => [a.type, (a.at - s.start) / BUCKET - start])).toEqual([["raised", 2], ["cleared", 9]]);
  });
});

describe("seasonality: what is usual raises nothing", () => {
  it.each([
    { name: "office weeks", rate: office(40) },
    { name: "a Monday-morning surge every week (15/s on a 10/s week: the fixed threshold's false alarm)", rate: (t: number) => office(40)(t) * ((t - MONDAY) % WEEK < DAY && (t % DAY) / HOUR >= 9 && (t % DAY) / HOUR < 11 ? 1.5 : 1) },
    { name: "a slow ramp (+3% a week)", rate: (t: number) => office(40)(t) * (1 + 0.03 * ((t - MONDAY) / WEEK)) },
    { name: "a holiday (a Wednesday with Sunday's traffic)", rate: (t: number, i: number) => (i >= at(6, 2, 0) && i < at(6, 3, 0) ? 4 : office(40)(t)) },
    { name: "a holiday in the history (last week's Wednesday)", rate: (t: number, i: number) => (i >= at(5, 2, 0) && i < at(5, 3, 0) ? 4 : office(40)(t)) },
  ])("$name: no alert after the warm-up", ({ rate }) => {
    const s = series(8, rate);
    expect(raised(s).filter((a) => a.at >= s.start + 4 * WEEK)).toEqual([]);
  });
  it("a fixed threshold just above a normal day's peak raises every Monday morning", () => {
    const s = series(8, (t) => office(40)(t) * ((t - MONDAY) % WEEK < DAY && (t % DAY) / HOUR >= 9 && (t % DAY) / HOUR < 11 ? 1.5 : 1));
    const fixed = replay(s, thresholdBands(55), O).filter((a) => a.type === "raised");
    expect(fixed.length).toBeGreaterThanOrEqual(7);
  });
});

describe("high and low anomalies apart, named for a backup MX", () => {
  const anomaly = (i: number) => i >= at(5, 1, 10) && i < at(5, 1, 12);
  it.each([
    { name: "a spam run at MX 20", rate: (t: number, i: number) => office(40)(t) + (anomaly(i) ? 120 : 0), kinds: ["traffic-surge"] },
    { name: "a silent domain", rate: (t: number, i: number) => (anomaly(i) ? 0 : office(40)(t)), kinds: ["traffic-silent"] },
  ])("$name: $kinds", ({ rate, kinds }) => {
    expect(raised(series(6, rate)).map((a) => a.kind)).toEqual(kinds);
  });
  it("a dictionary attack: rejected recipients above their band, accepted as usual", () => {
    const base = series(6, office(40));
    const rejected = series(6, (t, i) => office(4)(t) + (anomaly(i) ? 80 : 0), {}, 9).accepted;
    expect(raised({ ...base, rejected }).map((a) => a.kind)).toEqual(["dictionary-attack"]);
  });
  it("a surge while the primary is down is the outage's own traffic: not raised", () => {
    const s = series(6, (t, i) => office(40)(t) + (anomaly(i) ? 120 : 0));
    const i = at(5, 1, 11);
    expect(assess(s, i, seasonalBands(s, O), O, true).find((v) => v.kind === "traffic-surge")!.state).toBe("raise");
    expect(assess(s, i, seasonalBands(s, O), O, false).find((v) => v.kind === "traffic-surge")!.state).toBe("clear");
  });
});

describe("queue growth against its usual profile", () => {
  const queue = (perBucket: (i: number) => number) => {
    const base = series(6, office(40));
    let depth = 0;
    return { ...base, queued: base.accepted.map((_, i) => (depth = Math.max(0, depth + perBucket(i)))) };
  };
  const during = (i: number) => i >= at(5, 1, 9) && i < at(5, 1, 13);
  it.each([
    { name: "a steady queue", grow: () => 0, primaryUp: true, state: "clear" },
    { name: "slow growth (+20 an hour, under the floor)", grow: (i: number) => (during(i) ? 5 : 0), primaryUp: true, state: "clear" },
    { name: "growth of +120 an hour while the primary is up", grow: (i: number) => (during(i) ? 30 : 0), primaryUp: true, state: "raise" },
    { name: "the same growth with the primary down (everything accepted stays: ~160 an hour)", grow: (i: number) => (during(i) ? 30 : 0), primaryUp: false, state: "clear" },
    { name: "growth of +800 an hour with the primary down (faster than the outage profile)", grow: (i: number) => (during(i) ? 200 : 0), primaryUp: false, state: "raise" },
  ])("$name: $state", ({ grow, primaryUp, state }) => {
    const s = queue(grow);
    const v = assess(s, at(5, 1, 12), seasonalBands(s, O), O, primaryUp).find((x) => x.kind === "queue-growth")!;
    expect(v.state).toBe(state);
  });
});

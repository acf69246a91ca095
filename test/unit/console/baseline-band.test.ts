/**
 * The learned band on a domain's chart, from tables: a series with weeks, days or hours of
 * history → the band points (the server's own seasonalBands, summed per chart step), the
 * profile said under the chart, and the SVG drawn from them (a band polygon and an expected
 * line, or none in a fixed cold start, which the note says). The band at a bucket is the one
 * the server's `assess` judged that bucket against.
 */
import { describe, expect, it } from "vitest";
import { bandNote, domainBand } from "../../../src/console/baseline-band.js";
import { renderChart } from "../../../src/console/svg-chart.js";
import { assess, seasonalBands, type DomainSeries } from "../../../policies/baseline.js";

const H = 3_600_000;
const D = 24 * H;
const BUCKET = 15 * 60_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0); // a Monday
const O = { weeks: 4, width: 4, floor: 20, holdoff: 3 };
/** Busy office hours on weekdays, quiet otherwise, with a little wobble (deterministic). */
const usual = (t: number, i: number) => { const h = (t % D) / H; const dow = Math.floor((t - T0) / D) % 7; return (dow < 5 && h >= 9 && h < 17 ? 30 : 3) + (i % 3); };
function series(days: number): DomainSeries {
  const n = Math.round((days * D) / BUCKET);
  return { domain: "x.test", start: T0, bucketMs: BUCKET, accepted: Array.from({ length: n }, (_, i) => usual(T0 + i * BUCKET, i)) };
}
const at = (t: number) => new Date(t).toISOString();

describe("domainBand → SVG", () => {
  it.each([
    // history (days), profile in force at the end, band drawn, what the note says
    [36, "hour-of-week", true, "hour-of-week"],
    [3, "hour-of-day", true, "hour-of-day (cold start"],
    [0.25, "fixed", false, "No band is drawn: the detector only alerts above 20 accepted per 15-minute bucket"],
  ] as const)("%d days of history: %s, band %s", (days, profile, drawn, said) => {
    const s = series(days);
    const to = s.start + s.accepted.length * BUCKET;
    const from = to - Math.min(D, to - T0);
    const b = domainBand(s, O, from, to, H);
    expect(b.profiles[b.profiles.length - 1]!.profile).toBe(profile);
    expect(b.points.length > 0).toBe(drawn);
    expect(bandNote(b, 4, at)).toContain(said);
    const svg = renderChart({ id: "c", title: "t", description: "d", from, to, series: [{ name: "accepted", points: [{ t: to, v: 1 }] }], band: b.points, marks: [{ t: to - H, label: "traffic-surge raised" }] });
    expect(svg.includes('<polygon class="band"')).toBe(drawn);
    expect(svg.includes('class="band-mid"')).toBe(drawn);
    expect(svg).toContain('<line class="mark"');
    if (drawn) {
      // a step is the sum of its 4 buckets; lo ≤ expected ≤ hi
      for (const p of b.points) expect(p.lo <= p.mid! && p.mid! <= p.hi).toBe(true);
      expect(b.points.at(-1)!.t).toBe(to);
    }
  });

  it("draws, per bucket, the band the server's detector judged the bucket against", () => {
    const s = series(36);
    const i = s.accepted.length - 1;
    const [v] = assess(s, i, seasonalBands(s, O), O);
    const b = domainBand(s, O, s.start + i * BUCKET, s.start + (i + 1) * BUCKET, BUCKET);
    expect(b.points).toEqual([{ t: s.start + (i + 1) * BUCKET, lo: Math.round(v!.low * 10) / 10, hi: Math.round(v!.high * 10) / 10, mid: Math.round(v!.expected * 10) / 10 }]);
    expect(v!.profile).toBe("hour-of-week");
  });

  it("says so when the domain has no traffic, and the profile change in a window that spans it", () => {
    expect(bandNote(null, 4, at)).toContain("no traffic recorded");
    const s = series(1.5);
    const b = domainBand(s, O, T0, T0 + 1.5 * D, H);
    expect(b.profiles.map((p) => p.profile)).toEqual(["fixed", "hour-of-day"]);
    expect(bandNote(b, 4, at)).toContain(`since ${at(T0 + D)}; before: fixed`);
    expect(b.points[0]!.t).toBe(T0 + D + H); // no band over the fixed first day
  });
});

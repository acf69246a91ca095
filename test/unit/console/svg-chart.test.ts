/**
 * The console's SVG renderer and the chart series: pure functions from tables — round axis
 * tops, time ticks, lines within the range, shaded outages clipped to it, the band hook, text
 * escaped, counters turned into per-interval counts, the drain curve and its pace.
 */
import { describe, expect, it } from "vitest";
import { niceMax, renderChart, timeTicks } from "../../../src/console/svg-chart.js";
import { chartSeries, drainCurve, type Sample } from "../../../src/console/samples.js";

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0); // a Monday

describe("niceMax", () => {
  it.each([[0, 1], [-3, 1], [3, 4], [4, 4], [7, 8], [9, 20], [101, 200], [1234, 2000], [0.3, 0.4]])("%d → %d", (max, top) => {
    expect(niceMax(max)).toBeCloseTo(top);
  });
});

describe("timeTicks", () => {
  it.each([
    [T0, T0 + 24 * H, ["00:00", "04:00", "08:00", "12:00", "16:00", "20:00", "00:00"]],
    [T0, T0 + 7 * 24 * H, ["Mon 5", "Tue 6", "Wed 7", "Thu 8", "Fri 9", "Sat 10", "Sun 11", "Mon 12"]],
    [T0 + 10 * 60_000, T0 + H, ["00:15", "00:30", "00:45", "01:00"]],
    [T0 + 30_000, T0 + 200_000, ["00:01", "00:02", "00:03"]],
  ])("%s..%s", (from, to, labels) => {
    expect(timeTicks(from, to).map((t) => t.label)).toEqual(labels);
  });
});

describe("renderChart", () => {
  const base = { id: "c", title: "Mail <per> hour", description: "a & b", from: T0, to: T0 + 4 * H };

  it("draws one polyline per series, inside the plot, with the points in time order", () => {
    const svg = renderChart({ ...base, series: [{ name: "accepted", points: [{ t: T0 + 2 * H, v: 20 }, { t: T0, v: 0 }, { t: T0 + 4 * H, v: 5 }] }, { name: "delivered", points: [] }] });
    const lines = [...svg.matchAll(/<polyline class="line series-(\d)" fill="none" points="([^"]+)"/g)];
    expect(lines).toHaveLength(1);
    const pts = lines[0][2].split(" ").map((p) => p.split(",").map(Number));
    expect(pts.map((p) => p[0])).toEqual([48, 378, 708]);
    expect(pts[0][1]).toBe(192); // v=0 on the axis (220 - 28)
    expect(pts[1][1]).toBe(12);  // v=20 is the top (niceMax(20) = 20): the plot's upper edge
  });

  it("labels the y axis in whole numbers for small counts (0..4 at least)", () => {
    const svg = renderChart({ ...base, series: [{ name: "in queue", points: [{ t: T0, v: 0 }, { t: T0 + H, v: 1 }] }] });
    expect([...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => m[1])).toEqual(["0", "1", "2", "3", "4"]);
  });

  it("escapes every text and labels the SVG for assistive technology", () => {
    const svg = renderChart({ ...base, series: [{ name: "<script>", points: [{ t: T0, v: 1 }] }] });
    expect(svg).toContain('role="img" aria-labelledby="c-title c-desc"');
    expect(svg).toContain("<title id=\"c-title\">Mail &lt;per&gt; hour</title><desc id=\"c-desc\">a &amp; b</desc>");
    expect(svg).not.toContain("<script>");
    expect(svg).toContain("&lt;script&gt;");
  });

  it("shades the periods that overlap the range, clipped to it, and skips the others", () => {
    const svg = renderChart({ ...base, series: [], shaded: [
      { from: T0 - 10 * H, to: T0 - 9 * H, label: "before" },
      { from: T0 - H, to: T0 + H, label: "overlaps the start" },
      { from: T0 + 3 * H, to: T0 + 9 * H, label: "runs past the end" },
    ] });
    const rects = [...svg.matchAll(/<rect class="shade" x="([\d.]+)" y="12" width="([\d.]+)"[^>]*><title>([^<]+)</g)];
    expect(rects.map((r) => r[3])).toEqual(["overlaps the start", "runs past the end"]);
    expect(Number(rects[0][1])).toBe(48);
    expect(Number(rects[1][1]) + Number(rects[1][2])).toBeCloseTo(708, 0);
    expect(svg).toContain("no samples yet");
  });

  it("draws the baseline band when one is given (the hook for the learned band)", () => {
    const band = [{ t: T0, lo: 1, hi: 3 }, { t: T0 + 4 * H, lo: 2, hi: 4 }];
    expect(renderChart({ ...base, series: [], band })).toMatch(/<polygon class="band" points="[^"]+"><title>usual range<\/title><\/polygon>/);
    expect(renderChart({ ...base, series: [] })).not.toContain("band");
  });
});

const sample = (at: number, inQueue: number, accepted: number, delivered: number, rejected = 0, bounced = 0): Sample => ({ at, inQueue, accepted, delivered, bounced, rejected });

describe("chartSeries", () => {
  it("turns cumulative counters into counts per interval (a counter going down counts as none) and keeps the depth", () => {
    const s = chartSeries([sample(T0 + 2 * H, 5, 12, 8, 3), sample(T0, 0, 0, 0), sample(T0 + H, 10, 10, 0, 1), sample(T0 + 3 * H, 5, 12, 7, 3)]);
    expect(s.depth.map((p) => p.v)).toEqual([0, 10, 5, 5]);
    expect(s.accepted).toEqual([{ t: T0 + H, v: 10 }, { t: T0 + 2 * H, v: 2 }, { t: T0 + 3 * H, v: 0 }]);
    expect(s.delivered.map((p) => p.v)).toEqual([0, 8, 0]);
    expect(s.rejected.map((p) => p.v)).toEqual([1, 2, 0]);
  });

  it("has no interval counts from fewer than two samples", () => {
    expect(chartSeries([sample(T0, 3, 3, 0)])).toEqual({ accepted: [], delivered: [], rejected: [], bounced: [], depth: [{ t: T0, v: 3 }] });
  });
});

describe("drainCurve", () => {
  it("keeps the samples from the return to the drain and gives the pace a minute", () => {
    const rows = [sample(T0 - 60_000, 100, 100, 0), sample(T0, 100, 100, 0), sample(T0 + 60_000, 40, 100, 50, 0, 10), sample(T0 + 120_000, 0, 100, 90, 0, 10), sample(T0 + 180_000, 0, 101, 91, 0, 10)];
    const c = drainCurve(rows, T0, T0 + 120_000);
    expect(c.points.map((p) => p.v)).toEqual([100, 40, 0]);
    expect(c.perMinute).toBe(50);
  });

  it("has no pace from one sample", () => {
    expect(drainCurve([sample(T0, 5, 5, 0)], T0, undefined)).toEqual({ points: [{ t: T0, v: 5 }], perMinute: null });
  });
});

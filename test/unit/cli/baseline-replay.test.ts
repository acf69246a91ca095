/**
 * The replay's input and scoring (src/cli/baseline-replay.ts) from tables: CSV lines to
 * series (header, missing buckets, the queue carried, bucket inferred or given), every bad
 * line refused naming it, the labels file, and what counts as caught or a false alarm.
 */
import { describe, it, expect } from "vitest";
import { CsvError, parseLabelsCsv, parseTrafficCsv, score, type Label } from "../../../src/cli/baseline-replay.js";
import type { ReplayAlert } from "../../../policies/baseline.js";

const T0 = Date.parse("2026-01-05T00:00:00Z");
const M5 = 5 * 60_000;

describe("traffic CSV to series", () => {
  it("one series per domain, missing buckets 0, the queue depth carried, the bucket the smallest gap", () => {
    const s = parseTrafficCsv([
      "timestamp,domain,accepted,rejected,queued",
      "2026-01-05T00:00:00Z,b.test,1,0,4",
      "2026-01-05T00:00:00Z,A.test,3,1,0",
      "2026-01-05T00:15:00Z,b.test,2,1,",
      String(T0 + M5) + ",b.test,5,0,6",
    ].join("\n"));
    expect(s.map((x) => x.domain)).toEqual(["a.test", "b.test"]);
    expect(s[1]).toEqual({ domain: "b.test", start: T0, bucketMs: M5, accepted: [1, 5, 0, 2], rejected: [0, 0, 0, 1], queued: [4, 6, 6, 6] });
    expect(s[0]!.rejected).toEqual([1]);
  });
  it("--bucket sets the bucket; without rejected or queued columns those series are absent", () => {
    const s = parseTrafficCsv("2026-01-05T00:00:00Z,a.test,3\n2026-01-05T00:30:00Z,a.test,4\n", 15 * 60_000);
    expect(s[0]).toEqual({ domain: "a.test", start: T0, bucketMs: 15 * 60_000, accepted: [3, 0, 4] });
  });
  it.each([
    ["2026-01-05T00:00:00Z,a.test", /^line 1: expected timestamp,domain,accepted\[,rejected\[,queued\]\], got 2 field/],
    ["2026-01-05T00:00:00Z,a.test,1,2,3,4", /^line 1: expected .* got 6 field/],
    ["yesterday,a.test,1", /^line 1: timestamp must be ISO 8601 or epoch milliseconds, got "yesterday"/],
    ["2026-01-05T00:00:00Z,a test,1", /^line 1: domain "a test" is not a domain name/],
    ["2026-01-05T00:00:00Z,a.test,-1", /^line 1: accepted must be a number ≥ 0, got "-1"/],
    ["2026-01-05T00:00:00Z,a.test,", /^line 1: accepted is empty/],
    ["2026-01-05T00:00:00Z,a.test,1,x", /^line 1: rejected must be a number ≥ 0, got "x"/],
    ["2026-01-05T00:00:00Z,a.test,1\n2026-01-05T00:05:00Z,a.test,1\n2026-01-05T00:07:00Z,a.test,1", /^line 3: .* is not on a 2-minute bucket boundary|^line 2: .* is not on a 2-minute/],
    ["2026-01-05T00:00:00Z,a.test,1\n2026-01-05T00:05:00Z,a.test,1\n2026-01-05T00:05:00Z,a.test,2", /^line 3: a second line for a\.test at 2026-01-05T00:05:00\.000Z/],
    ["2026-01-05T00:00:00Z,a.test,1\n2026-01-05T02:00:00Z,a.test,1", /^a\.test: buckets of 120 min; at most an hour/],
    ["timestamp,domain,accepted\n", /^no data lines/],
  ])("refuses %j", (text, message) => {
    expect(() => parseTrafficCsv(text)).toThrow(CsvError);
    expect(() => parseTrafficCsv(text)).toThrow(message);
  });
  it("a line off the given bucket's boundary names the line", () => {
    expect(() => parseTrafficCsv("2026-01-05T00:00:00Z,a.test,1\n2026-01-05T00:07:00Z,a.test,1\n", M5)).toThrow(/^line 2: 2026-01-05T00:07:00.000Z is not on a 5-minute bucket boundary/);
  });
});

describe("labels and scoring", () => {
  it("reads the labels file and refuses an unknown kind naming the line", () => {
    expect(parseLabelsCsv("kind,domain,start,end\ntraffic-surge,a.test,2026-01-05T01:00:00Z,2026-01-05T02:00:00Z\n"))
      .toEqual([{ kind: "traffic-surge", domain: "a.test", start: T0 + 3_600_000, end: T0 + 7_200_000 }]);
    expect(() => parseLabelsCsv("kind,domain,start,end\nflood,a.test,2026-01-05T01:00:00Z,2026-01-05T02:00:00Z\n")).toThrow(/^labels line 2: expected kind,domain,start,end/);
  });
  const label: Label = { kind: "traffic-surge", domain: "a.test", start: T0, end: T0 + 12 * M5 };
  const alert = (kind: Label["kind"], domain: string, at: number) => ({ type: "raised", kind, domain, at }) as ReplayAlert;
  it.each([
    { name: "raised at the holdoff's end", alerts: [alert("traffic-surge", "a.test", T0 + 2 * M5)], caught: 1, falseAlarms: 0 },
    { name: "raised a bucket after the holdoff", alerts: [alert("traffic-surge", "a.test", T0 + 4 * M5)], caught: 1, falseAlarms: 0 },
    { name: "raised too late (still during it)", alerts: [alert("traffic-surge", "a.test", T0 + 5 * M5)], caught: 0, falseAlarms: 0 },
    { name: "another kind during it", alerts: [alert("traffic-silent", "a.test", T0 + 2 * M5)], caught: 0, falseAlarms: 0 },
    { name: "another domain", alerts: [alert("traffic-surge", "b.test", T0 + 2 * M5)], caught: 0, falseAlarms: 1 },
    { name: "a day later", alerts: [alert("traffic-surge", "a.test", T0 + 86_400_000)], caught: 0, falseAlarms: 1 },
  ])("$name: caught $caught, false alarms $falseAlarms", ({ alerts, caught, falseAlarms }) => {
    const s = score(alerts, [label], 3, M5);
    expect([s.caught, s.falseAlarms]).toEqual([caught, falseAlarms]);
  });
  it("queue growth has an hour more to be caught (it is measured over an hour)", () => {
    const q: Label = { kind: "queue-growth", domain: "a.test", start: T0, end: T0 + 36 * M5 };
    expect(score([alert("queue-growth", "a.test", T0 + 14 * M5)], [q], 3, M5).caught).toBe(1);
    expect(score([alert("queue-growth", "a.test", T0 + 17 * M5)], [q], 3, M5).caught).toBe(0);
  });
});

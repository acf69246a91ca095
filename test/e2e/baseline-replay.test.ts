/**
 * The learned baselines replayed over eight synthetic weeks (seed 7: four of warm-up, four
 * evaluated, eight labelled anomalies: spam runs at MX 20, silent domains, dictionary
 * attacks, slow queue growth, and a holiday), through the real CLI as a user runs it:
 * `mxspool baseline generate` writes the CSV and the labels, `mxspool baseline replay` judges
 * them. The learned detector must catch every anomaly within its catch window (holdoff + 1
 * bucket; queue growth, measured over an hour, an hour more) with at most one false alarm per
 * evaluated week. Beside it, printed and compared: a fixed threshold tuned per domain to be
 * the highest that still catches the same spam runs and dictionary attacks (it cannot see
 * silence or a slow queue), and the seasonal EWMA the median/MAD bands were chosen against.
 * Counts are asserted for the learned detector only; nothing about time. A bad CSV line: exit
 * 2 naming the line.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replay, thresholdBands, type BaselineOptions, type DomainSeries } from "../../policies/baseline.js";
import { WEEK } from "../../policies/baseline-bands.js";
import { baselineOptions, runReplay, type ReplaySummary } from "../../src/cli/baseline-command.js";
import { catchWindow, parseLabelsCsv, parseTrafficCsv, score, type Label } from "../../src/cli/baseline-replay.js";
import { SYNTH_START } from "../../src/cli/baseline-synth.js";
import { cliPath } from "../helpers/mxspool-process.js";

const run = promisify(execFile);
const WEEKS = 8;
const WARMUP = 4;
const SEED = 7;
const FROM = new Date(SYNTH_START + WARMUP * WEEK).toISOString();

/** The highest per-bucket threshold on `metric` that still raises each label of `kinds` in its catch window (Infinity without one). */
function tunedThreshold(s: DomainSeries, labels: Label[], kind: Label["kind"], o: BaselineOptions): number {
  const values = kind === "dictionary-attack" ? s.rejected! : s.accepted;
  let n = Infinity;
  for (const l of labels.filter((x) => x.domain === s.domain && x.kind === kind)) {
    const first = (l.start - s.start) / s.bucketMs;
    const last = (l.start + catchWindow(kind, o.holdoff, s.bucketMs) - s.start) / s.bucketMs;
    let best = -Infinity;
    for (let j = first; j + o.holdoff - 1 <= last; j++) best = Math.max(best, Math.min(...values.slice(j, j + o.holdoff)) - 0.5);
    n = Math.min(n, best);
  }
  return n;
}

describe("baseline replay over eight synthetic weeks", () => {
  let dir: string;
  let csv: string;
  let labelsFile: string;
  let series: DomainSeries[];
  let labels: Label[];
  const o = baselineOptions({});

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-baseline-"));
    csv = path.join(dir, "traffic.csv");
    labelsFile = path.join(dir, "labels.csv");
    const { stdout } = await run(process.execPath, [cliPath(), "baseline", "generate", "--weeks", String(WEEKS), "--warmup", String(WARMUP), "--seed", String(SEED), "--labels", labelsFile],
      { maxBuffer: 64 << 20 });
    fs.writeFileSync(csv, stdout);
    series = parseTrafficCsv(stdout);
    labels = parseLabelsCsv(fs.readFileSync(labelsFile, "utf8"));
  });
  afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  it("the generator labels two anomalies per evaluated week, each kind twice, and a holiday among ordinary weeks", () => {
    expect(series.map((s) => [s.domain, s.accepted.length])).toEqual([["example.test", WEEKS * 2016], ["quiet.test", WEEKS * 2016], ["shop.test", WEEKS * 2016]]);
    expect(labels).toHaveLength(2 * (WEEKS - WARMUP));
    for (const k of ["traffic-surge", "traffic-silent", "dictionary-attack", "queue-growth"]) expect(labels.filter((l) => l.kind === k)).toHaveLength(2);
  });

  it("the learned detector (the CLI) catches every anomaly within its window with at most one false alarm a week; a tuned fixed threshold raises more", async () => {
    // the fixed thresholds, per domain the highest that still catches its spam runs and dictionary attacks
    const fixed = series.map((s) => ({ s, n: tunedThreshold(s, labels, "traffic-surge", o), m: tunedThreshold(s, labels, "dictionary-attack", o) }));
    const fixedRaised = fixed.flatMap(({ s, n, m }) => replay(s, thresholdBands(n, m), o)).filter((a) => a.type === "raised" && a.at >= Date.parse(FROM));
    const fixedScore = score(fixedRaised, labels, o.holdoff, series[0]!.bucketMs, true);
    // one threshold for all domains (what the CLI's --threshold N,M takes): the lowest of those
    const finite = (xs: number[]) => Math.min(...xs.filter(Number.isFinite));
    const global = [finite(fixed.map((f) => f.n)), finite(fixed.map((f) => f.m))];

    const { stdout, stderr } = await run(process.execPath, [cliPath(), "baseline", "replay", csv, "--labels", labelsFile, "--from", FROM, "--threshold", global.join(",")], { maxBuffer: 16 << 20 });
    expect(stderr).toBe("");
    const lines = stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string });
    const summary = lines.at(-1) as unknown as ReplaySummary;
    const alertLines = lines.slice(0, -1);
    const ewma = runReplay(series, o, { method: "ewma", labels, from: Date.parse(FROM) }).summary;

    const weeks = WEEKS - WARMUP;
    const table = [
      ["detector", "alerts", "caught", "missed", "false alarms"],
      ["median/MAD per hour-of-week (CLI)", summary.alerts, summary.labels!.caught, summary.labels!.missed.length, summary.labels!.falseAlarms],
      ["seasonal EWMA (Holt-Winters season only)", ewma.alerts, ewma.labels!.caught, ewma.labels!.missed.length, ewma.labels!.falseAlarms],
      ["fixed threshold tuned per domain", fixedRaised.length, fixedScore.caught, fixedScore.missed.length, fixedScore.falseAlarms],
      [`fixed threshold ${global.join(",")} for all (CLI)`, summary.threshold!.alerts, summary.labels!.threshold!.caught, labels.length - summary.labels!.threshold!.caught, summary.labels!.threshold!.falseAlarms],
    ];
    process.stdout.write(`\nbaseline replay, seed ${SEED}, ${weeks} evaluated weeks after ${WARMUP} of warm-up, ${labels.length} labelled anomalies:\n`
      + table.map((r) => r.map((c, k) => String(c).padEnd(k ? 14 : 44)).join("")).join("\n")
      + `\nlearned detection delays (min): ${summary.labels!.delaysMin.join(", ")}; per-domain thresholds (accepted,rejected): ${fixed.map((f) => `${f.s.domain} ${f.n},${f.m}`).join("; ")}\n`);

    // the learned detector's bounds
    expect(summary.labels!.missed).toEqual([]);
    expect(summary.labels!.caught).toBe(labels.length);
    expect(summary.labels!.falseAlarms).toBeLessThanOrEqual(weeks);
    expect(alertLines).toHaveLength(summary.alerts);
    expect(summary.byProfile).toEqual({ "hour-of-week": summary.alerts });
    expect(summary.inForce).toEqual({ "example.test": "hour-of-week", "quiet.test": "hour-of-week", "shop.test": "hour-of-week" });
    // and the comparison it exists for: the fixed threshold cries wolf
    expect(fixedScore.falseAlarms).toBeGreaterThan(summary.labels!.falseAlarms);
  });

  it("a bad CSV line: exit 2 and a message naming it", async () => {
    const bad = path.join(dir, "bad.csv");
    fs.writeFileSync(bad, "timestamp,domain,accepted,rejected\n2026-01-05T00:00:00Z,a.test,3,0\n2026-01-05T00:05:00Z,a.test,lots,0\n");
    const err = await run(process.execPath, [cliPath(), "baseline", "replay", bad]).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(/line 3: accepted must be a number ≥ 0, got "lots"/);
  });
});

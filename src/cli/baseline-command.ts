/**
 * `mxspool baseline replay FILE [--threshold N[,M]] [--labels FILE] [--from T] [--method median|ewma]
 *    [--weeks N] [--holdoff K] [--floor F] [--width W] [--bucket 5m] [--svg OUT --domain D --week-of T]`
 * runs the server's detector (policies/baseline.ts `assess`, through `replay`) over a CSV of
 * traffic buckets and prints one JSON line per raised alert, then a summary line: alerts by kind
 * and by profile, the profile in force per domain at the end, with --threshold what a fixed
 * threshold (N accepted, M rejected per bucket; M defaults to N) raises on the same data with the
 * same holdoff, with --labels how many labelled anomalies each caught and how many false alarms
 * each raised. --from: alerts before T (a warm-up) are neither printed nor counted. --svg: a
 * picture of one week of one domain (./baseline-svg.ts).
 * `mxspool baseline generate [--weeks 8] [--warmup 4] [--seed 1] [--labels FILE]` prints
 * synthetic weeks (./baseline-synth.ts) as that CSV. Options default to the config's
 * `baselines:` section when --config is given, else to the schema's defaults.
 * Exit codes: 0 done, 2 usage or a bad CSV line (the message names the line).
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import { configSchema } from "../config/schema.js";
import { loadConfigFile } from "../config/load.js";
import { parseDuration } from "../config/duration.js";
import { replay, seasonalBands, thresholdBands, type BandSource, type BaselineOptions, type DomainSeries, type ReplayAlert } from "../../policies/baseline.js";
import { ewmaBands } from "../../policies/baseline-ewma.js";
import { CsvError, parseLabelsCsv, parseTrafficCsv, score, type Label } from "./baseline-replay.js";
import { labelsCsv, synthCsv, synthesise } from "./baseline-synth.js";
import { baselineSvg } from "./baseline-svg.js";

const USAGE = `usage: mxspool baseline replay FILE [--threshold N[,M]] [--labels FILE] [--from T] [--method median|ewma]
                               [--weeks N] [--holdoff K] [--floor F] [--width W] [--bucket 5m] [--config FILE]
                               [--svg OUT --domain D --week-of T]
       mxspool baseline generate [--weeks 8] [--warmup 4] [--seed 1] [--labels FILE]
`;
const options = {
  threshold: { type: "string" }, labels: { type: "string" }, from: { type: "string" }, method: { type: "string" },
  weeks: { type: "string" }, holdoff: { type: "string" }, floor: { type: "string" }, width: { type: "string" }, bucket: { type: "string" },
  config: { type: "string" }, svg: { type: "string" }, domain: { type: "string" }, "week-of": { type: "string" },
  warmup: { type: "string" }, seed: { type: "string" },
} as const;

class UsageError extends Error {}

function num(text: string | undefined, name: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number ≥ ${min}, got "${text}"`);
  return n;
}
function time(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`--${name} must be a date (ISO 8601), got "${text}"`);
  return t;
}

export interface ReplaySummary {
  type: "summary"; method: string; domains: number; buckets: number; bucketMinutes: number; from?: string;
  alerts: number; byKind: Record<string, number>; byProfile: Record<string, number>; inForce: Record<string, string>;
  threshold?: { accepted: number; rejected: number; alerts: number };
  labels?: { anomalies: number; caught: number; missed: Label[]; falseAlarms: number; delaysMin: number[]; threshold?: { caught: number; falseAlarms: number } };
}

const tally = (xs: string[]) => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

/** The replay itself (also used by the picture script): raised alerts and the summary. */
export function runReplay(series: DomainSeries[], o: BaselineOptions, opts: { method?: string; threshold?: [number, number]; labels?: Label[]; from?: number }):
    { alerts: ReplayAlert[]; summary: ReplaySummary } {
  const method = opts.method ?? "median";
  const bandsOf = (s: DomainSeries): BandSource => (method === "ewma" ? ewmaBands(s, o) : seasonalBands(s, o));
  const from = opts.from ?? -Infinity;
  const raised = (make: (s: DomainSeries) => BandSource) => series.flatMap((s) => replay(s, make(s), o)).filter((a) => a.type === "raised" && a.at >= from).sort((a, b) => a.at - b.at);
  const alerts = raised(bandsOf);
  const bucketMs = series[0]!.bucketMs;
  const inForce = Object.fromEntries(series.map((s) => { const b = bandsOf(s)("accepted", s.accepted.length - 1); return [s.domain, b?.profile ?? "none"]; }));
  const summary: ReplaySummary = {
    type: "summary", method: method === "ewma" ? "seasonal EWMA" : "median/MAD per hour-of-week", domains: series.length,
    buckets: series.reduce((n, s) => n + s.accepted.length, 0), bucketMinutes: bucketMs / 60_000,
    ...(opts.from !== undefined ? { from: new Date(opts.from).toISOString() } : {}),
    alerts: alerts.length, byKind: tally(alerts.map((a) => a.kind)), byProfile: tally(alerts.map((a) => a.profile)), inForce,
  };
  const fixed = opts.threshold ? raised(() => thresholdBands(...opts.threshold!)) : undefined;
  if (fixed) summary.threshold = { accepted: opts.threshold![0], rejected: opts.threshold![1], alerts: fixed.length };
  if (opts.labels) {
    const inRange = opts.labels.filter((l) => l.start >= from);
    summary.labels = score(alerts, inRange, o.holdoff, bucketMs);
    if (fixed) { const f = score(fixed, inRange, o.holdoff, bucketMs, true); summary.labels.threshold = { caught: f.caught, falseAlarms: f.falseAlarms }; }
  }
  return { alerts, summary };
}

export function baselineOptions(v: { config?: string; weeks?: string; holdoff?: string; floor?: string; width?: string }): BaselineOptions {
  const base = v.config ? loadConfigFile(v.config).baselines : configSchema.shape.baselines.parse({});
  return {
    weeks: num(v.weeks, "weeks", 1) ?? base.weeks, holdoff: num(v.holdoff, "holdoff", 1) ?? base.holdoff,
    floor: num(v.floor, "floor", 0) ?? base.floor, width: num(v.width, "width", 0.1) ?? base.width,
  };
}

export async function baselineCommand(args: string[]): Promise<number> {
  try {
    const { values: v, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    const [sub, file, ...rest] = positionals;
    if (sub === "generate" && !file) {
      const o = { weeks: num(v.weeks, "weeks", 1) ?? 8, warmup: num(v.warmup, "warmup", 0) ?? 4, seed: num(v.seed, "seed", 0) ?? 1 };
      const { rows, labels } = synthesise(o);
      if (v.labels) fs.writeFileSync(v.labels, labelsCsv(labels));
      process.stdout.write(synthCsv(rows));
      return 0;
    }
    if (sub !== "replay" || !file || rest.length) throw new UsageError("");
    const o = baselineOptions(v);
    const method = v.method ?? "median";
    if (method !== "median" && method !== "ewma") throw new UsageError(`--method must be median or ewma, got "${method}"`);
    let threshold: [number, number] | undefined;
    if (v.threshold !== undefined) {
      const [n, m] = v.threshold.split(",").map((x, k) => num(x, k ? "threshold (rejected)" : "threshold", 0)!);
      threshold = [n!, m ?? n!];
    }
    const bucket = v.bucket === undefined ? undefined : parseDuration(v.bucket) ?? undefined;
    if (v.bucket !== undefined && !bucket) throw new UsageError(`--bucket must be a duration like "5m", got "${v.bucket}"`);
    if (!fs.existsSync(file)) throw new UsageError(`${file}: no such file`);
    const series = parseTrafficCsv(fs.readFileSync(file, "utf8"), bucket);
    const labels = v.labels ? parseLabelsCsv(fs.readFileSync(v.labels, "utf8")) : undefined;
    const { alerts, summary } = runReplay(series, o, { method, threshold, labels, from: time(v.from, "from") });
    for (const { type: _raised, ...a } of alerts) process.stdout.write(JSON.stringify({ type: "alert", ...a, at: new Date(a.at).toISOString() }) + "\n");
    process.stdout.write(JSON.stringify(summary) + "\n");
    if (v.svg) {
      const s = series.find((x) => x.domain === (v.domain ?? series[0]!.domain));
      if (!s) throw new UsageError(`--domain ${v.domain}: not in ${file}`);
      const weekOf = time(v["week-of"], "week-of") ?? s.start + (s.accepted.length * s.bucketMs) - 7 * 86_400_000;
      fs.writeFileSync(v.svg, baselineSvg(s, method === "ewma" ? ewmaBands(s, o) : seasonalBands(s, o), o, weekOf, alerts.filter((a) => a.domain === s.domain)));
    }
    return 0;
  } catch (err) {
    if (err instanceof CsvError) { process.stderr.write(`mxspool baseline replay: ${err.message}\n`); return 2; }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(((err as Error).message ? `mxspool baseline: ${(err as Error).message}\n` : "") + USAGE);
      return 2;
    }
    throw err;
  }
}

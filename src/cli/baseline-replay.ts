/**
 * The replay's input and scoring, for `mxspool baseline replay`: a CSV of traffic buckets
 * (`timestamp,domain,accepted[,rejected[,queued]]`, a header line allowed, timestamps ISO 8601
 * or epoch milliseconds) becomes one series per domain (missing buckets count 0, the queue
 * keeps its last depth); a labels CSV (`kind,domain,start,end`, as `mxspool baseline generate
 * --labels` writes) scores the raised alerts: caught, missed, false alarms. A bad line is a
 * CsvError naming it. No I/O here: text in, series and scores out.
 */
import { BASELINE_KINDS, type BaselineKind, type DomainSeries, type ReplayAlert } from "../../policies/baseline.js";
import { HOUR } from "../../policies/baseline-bands.js";

export class CsvError extends Error {}

interface Row { at: number; domain: string; accepted: number; rejected?: number; queued?: number }

function timestamp(text: string): number {
  const t = /^\d{12,}$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isFinite(t) && /\d/.test(text) ? t : NaN;
}

function count(text: string | undefined, name: string, line: number): number | undefined {
  if (text === undefined || text === "") return undefined;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !Number.isFinite(n)) throw new CsvError(`line ${line}: ${name} must be a number ≥ 0, got "${text}"`);
  return n;
}

/** One series per domain; `bucketMs` when given, else the smallest gap between a domain's timestamps. */
export function parseTrafficCsv(text: string, bucketMs?: number): DomainSeries[] {
  const rows: Row[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (!raw.trim() || (idx === 0 && /^\s*timestamp\s*,/i.test(raw))) return;
    const f = raw.split(",").map((x) => x.trim());
    if (f.length < 3 || f.length > 5) throw new CsvError(`line ${line}: expected timestamp,domain,accepted[,rejected[,queued]], got ${f.length} field(s)`);
    const at = timestamp(f[0]!);
    if (Number.isNaN(at)) throw new CsvError(`line ${line}: timestamp must be ISO 8601 or epoch milliseconds, got "${f[0]}"`);
    if (!/^[A-Za-z0-9.-]+$/.test(f[1]!)) throw new CsvError(`line ${line}: domain "${f[1]}" is not a domain name`);
    rows.push({ at, domain: f[1]!.toLowerCase(), accepted: count(f[2], "accepted", line) ?? NaN, rejected: count(f[3], "rejected", line), queued: count(f[4], "queued", line) });
    if (Number.isNaN(rows.at(-1)!.accepted)) throw new CsvError(`line ${line}: accepted is empty`);
    (rows.at(-1) as Row & { line: number }).line = line;
  });
  if (!rows.length) throw new CsvError("no data lines");
  const byDomain = new Map<string, (Row & { line?: number })[]>();
  for (const r of rows) {
    const list = byDomain.get(r.domain);
    if (list) list.push(r); else byDomain.set(r.domain, [r]);
  }
  const out: DomainSeries[] = [];
  for (const [domain, list] of [...byDomain].sort(([a], [b]) => a.localeCompare(b))) {
    list.sort((a, b) => a.at - b.at);
    let step = bucketMs ?? Infinity;
    if (!bucketMs) for (let k = 1; k < list.length; k++) if (list[k]!.at > list[k - 1]!.at) step = Math.min(step, list[k]!.at - list[k - 1]!.at);
    if (!Number.isFinite(step)) step = 5 * 60_000;
    if (step > HOUR) throw new CsvError(`${domain}: buckets of ${step / 60_000} min; at most an hour (hour-of-week profiles)`);
    const start = list[0]!.at - (list[0]!.at % step);
    const n = Math.floor((list.at(-1)!.at - start) / step) + 1;
    const s: DomainSeries = { domain, start, bucketMs: step, accepted: new Array<number>(n).fill(0) };
    if (list.some((r) => r.rejected !== undefined)) s.rejected = new Array<number>(n).fill(0);
    const depth = list.some((r) => r.queued !== undefined) ? new Array<number | undefined>(n).fill(undefined) : undefined;
    const seen = new Set<number>();
    for (const r of list) {
      const i = Math.round((r.at - start) / step);
      if (r.at - start !== i * step) throw new CsvError(`line ${r.line}: ${new Date(r.at).toISOString()} is not on a ${step / 60_000}-minute bucket boundary`);
      if (seen.has(i)) throw new CsvError(`line ${r.line}: a second line for ${domain} at ${new Date(r.at).toISOString()}`);
      seen.add(i);
      s.accepted[i] = r.accepted;
      if (s.rejected) s.rejected[i] = r.rejected ?? 0;
      if (depth) depth[i] = r.queued;
    }
    if (depth) { let last = 0; s.queued = depth.map((d) => (last = d ?? last)); }
    out.push(s);
  }
  return out;
}

export interface Label { kind: BaselineKind; domain: string; start: number; end: number }

export function parseLabelsCsv(text: string): Label[] {
  return text.split(/\r?\n/).flatMap((raw, idx) => {
    if (!raw.trim() || (idx === 0 && raw.startsWith("kind,"))) return [];
    const [kind, domain, start, end] = raw.split(",").map((x) => x.trim());
    const l = { kind: kind as BaselineKind, domain: domain ?? "", start: timestamp(start ?? ""), end: timestamp(end ?? "") };
    if (!BASELINE_KINDS.includes(l.kind) || !l.domain || Number.isNaN(l.start) || Number.isNaN(l.end)) throw new CsvError(`labels line ${idx + 1}: expected kind,domain,start,end with a kind among ${BASELINE_KINDS.join(", ")}`);
    return [l];
  });
}

/**
 * How long after its start an anomaly may be raised and count as caught: the holdoff plus one
 * bucket; queue growth is measured over an hour, so an hour more.
 */
export const catchWindow = (kind: BaselineKind, holdoff: number, bucketMs: number) => (holdoff + 1) * bucketMs + (kind === "queue-growth" ? HOUR : 0);

export interface Score { anomalies: number; caught: number; missed: Label[]; falseAlarms: number; delaysMin: number[] }

/**
 * Caught: a raised alert of the label's kind and domain within its catch window. A false alarm:
 * a raised alert during no anomaly of its domain (the label's span plus the catch window);
 * `thresholdMode` matches any kind (a fixed threshold does not tell kinds apart).
 */
export function score(raised: ReplayAlert[], labels: Label[], holdoff: number, bucketMs: number, thresholdMode = false): Score {
  const delaysMin: number[] = [];
  const missed: Label[] = [];
  for (const l of labels) {
    const hit = raised.find((a) => a.domain === l.domain && (thresholdMode || a.kind === l.kind) && a.at >= l.start && a.at <= l.start + catchWindow(l.kind, holdoff, bucketMs));
    if (hit) delaysMin.push((hit.at + bucketMs - l.start) / 60_000); else missed.push(l);
  }
  const falseAlarms = raised.filter((a) => !labels.some((l) => l.domain === a.domain && a.at >= l.start && a.at <= l.end + catchWindow(l.kind, holdoff, bucketMs))).length;
  return { anomalies: labels.length, caught: labels.length - missed.length, missed, falseAlarms, delaysMin };
}

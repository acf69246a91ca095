/**
 * Synthetic weeks of traffic at a backup MX, for `mxspool baseline generate` and the replay
 * test: per domain and 5-minute bucket, accepted and rejected recipients and the queue depth.
 * Working days rise from 6:00, peak in the morning (Mondays 8–10 a surge of 1.6×), dip at
 * lunch, fade in the evening; nights and weekends stay low; one weekday of the first
 * evaluated week is a holiday (weekend traffic); volumes grow 2% a week; noise is Poisson-like
 * and over-dispersed (Poisson around a rate ±15%). After `warmup` weeks, each week gets labelled anomalies (the kinds of
 * policies/baseline.ts) at seeded times: a spam run at MX 20 (+1.5× the domain's peak for
 * 1–2 h), a silent domain (nothing for 4–6 h of a working day), a dictionary attack (+rejected
 * for an hour), slow queue growth (+6 per bucket for 3 h while the primary answers, then a
 * drain). The same seed gives the same bytes.
 */
import { prng } from "../../policies/prng.js";
import { DAY, HOUR, WEEK } from "../../policies/baseline-bands.js";
import type { BaselineKind } from "../../policies/baseline.js";

export const SYNTH_BUCKET = 5 * 60_000;
/** A Monday, 00:00 UTC. */
export const SYNTH_START = Date.UTC(2026, 0, 5);

export interface SynthRow { at: number; domain: string; accepted: number; rejected: number; queued: number }
export interface SynthLabel { kind: BaselineKind; domain: string; start: number; end: number }
export interface SynthOptions { weeks: number; warmup: number; seed: number }

/** Peak accepted per bucket of each domain at the backup MX (quiet.test stays under the floor). */
const DOMAINS: [string, number][] = [["example.test", 40], ["shop.test", 18], ["quiet.test", 1.5]];

/** The share of the peak expected at hour-of-day h (fractional) of a working day. */
function workday(h: number, monday: boolean): number {
  if (h < 6) return 0.06;
  if (h < 8) return 0.06 + ((h - 6) / 2) * 0.84;
  if (monday && h < 10) return 1.6 - (h - 8) * 0.25;
  if (h < 12) return 1;
  if (h < 13.5) return 0.6;
  if (h < 17) return 0.9;
  if (h < 20) return 0.9 - ((h - 17) / 3) * 0.75;
  return 0.1;
}
const weekend = (h: number) => (h >= 10 && h < 18 ? 0.14 : 0.07);

export function synthesise(o: SynthOptions): { rows: SynthRow[]; labels: SynthLabel[] } {
  const rnd = prng(o.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  // Poisson around a rate that itself wobbles by 15% (real traffic is over-dispersed)
  const count = (rate: number) => {
    const lambda = Math.max(0, rate * (1 + 0.15 * gauss()));
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gauss()));
    let k = 0;
    for (let p = rnd(), l = Math.exp(-lambda); p > l; p *= rnd()) k++;
    return k;
  };
  const perWeek = WEEK / SYNTH_BUCKET;
  const n = o.weeks * perWeek;
  const holiday = o.warmup < o.weeks ? SYNTH_START + o.warmup * WEEK + (2 + Math.floor(rnd() * 2)) * DAY : -1; // Wednesday or Thursday
  const labels: SynthLabel[] = [];
  const kinds: BaselineKind[] = ["traffic-surge", "traffic-silent", "dictionary-attack", "queue-growth"];
  for (let w = o.warmup; w < o.weeks; w++) {
    // two anomalies a week, each kind in turn, on one of the two busy domains, never on the holiday
    for (let a = 0; a < 2; a++) {
      const kind = kinds[((w - o.warmup) * 2 + a) % kinds.length]!;
      const domain = DOMAINS[Math.floor(rnd() * 2)]![0];
      const workdays = kind === "traffic-silent" || kind === "queue-growth";
      // the week's first anomaly Monday to Wednesday, the second from Thursday: no overlap; never on the holiday
      let day: number;
      do day = a === 0 ? Math.floor(rnd() * 3) : 3 + Math.floor(rnd() * (workdays ? 2 : 4)); while (SYNTH_START + w * WEEK + day * DAY === holiday);
      const hour = workdays ? 9 + Math.floor(rnd() * 5) : Math.floor(rnd() * 24);
      const start = SYNTH_START + w * WEEK + day * DAY + hour * HOUR + Math.floor(rnd() * 12) * SYNTH_BUCKET;
      const hours = { "traffic-surge": 1 + rnd(), "traffic-silent": 4 + 2 * rnd(), "dictionary-attack": 1, "queue-growth": 3 }[kind];
      labels.push({ kind, domain, start, end: start + Math.round((hours * HOUR) / SYNTH_BUCKET) * SYNTH_BUCKET });
    }
  }
  const rows: SynthRow[] = [];
  for (const [domain, peak] of DOMAINS) {
    let queued = 0;
    let drain = 0;
    for (let i = 0; i < n; i++) {
      const at = SYNTH_START + i * SYNTH_BUCKET;
      const dayStart = at - (at % DAY);
      const dow = Math.floor((at - SYNTH_START) / DAY) % 7; // 0 = Monday
      const h = (at - dayStart) / HOUR;
      const growth = 1 + 0.02 * ((at - SYNTH_START) / WEEK);
      const share = dow >= 5 || dayStart === holiday ? weekend(h) : workday(h, dow === 0);
      const lambda = peak * share * growth + 0.04 * peak; // the spam that always tries MX 20
      let accepted = count(lambda);
      let rejected = count(0.08 * lambda + 0.3);
      let depth = count(0.03 * lambda);
      for (const l of labels) {
        if (l.domain !== domain || at < l.start || at >= l.end) continue;
        if (l.kind === "traffic-surge") accepted += count(1.5 * peak);
        if (l.kind === "traffic-silent") { accepted = 0; rejected = 0; depth = 0; }
        if (l.kind === "dictionary-attack") rejected += count(0.6 * peak + 10);
        if (l.kind === "queue-growth") queued += 6;
      }
      // after slow growth, the stuck mail drains in an hour
      const growing = labels.some((l) => l.domain === domain && l.kind === "queue-growth" && at >= l.start && at < l.end);
      if (!growing && queued > 0) { drain = drain || Math.ceil(queued / 12); queued = Math.max(0, queued - drain); }
      if (queued === 0) drain = 0;
      rows.push({ at, domain, accepted, rejected, queued: queued + depth });
    }
  }
  rows.sort((a, b) => a.at - b.at || a.domain.localeCompare(b.domain));
  return { rows, labels };
}

export const synthCsv = (rows: SynthRow[]) =>
  "timestamp,domain,accepted,rejected,queued\n" + rows.map((r) => `${new Date(r.at).toISOString()},${r.domain},${r.accepted},${r.rejected},${r.queued}`).join("\n") + "\n";
export const labelsCsv = (labels: SynthLabel[]) =>
  "kind,domain,start,end\n" + labels.map((l) => `${l.kind},${l.domain},${new Date(l.start).toISOString()},${new Date(l.end).toISOString()}`).join("\n") + "\n";

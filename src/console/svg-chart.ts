/**
 * The console's charts as server-rendered SVG: no chart library, no script, readable with
 * JavaScript off and fast whatever the spool's size (the page gets a few hundred points,
 * never the messages). Pure: data in, markup out; every text escaped. A chart is lines over
 * time, with shaded periods (outages) behind them and, where one exists, a band (the learned
 * baseline: h/baseline's band plugs in through `band`). Colours come from CSS classes
 * (`series-0`…), so light and dark themes apply; the SVG carries a <title> and <desc> and the
 * page gives the same figures as a table for screen readers.
 */
import { escapeHtml } from "../webmail/pages/html.js";

export interface Point { t: number; v: number }
export interface Series { name: string; points: Point[] }
export interface Period { from: number; to: number; label: string }
/** A point of the band: its low and high edge and, where known, the expected value (drawn as a dashed line). */
export interface BandPoint { t: number; lo: number; hi: number; mid?: number }
/** An instant marked with a vertical line (an alert raised). */
export interface Mark { t: number; label: string }

export interface Chart {
  id: string;
  title: string;
  description: string;
  from: number;
  to: number;
  series: Series[];
  shaded?: Period[];
  band?: BandPoint[];
  /** What the band is, for its tooltip (default "usual range"). */
  bandLabel?: string;
  marks?: Mark[];
  unit?: string;
  width?: number;
  height?: number;
}

const PAD = { left: 48, right: 12, top: 12, bottom: 28 };

/** The smallest of 1, 2, 5 × 10^k at or above `max / ticks` times `ticks`: a round top for the y axis. */
export function niceMax(max: number, ticks = 4): number {
  if (!(max > 0)) return 1;
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return step * ticks;
}

/** Labels for the time axis: hours for a day or less, days beyond. UTC, like the rest of the console. */
export function timeTicks(from: number, to: number): { t: number; label: string }[] {
  const span = to - from;
  const hour = 3_600_000;
  const day = 24 * hour;
  const step = span <= 10 * 60_000 ? 60_000 : span <= 2 * hour ? 15 * 60_000 : span <= day + hour ? 4 * hour : span <= 8 * day ? day : 7 * day;
  const out: { t: number; label: string }[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const d = new Date(t);
    const label = step < day
      ? `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`
      : `${["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getUTCDay()]} ${d.getUTCDate()}`;
    out.push({ t, label });
  }
  return out;
}

const fmt = (n: number) => (Math.abs(n) >= 10_000 ? `${Math.round(n / 1000)}k` : Number.isInteger(n) ? String(n) : n.toFixed(1));
const r1 = (n: number) => Math.round(n * 10) / 10;

export function renderChart(c: Chart): string {
  const W = c.width ?? 720;
  const H = c.height ?? 220;
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const span = Math.max(1, c.to - c.from);
  const values = c.series.flatMap((s) => s.points.map((p) => p.v)).concat((c.band ?? []).map((b) => b.hi));
  // counts: at least 0..4, so a nearly empty chart does not get ticks like 0.3
  const top = Math.max(niceMax(Math.max(0, ...values)), values.every(Number.isInteger) ? 4 : 0);
  const x = (t: number) => r1(PAD.left + ((Math.min(Math.max(t, c.from), c.to) - c.from) / span) * iw);
  const y = (v: number) => r1(PAD.top + ih - (Math.max(0, v) / top) * ih);
  const titleId = `${c.id}-title`;
  const descId = `${c.id}-desc`;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="${escapeHtml(c.id)}" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${escapeHtml(titleId)} ${escapeHtml(descId)}" preserveAspectRatio="xMidYMid meet">`);
  parts.push(`<title id="${escapeHtml(titleId)}">${escapeHtml(c.title)}</title><desc id="${escapeHtml(descId)}">${escapeHtml(c.description)}</desc>`);
  for (const p of c.shaded ?? []) {
    if (p.to < c.from || p.from > c.to) continue;
    const x0 = x(p.from);
    parts.push(`<rect class="shade" x="${x0}" y="${PAD.top}" width="${r1(Math.max(1, x(p.to) - x0))}" height="${ih}"><title>${escapeHtml(p.label)}</title></rect>`);
  }
  for (let i = 0; i <= 4; i++) {
    const v = (top / 4) * i;
    parts.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}"/><text class="tick" x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  for (const t of timeTicks(c.from, c.to)) parts.push(`<text class="tick" x="${x(t.t)}" y="${H - 8}" text-anchor="middle">${escapeHtml(t.label)}</text>`);
  if (c.band?.length) {
    const upper = c.band.map((b) => `${x(b.t)},${y(b.hi)}`);
    const lower = c.band.slice().reverse().map((b) => `${x(b.t)},${y(b.lo)}`);
    parts.push(`<polygon class="band" points="${upper.concat(lower).join(" ")}"><title>${escapeHtml(c.bandLabel ?? "usual range")}</title></polygon>`);
    const mid = c.band.filter((b) => b.mid !== undefined);
    if (mid.length > 1) parts.push(`<polyline class="band-mid" fill="none" points="${mid.map((b) => `${x(b.t)},${y(b.mid!)}`).join(" ")}"><title>expected</title></polyline>`);
  }
  for (const m of c.marks ?? []) {
    if (m.t < c.from || m.t > c.to) continue;
    parts.push(`<line class="mark" x1="${x(m.t)}" x2="${x(m.t)}" y1="${PAD.top}" y2="${PAD.top + ih}"><title>${escapeHtml(m.label)}</title></line>`);
  }
  c.series.forEach((s, i) => {
    const pts = s.points.filter((p) => p.t >= c.from && p.t <= c.to).sort((a, b) => a.t - b.t);
    if (pts.length === 1) parts.push(`<circle class="series-${i}" cx="${x(pts[0].t)}" cy="${y(pts[0].v)}" r="3"><title>${escapeHtml(s.name)}</title></circle>`);
    else if (pts.length > 1) parts.push(`<polyline class="line series-${i}" fill="none" points="${pts.map((p) => `${x(p.t)},${y(p.v)}`).join(" ")}"><title>${escapeHtml(s.name)}</title></polyline>`);
  });
  parts.push(`<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + ih}" y2="${PAD.top + ih}"/>`);
  if (!values.length) parts.push(`<text class="empty" x="${PAD.left + iw / 2}" y="${PAD.top + ih / 2}" text-anchor="middle">no samples yet</text>`);
  parts.push("</svg>");
  return parts.join("");
}

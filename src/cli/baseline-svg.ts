/**
 * A picture of one replayed week of one domain, as SVG text (`mxspool baseline replay --svg`;
 * scripts/baseline-picture.ts turns it into docs/baseline-week.png): the learned band of
 * accepted mail per bucket (shaded), the expected value (dashed), the actual traffic,
 * and each alert raised that week (a red mark and its kind). Hours are UTC. Pure: text out.
 */
import type { BandOptions } from "../../policies/baseline-bands.js";
import { DAY } from "../../policies/baseline-bands.js";
import type { BandSource, DomainSeries, ReplayAlert } from "../../policies/baseline.js";

const W = 1400;
const H = 480;
const PAD = { left: 60, right: 20, top: 46, bottom: 60 };
const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function baselineSvg(s: DomainSeries, bands: BandSource, o: BandOptions, weekOf: number, alerts: ReplayAlert[]): string {
  const from = Math.max(0, Math.floor((weekOf - (weekOf % DAY) - s.start) / s.bucketMs));
  const to = Math.min(s.accepted.length, from + Math.round((7 * DAY) / s.bucketMs));
  const pts: { i: number; x: number; b: ReturnType<BandSource> }[] = [];
  for (let i = from; i < to; i++) pts.push({ i, x: s.accepted[i]!, b: bands("accepted", i) });
  const top = Math.max(1, ...pts.map((p) => Math.max(p.x, p.b?.high ?? 0))) * 1.08;
  const X = (i: number) => PAD.left + ((i - from) / Math.max(1, to - from)) * (W - PAD.left - PAD.right);
  const Y = (v: number) => H - PAD.bottom - (Math.min(v, top) / top) * (H - PAD.top - PAD.bottom);
  const line = (f: (p: (typeof pts)[number]) => number) => pts.map((p, k) => `${k ? "L" : "M"}${X(p.i).toFixed(1)},${Y(f(p)).toFixed(1)}`).join("");
  const band = `${line((p) => p.b?.high ?? 0)}${[...pts].reverse().map((p) => `L${X(p.i).toFixed(1)},${Y(Math.max(0, p.b?.low ?? 0)).toFixed(1)}`).join("")}Z`;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  const startDay = s.start + from * s.bucketMs;
  for (let d = 0; d <= 7; d++) {
    const i = from + Math.round((d * DAY) / s.bucketMs);
    out.push(`<line x1="${X(i)}" x2="${X(i)}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#ddd"/>`);
    if (d < 7) out.push(`<text x="${X(i) + 4}" y="${H - PAD.bottom + 16}" fill="#555">${new Date(startDay + d * DAY).toUTCString().slice(0, 11)}</text>`);
  }
  for (let k = 0; k <= 4; k++) {
    const v = (top / 1.08) * (k / 4);
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${Y(v)}" y2="${Y(v)}" stroke="#f0f0f0"/><text x="${PAD.left - 6}" y="${Y(v) + 4}" text-anchor="end" fill="#555">${Math.round(v)}</text>`);
  }
  out.push(`<path d="${band}" fill="#9ecae1" fill-opacity="0.55" stroke="none"/>`);
  out.push(`<path d="${line((p) => p.b?.expected ?? 0)}" fill="none" stroke="#3182bd" stroke-dasharray="4 3" stroke-width="1"/>`);
  out.push(`<path d="${line((p) => p.x)}" fill="none" stroke="#222" stroke-width="1.1"/>`);
  const shown = alerts.filter((a) => a.at >= s.start + from * s.bucketMs && a.at < s.start + to * s.bucketMs);
  shown.forEach((a, k) => {
    const x = X((a.at - s.start) / s.bucketMs);
    out.push(`<line x1="${x}" x2="${x}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#d62728" stroke-width="2"/>`);
    out.push(`<text x="${x + 4}" y="${PAD.top + 14 + (k % 3) * 14}" fill="#d62728" font-weight="bold">${esc(a.kind)} ${new Date(a.at).toISOString().slice(11, 16)}</text>`);
  });
  const profile = pts.at(-1)?.b?.profile ?? "none";
  out.push(`<text x="${PAD.left}" y="22" font-size="15" font-weight="bold">${esc(s.domain)}: mail accepted per ${s.bucketMs / 60_000}-minute bucket at the backup MX, week of ${new Date(startDay).toISOString().slice(0, 10)} (UTC)</text>`);
  out.push(`<text x="${PAD.left}" y="38" fill="#555">band in force: ${profile}${profile === "hour-of-week" ? ` median ± ${o.width} × 1.4826 × MAD over ${o.weeks} weeks` : ""}; ${shown.length} alert(s) this week</text>`);
  const ly = H - 18;
  out.push(`<rect x="${PAD.left}" y="${ly - 10}" width="18" height="10" fill="#9ecae1"/><text x="${PAD.left + 24}" y="${ly}">learned band</text>`);
  out.push(`<line x1="${PAD.left + 130}" x2="${PAD.left + 150}" y1="${ly - 4}" y2="${ly - 4}" stroke="#3182bd" stroke-dasharray="4 3"/><text x="${PAD.left + 156}" y="${ly}">expected</text>`);
  out.push(`<line x1="${PAD.left + 240}" x2="${PAD.left + 260}" y1="${ly - 4}" y2="${ly - 4}" stroke="#222"/><text x="${PAD.left + 266}" y="${ly}">actual</text>`);
  out.push(`<line x1="${PAD.left + 340}" x2="${PAD.left + 340}" y1="${ly - 12}" y2="${ly + 2}" stroke="#d62728" stroke-width="2"/><text x="${PAD.left + 346}" y="${ly}">alert raised (after the holdoff)</text>`);
  out.push("</svg>");
  return out.join("\n") + "\n";
}

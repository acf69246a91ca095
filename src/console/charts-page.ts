/**
 * The charts page: accepted / delivered / rejected per sample interval and the queue depth,
 * over the last hour, 24 hours, 7 days or around the last outage, outages shaded (from the continuity events), and the drain of the
 * last outage. Server-rendered SVG (svg-chart.ts) plus the same figures in a table for screen
 * readers. Each domain's chart carries its learned baseline band (./baseline-band.ts: the
 * server's detector over the shown window), says which profile is in force and marks the
 * baseline alerts raised in the window (continuity events of the baseline kinds).
 */
import { html, SafeHtml } from "../webmail/pages/html.js";
import type { ApiClient } from "./api-client.js";
import { chartSeries, drainCurve, type Samples } from "./samples.js";
import { renderChart, type Mark, type Period } from "./svg-chart.js";
import { bandNote, readDomainBand, type DomainBand } from "./baseline-band.js";
import { BASELINE_KINDS } from "../../policies/baseline.js";
import { configuredTraffic } from "../observability/traffic-series.js";
import { duration, layout, when, type Admin } from "./pages/layout.js";

export const RANGES: Record<string, number> = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 };

/** The learned baseline band of a domain's accepted mail over [from, to) at `step` (null without traffic). */
export async function baselineBand(api: ApiClient, domain: string, from: number, to: number, step: number): Promise<DomainBand | null> {
  const { config, redis, keys, log } = api.deps;
  const b = config.baselines;
  return readDomainBand(configuredTraffic(config, redis, keys, log), { weeks: b.weeks, width: b.width, floor: b.floor }, domain, from, to, step);
}

/** The baseline alerts (traffic-surge, traffic-silent, dictionary-attack, queue-growth) a domain raised in [from, to]. */
export async function baselineAlerts(api: ApiClient, domain: string, from: number, to: number): Promise<Mark[]> {
  const out: Mark[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 5; page++) {
    const r = await api.call("GET", "/api/events", { query: { domain, cursor, limit: "200" } });
    if (r.status !== 200) break;
    for (const e of r.body.items as any[]) {
      if ((BASELINE_KINDS as readonly string[]).includes(e.kind) && e.startedAt >= from && e.startedAt <= to) out.push({ t: e.startedAt, label: `${e.kind} raised ${when(e.startedAt)}: ${e.summary ?? ""}` });
    }
    const last = r.body.items[r.body.items.length - 1];
    if (!r.body.next || !last || last.startedAt < from) break;
    cursor = r.body.next;
  }
  return out;
}

/** At most this many points per domain chart. */
const DOMAIN_POINTS = 288;

/** One domain's traffic series (GET /api/traffic, h/traffic's readTrafficSeries) as a chart: accepted, delivered, rejected, queue depth. */
export async function domainChart(api: ApiClient, bucketMs: number, domain: string, from: number, to: number, shaded: Period[]): Promise<SafeHtml> {
  const step = Math.max(1, Math.ceil((to - from) / DOMAIN_POINTS / bucketMs)) * bucketMs;
  const r = await api.call("GET", "/api/traffic", { query: { domain, from: String(from), to: String(to), step: String(step), metrics: "accepted,delivered,rejected,queue" } });
  if (r.status !== 200) return html`<p class="alert" role="alert">${r.body?.error?.message ?? "no traffic series"}</p>`;
  const pts = r.body.points as { t: number; accepted?: number; delivered?: number; rejected?: number; queue?: number }[];
  const line = (k: "accepted" | "delivered" | "rejected" | "queue") => pts.map((p) => ({ t: p.t + step, v: p[k] ?? 0 }));
  const [band, marks] = await Promise.all([baselineBand(api, domain, from, to, step), baselineAlerts(api, domain, from, to)]);
  const mine = shaded.filter((p) => p.label.startsWith(`${domain} `));
  const note = bandNote(band, api.deps.config.baselines.weeks, when);
  const svg = renderChart({ id: `chart-domain-${domain.replace(/[^a-z0-9-]/g, "-")}`, title: `${domain}: mail per ${duration(step)} and queue depth`,
    description: `Accepted, delivered and rejected messages of ${domain} per ${duration(step)}, and its largest queue depth in each; its primary's outages shaded. ${note}${marks.length ? ` ${marks.length} baseline alert(s) marked.` : ""}`,
    from, to, series: [{ name: "accepted", points: line("accepted") }, { name: "delivered", points: line("delivered") }, { name: "rejected", points: line("rejected") }, { name: "in queue", points: line("queue") }], shaded: mine,
    band: band?.points, bandLabel: `usual range of accepted mail (${band?.profiles[band.profiles.length - 1]?.profile ?? "none"})`, marks });
  const extra = html`${band?.points.length ? html`<li><span class="key kband" aria-hidden="true"></span>usual range (${band.profiles[band.profiles.length - 1]!.profile})</li>` : ""}${marks.length ? html`<li><span class="key kmark" aria-hidden="true"></span>baseline alert raised</li>` : ""}`;
  return html`<section class="card" aria-labelledby="dom-${domain}-h"><h2 id="dom-${domain}-h">${domain}</h2>${new SafeHtml(svg)}${legend(["accepted", "delivered", "rejected", "in queue"], mine.length > 0, extra)}<p class="muted baseline-note">${note}</p>${marks.length ? html`<ul class="baseline-alerts">${marks.map((m) => html`<li>${m.label}</li>`)}</ul>` : ""}</section>`;
}

/** Outages overlapping [from, to], as shaded periods. */
export async function outagePeriods(api: ApiClient, from: number, to: number): Promise<Period[]> {
  const out: Period[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10; page++) {
    const r = await api.call("GET", "/api/events", { query: { kind: "outage", cursor, limit: "200" } });
    if (r.status !== 200) break;
    for (const e of r.body.items as any[]) {
      const end = e.recoveredAt ?? (e.state === "open" ? to : e.closedAt ?? to);
      if (end >= from && e.startedAt <= to) out.push({ from: e.startedAt, to: end, label: `${e.domain ?? ""} primary down ${when(e.startedAt)} – ${e.recoveredAt ? when(e.recoveredAt) : "now"}` });
    }
    const last = r.body.items[r.body.items.length - 1];
    if (!r.body.next || !last || last.startedAt < from) break;
    cursor = r.body.next;
  }
  return out;
}

export const legend = (names: string[], shaded: boolean, extra: SafeHtml | string = "") => html`<ul class="legend">${names.map((n, i) => html`<li><span class="key k${i}" aria-hidden="true"></span>${n}</li>`)}${shaded ? html`<li><span class="key kshade" aria-hidden="true"></span>primary down</li>` : ""}${extra}</ul>`;

/** "outage": the last outage, with as much time before and after it as it lasted (a minute at least). */
async function chartWindow(api: ApiClient, rangeName: string, now: number): Promise<{ from: number; to: number; label: string }> {
  if (rangeName === "outage") {
    const last = await api.call("GET", "/api/events", { query: { kind: "outage", limit: "1" } });
    const ev = last.body.items?.[0];
    if (ev) {
      const end = ev.drainedAt ?? ev.recoveredAt ?? now;
      const margin = Math.max(60_000, (end - ev.startedAt) / 2);
      return { from: ev.startedAt - margin, to: Math.min(now, end + margin), label: "around the last outage" };
    }
  }
  const span = RANGES[rangeName] ?? RANGES["24h"];
  return { from: now - span, to: now, label: `last ${RANGES[rangeName] ? rangeName : "24h"}` };
}

export async function chartsPage(api: ApiClient, admin: Admin, samples: Samples, rangeName: string, domains: string[], bucketMs: number, now = Date.now()): Promise<SafeHtml> {
  const { from, to, label } = await chartWindow(api, rangeName, now);
  const [rows, shaded] = await Promise.all([samples.range(from, to), outagePeriods(api, from, to)]);
  const s = chartSeries(rows);
  const every = duration(samples.everyMs);
  const traffic = renderChart({ id: "chart-traffic", title: `Mail per ${every}, ${label}`, description: `Accepted, delivered and rejected messages per ${every}; periods with a primary down are shaded.`,
    from, to, series: [{ name: "accepted", points: s.accepted }, { name: "delivered", points: s.delivered }, { name: "rejected", points: s.rejected }], shaded });
  const depth = renderChart({ id: "chart-depth", title: `Queue depth, ${label}`, description: "Messages waiting for delivery (queued, deferred, being delivered); outages shaded.",
    from, to, series: [{ name: "in queue", points: s.depth }], shaded });
  const last = await api.call("GET", "/api/events", { query: { kind: "outage", limit: "1" } });
  const ev = last.body.items?.[0];
  const drain = ev?.recoveredAt ? await drainSection(samples, ev, now) : html`<p class="muted">No outage has ended yet.</p>`;
  const table = s.depth.slice(-24);
  return layout("Charts", html`<h1>Charts</h1>
<nav class="tabs" aria-label="Range">${[...Object.keys(RANGES), "outage"].map((r) => html`<a class="button small" href="/admin/charts?range=${r}"${r === rangeName ? html` aria-current="page"` : ""}>${r === "outage" ? "last outage" : r}</a> `)}</nav>
<section class="card" aria-labelledby="traffic-h"><h2 id="traffic-h">Accepted, delivered, rejected</h2>${new SafeHtml(traffic)}${legend(["accepted", "delivered", "rejected"], shaded.length > 0)}<p class="muted">The usual range (learned baseline) is drawn on each domain's chart below.</p></section>
<section class="card" aria-labelledby="depth-h"><h2 id="depth-h">Queue depth</h2>${new SafeHtml(depth)}${legend(["in queue"], shaded.length > 0)}
<details><summary>As a table (last ${table.length} samples)</summary><table class="list"><thead><tr><th scope="col">When</th><th scope="col">In queue</th></tr></thead><tbody>${table.map((p) => html`<tr><td>${when(p.t)}</td><td>${p.v}</td></tr>`)}</tbody></table></details></section>
<section class="card" aria-labelledby="drain-h"><h2 id="drain-h">Drain of the last outage</h2>${drain}</section>
<h2>Per domain</h2>
<p class="muted">From the traffic series (a bucket every ${duration(bucketMs)}, <code>baselines.bucket</code>).</p>
${await Promise.all(domains.map((d) => domainChart(api, bucketMs, d, from, to, shaded)))}
<p class="muted">A sample is taken every ${every} (<code>admin.sampleEvery</code>).</p>`, admin, "charts");
}

export async function drainSection(samples: Samples, ev: { domain?: string; startedAt: number; recoveredAt: number; drainedAt?: number }, now = Date.now()): Promise<SafeHtml> {
  const to = ev.drainedAt ?? now;
  const rows = await samples.range(ev.recoveredAt, to);
  const c = drainCurve(rows, ev.recoveredAt, ev.drainedAt);
  const svg = renderChart({ id: "chart-drain", title: `Drain of ${ev.domain ?? ""} after ${when(ev.recoveredAt)}`, description: "Messages in queue from the primary's return until the queue was empty.",
    from: ev.recoveredAt, to: Math.max(to, ev.recoveredAt + samples.everyMs), series: [{ name: "in queue", points: c.points }] });
  return html`${new SafeHtml(svg)}<p>${ev.domain ?? ""}: primary back ${when(ev.recoveredAt)}${ev.drainedAt ? `, drained in ${duration(ev.drainedAt - ev.recoveredAt)}` : ", still draining"}${c.perMinute !== null ? `, about ${c.perMinute} messages a minute` : ""}.</p>`;
}

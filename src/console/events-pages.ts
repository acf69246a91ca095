/**
 * Events: the continuity events (outages, stale queue, scanners, Redis memory, certificates,
 * drills, primary changes) newest first with a kind filter, and one event's report (timeline,
 * figures, what the mail did), read through GET /api/events[/{id}]. The outage report adds the
 * drain chart from the console's samples. Alert deliveries are counted by kind from /metrics'
 * source (the alert stats hash): what was sent and what failed.
 */
import { html, type SafeHtml } from "../webmail/pages/html.js";
import type { ApiClient } from "./api-client.js";
import { KINDS } from "../api/event-routes.js";
import { duration, layout, statePill, when, type Admin } from "./pages/layout.js";

export async function eventsPage(api: ApiClient, admin: Admin, kind: string | undefined, cursor: string | undefined, alertStats: Record<string, string>): Promise<{ status: number; page: SafeHtml }> {
  const r = await api.call("GET", "/api/events", { query: { kind, cursor, limit: "50" } });
  const list = r.status === 200 ? r.body.items as any[] : [];
  return { status: r.status === 200 ? 200 : r.status, page: layout("Events", html`<h1>Events</h1>
<form method="get" action="/admin/events" class="filters" aria-label="Filter events">
  <label>Kind<select name="kind"><option value="">any</option>${KINDS.map((k) => html`<option${k === kind ? html` selected` : ""}>${k}</option>`)}</select></label>
  <button type="submit" class="button primary">Show</button>
</form>
${r.status !== 200 ? html`<p class="alert" role="alert">${r.body?.error?.message ?? ""}</p>` : list.length ? html`<div class="table-wrap"><table class="list" aria-label="Continuity events">
<thead><tr><th scope="col">Started</th><th scope="col">Kind</th><th scope="col">Domain</th><th scope="col">State</th><th scope="col">Summary</th></tr></thead>
<tbody>${list.map((e) => html`<tr><td>${when(e.startedAt)}</td><td>${e.kind}</td><td>${e.domain ?? "—"}</td><td>${statePill(e.state === "open" ? "open" : "ok", e.state)}</td><td><a href="/admin/events/${e.id}">${e.summary}</a></td></tr>`)}</tbody></table></div>
${r.body.next ? html`<p><a class="button" href="/admin/events?${new URLSearchParams({ ...(kind ? { kind } : {}), cursor: r.body.next }).toString()}">Older events</a></p>` : ""}` : html`<p class="empty">No events yet.</p>`}
<section class="card" aria-labelledby="alerts-h"><h2 id="alerts-h">Alert deliveries</h2>
${Object.keys(alertStats).length ? html`<table class="list"><thead><tr><th scope="col">Counter</th><th scope="col">Count</th></tr></thead><tbody>${Object.entries(alertStats).sort().map(([k, v]) => html`<tr><td>${k}</td><td>${v}</td></tr>`)}</tbody></table>` : html`<p class="muted">No alert has been sent yet.</p>`}
</section>`, admin, "events") };
}

export async function eventPage(api: ApiClient, admin: Admin, id: string, drainChart: (ev: any) => Promise<SafeHtml>): Promise<{ status: number; page: SafeHtml }> {
  const r = await api.call("GET", `/api/events/${encodeURIComponent(id)}`);
  if (r.status !== 200) return { status: r.status, page: layout("No such event", html`<h1>No such event</h1><p><a href="/admin/events">Back to the events</a></p>`, admin, "events") };
  const { event: ev, report: rep } = r.body;
  const f = rep.figures ?? {};
  const mail = rep.mail;
  return { status: 200, page: layout(`${rep.kind} report`, html`<p class="crumbs"><a href="/admin/events">Events</a> › ${rep.id}</p>
<h1 id="report-title">${rep.kind}${rep.domain ? ` of ${rep.domain}` : ""} ${statePill(rep.state === "open" ? "open" : "ok", rep.state)}</h1>
<p class="lead">${rep.summary}</p>
<div class="grid">
<section class="card" aria-labelledby="tl-h"><h2 id="tl-h">Timeline</h2><ol>${(rep.timeline as any[]).map((t) => html`<li>${when(t.at)} — ${t.what}</li>`)}</ol></section>
<section class="card" aria-labelledby="fig-h"><h2 id="fig-h">Figures</h2><dl class="facts">
  <dt>Time to detect</dt><dd>${duration(f.timeToDetectMs)}</dd>
  <dt>Outage</dt><dd>${duration(f.outageMs)}</dd>
  <dt>First delivery after</dt><dd>${duration(f.timeToFirstDeliveryMs)}</dd>
  <dt>Drain</dt><dd>${duration(f.drainMs)}${f.drainPerMinute !== undefined ? `, ${f.drainPerMinute} a minute` : ""}</dd>
</dl></section>
${mail ? html`<section class="card" aria-labelledby="mail-h"><h2 id="mail-h">The mail</h2><dl class="facts">
  <dt>Spooled</dt><dd>${mail.messages}</dd><dt>Delivered</dt><dd>${mail.delivered ?? "—"}</dd><dt>Bounced</dt><dd>${mail.bounced ?? "—"}</dd>
  <dt>Held</dt><dd>${mail.held ?? "—"}</dd><dt>Still waiting</dt><dd>${mail.waiting ?? "—"}</dd>${mail.rejected !== undefined ? html`<dt>Rejected</dt><dd>${mail.rejected}</dd>` : ""}
  <dt>Top senders</dt><dd>${(mail.topSenders ?? []).map((c: any) => `${c.name} (${c.count})`).join(", ") || "—"}</dd>
  <dt>Top recipients</dt><dd>${(mail.topRecipients ?? []).map((c: any) => `${c.name} (${c.count})`).join(", ") || "—"}</dd>
</dl></section>` : ""}
</div>
${ev.kind === "outage" && ev.recoveredAt ? await drainChart(ev) : ""}
<section class="card" aria-labelledby="data-h"><h2 id="data-h">Data</h2><pre class="raw">${JSON.stringify(rep.data, null, 2)}</pre></section>`, admin, "events") };
}

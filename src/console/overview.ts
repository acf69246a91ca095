/**
 * The overview: one card per domain (the primary's state and since when, its fingerprint,
 * the open outage with what it has spooled and the drain, the queue per state, the last
 * drill, the buttons), then the spool as a whole (scanners, Redis memory and the outage hours
 * that still fit, the last doctor run) and the warnings in plain words. Everything is read
 * through the admin API's routes (api-client.ts); the live region is re-fetched by the page
 * script (or a <noscript> meta refresh).
 */
import { html, type SafeHtml } from "../webmail/pages/html.js";
import type { ApiClient } from "./api-client.js";
import { actionButton, ago, bytes, duration, layout, statePill, when, type Admin } from "./pages/layout.js";
import type { DoctorRun } from "./doctor-page.js";

interface DomainFacts {
  domain: string;
  primary: { state: string; since: number | null; lastProbe: number | null; lastError: string | null; endpoint: string | null; adminPaused: boolean; queuePaused: boolean };
  jobs: Record<string, number>;
  fingerprint: { at: number; fingerprint: { banner: string; capabilities: string[]; cert: { subject: string; issuer: string; validTo: number } | null; certExpiresSoon: boolean } } | null;
  outage: { id: string; startedAt: number; detectedAt?: number; recoveredAt?: number; summary: string; spooled?: number; delivered?: number; waiting?: number } | null;
  drill: { running: boolean; last: { passed: boolean; at: number; reason?: string; figures: Record<string, number | undefined> } | null };
}

export interface Overview {
  now: number;
  domains: DomainFacts[];
  status: any;
  warnings: string[];
  doctor?: DoctorRun;
}

export async function gatherOverview(api: ApiClient, doctor: DoctorRun | undefined): Promise<Overview> {
  const [status, health, primaries] = await Promise.all([api.call("GET", "/api/status"), api.call("GET", "/api/health"), api.call("GET", "/api/primaries")]);
  const s = status.body;
  const names = Object.keys(s.domains ?? {});
  const domains = await Promise.all(names.map(async (domain): Promise<DomainFacts> => {
    const enc = encodeURIComponent(domain);
    const [history, events, drill] = await Promise.all([
      api.call("GET", `/api/primaries/${enc}/history`, { query: { limit: "1" } }),
      api.call("GET", "/api/events", { query: { kind: "outage", domain, limit: "1" } }),
      api.call("GET", `/api/drill/${enc}`),
    ]);
    const d = s.domains[domain];
    const view = (primaries.body.primaries as any[]).find((p) => p.domain === domain) ?? {};
    let outage: DomainFacts["outage"] = null;
    const ev = events.body.items?.[0];
    if (ev && ev.state === "open") {
      const rep = await api.call("GET", `/api/events/${ev.id}`);
      const mail = rep.body.report?.mail;
      outage = { id: ev.id, startedAt: ev.startedAt, detectedAt: ev.detectedAt, recoveredAt: ev.recoveredAt, summary: ev.summary, spooled: mail?.messages, delivered: mail?.delivered, waiting: mail?.waiting };
    }
    return {
      domain,
      primary: { ...d.primary, adminPaused: d.adminPaused, queuePaused: d.queuePaused, since: view.since ?? d.primary.since },
      jobs: d.jobs,
      fingerprint: history.body.items?.[0] ?? null,
      outage,
      drill: drill.body,
    };
  }));
  const warnings: string[] = [...(health.body.reasons ?? []), ...(health.body.warnings ?? [])];
  if (s.outageHoursLeft !== null && s.outageHoursLeft !== undefined && s.outageHoursLeft < 24) warnings.push(`Redis has room for about ${Math.round(s.outageHoursLeft)} more hours of outage at the current arrival rate.`);
  for (const d of domains) {
    if (d.fingerprint?.fingerprint.certExpiresSoon) warnings.push(`The certificate of ${d.domain}'s primary expires on ${when(d.fingerprint.fingerprint.cert?.validTo)}.`);
    if (d.drill.last && !d.drill.last.passed) warnings.push(`The last failover drill of ${d.domain} failed${d.drill.last.reason ? `: ${d.drill.last.reason}` : ""}.`);
  }
  if (doctor && !doctor.result.ok) warnings.push(`The last doctor run found ${doctor.result.checks.filter((c) => c.status === "fail").length} failing check(s).`);
  return { now: s.now ?? Date.now(), domains, status: s, warnings, doctor };
}

const sizeOf = (caps: string[]) => {
  const s = caps.find((c) => /^SIZE\b/i.test(c));
  const n = s ? Number(s.split(/\s+/)[1]) : NaN;
  return s ? (Number.isFinite(n) && n > 0 ? bytes(n) : "no limit given") : "not announced";
};

function domainCard(d: DomainFacts, admin: Admin, now: number): SafeHtml {
  const p = d.primary;
  const fp = d.fingerprint?.fingerprint;
  const enc = encodeURIComponent(d.domain);
  const j = d.jobs ?? {};
  return html`<section class="card domain" aria-labelledby="dom-${d.domain}" data-domain="${d.domain}" data-state="${p.state}">
  <h2 id="dom-${d.domain}">${d.domain} ${statePill(p.state, p.state === "up" ? "primary up" : p.state === "down" ? "primary down" : "primary unknown")}${p.adminPaused ? html` ${statePill("paused", "paused by admin")}` : ""}</h2>
  <dl class="facts">
    <dt>Since</dt><dd>${when(p.since)} (${ago(p.since, now)})</dd>
    <dt>Last probe</dt><dd>${ago(p.lastProbe, now)}${p.lastError ? html` — <span class="muted">${p.lastError}</span>` : ""}</dd>
    <dt>Endpoint</dt><dd>${p.endpoint ?? "—"}</dd>
    <dt>Banner</dt><dd>${fp?.banner || "—"}</dd>
    <dt>TLS</dt><dd>${fp ? (fp.cert ? `${fp.cert.subject}, until ${when(fp.cert.validTo)}` : "no STARTTLS") : "—"}</dd>
    <dt>SIZE</dt><dd>${fp ? sizeOf(fp.capabilities) : "—"}</dd>
    <dt>Queue</dt><dd><span data-queue="waiting">${(j.wait ?? 0) + (j.prioritized ?? 0)}</span> waiting · ${j.active ?? 0} delivering · ${j.delayed ?? 0} deferred${j.failed ? ` · ${j.failed} failed` : ""}</dd>
    <dt>Last drill</dt><dd>${d.drill.running ? "running now" : d.drill.last ? html`${statePill(d.drill.last.passed ? "passed" : "failed")} ${ago(d.drill.last.at, now)}${d.drill.last.reason ? ` — ${d.drill.last.reason}` : ""}` : "never"}</dd>
  </dl>
  ${d.outage ? html`<div class="banner down" role="status"><strong>Outage under way</strong> — ${d.outage.summary}<dl class="facts">
    <dt>Started</dt><dd>${when(d.outage.startedAt)} (${duration(now - d.outage.startedAt)})</dd>
    <dt>Detected</dt><dd>${d.outage.detectedAt ? `${duration(d.outage.detectedAt - d.outage.startedAt)} after the start` : "not yet"}</dd>
    <dt>Spooled so far</dt><dd>${d.outage.spooled ?? "—"}</dd>
    ${d.outage.recoveredAt ? html`<dt>Primary back</dt><dd>${when(d.outage.recoveredAt)}; ${d.outage.waiting ?? "—"} still waiting</dd>` : ""}
  </dl><a href="/admin/events/${d.outage.id}">Report</a></div>` : ""}
  <div class="actions">
    ${actionButton(admin, `/admin/domains/${enc}/probe`, "Probe now")}
    ${p.adminPaused ? actionButton(admin, `/admin/domains/${enc}/resume`, "Resume") : actionButton(admin, `/admin/domains/${enc}/pause`, "Pause")}
    ${actionButton(admin, `/admin/domains/${enc}/flush`, "Flush")}
    ${actionButton(admin, `/admin/domains/${enc}/drill`, "Run drill")}
    <a class="link-button" href="/admin/queue?domain=${enc}">Messages</a>
  </div>
</section>`;
}

/** The part of the overview that refreshes itself. */
export function overviewLive(o: Overview, admin: Admin): SafeHtml {
  const s = o.status;
  const q = s.queue ?? {};
  const mem = s.redis ?? {};
  return html`${o.warnings.length ? html`<section class="banner down" aria-labelledby="warn-h"><h2 id="warn-h">Needs attention</h2><ul class="warnings">${o.warnings.map((w) => html`<li>${w}</li>`)}</ul></section>` : html`<p class="banner up" role="status">All is well: every primary answers, nothing needs attention.</p>`}
<div class="grid">${o.domains.map((d) => domainCard(d, admin, o.now))}</div>
<div class="grid">
  <section class="card" aria-labelledby="spool-h"><h2 id="spool-h">Spool</h2><dl class="facts">
    <dt>In queue</dt><dd id="in-queue">${q.inQueue ?? 0}</dd>
    <dt>By state</dt><dd>${q.queued ?? 0} queued · ${q.active ?? 0} active · ${q.deferred ?? 0} deferred · ${q.held ?? 0} held</dd>
    <dt>Drain</dt><dd>${!q.inQueue ? "nothing waits" : s.drain?.pacePerSecond ? `${s.drain.pacePerSecond}/s, empty in ${duration((s.drain.etaSeconds ?? 0) * 1000)}` : "no deliveries in the last minute"}</dd>
    <dt>Totals</dt><dd>${s.totals?.accepted ?? 0} accepted · ${s.totals?.delivered ?? 0} delivered · ${s.totals?.bounced ?? 0} bounced · ${s.totals?.rejected ?? 0} rejected</dd>
  </dl></section>
  <section class="card" aria-labelledby="redis-h"><h2 id="redis-h">Redis</h2><dl class="facts">
    <dt>Memory</dt><dd>${bytes(mem.usedMemory)}${mem.limitBytes ? ` of ${bytes(mem.limitBytes)}` : " (no limit known)"}</dd>
    <dt>Outage room</dt><dd>${s.outageHoursLeft === null || s.outageHoursLeft === undefined ? "not enough arrivals to estimate" : s.outageHoursLeft > 24 * 365 ? "more than a year at the current arrival rate" : `about ${Math.round(s.outageHoursLeft)} h at the current arrival rate`}</dd>
    <dt>Per message</dt><dd>${mem.bytesPerQueuedMessage ? bytes(mem.bytesPerQueuedMessage) : "—"}</dd>
  </dl></section>
  <section class="card" aria-labelledby="scan-h"><h2 id="scan-h">Scanners</h2>${(s.scanners?.scanners ?? []).length ? html`<ul>${(s.scanners.scanners as any[]).map((x) => html`<li>${x.name} ${statePill(x.state === "up" ? "up" : "down", x.state)}</li>`)}</ul>` : html`<p class="muted">No scanners configured.</p>`}</section>
  <section class="card" aria-labelledby="doc-h"><h2 id="doc-h">Doctor</h2>${o.doctor ? html`<p>${statePill(o.doctor.result.ok ? "ok" : "fail", o.doctor.result.ok ? "all checks pass" : "checks failing")} ${ago(o.doctor.at, o.now)}</p>` : html`<p class="muted">Not run from this console yet.</p>`}<a href="/admin/doctor">Doctor page</a></section>
</div>
<p class="muted">Updated ${when(o.now)}.</p>`;
}

export function overviewPage(o: Overview, admin: Admin): SafeHtml {
  return layout("Overview", html`<h1>Overview</h1>
<div id="live" data-refresh="/admin/live" data-every="3000" aria-live="polite">${overviewLive(o, admin)}</div>`, admin, "overview", html`<noscript><meta http-equiv="refresh" content="15"></noscript>`);
}

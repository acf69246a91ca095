/**
 * The queue browser: a filter form (state, domain, recipient, sender, text, received within),
 * the matching messages a page at a time, one message with its recipients, ledger (each
 * attempt, each reply), headers, size and scan results, and the actions; the bulk action's
 * preview (how many messages the filter matches, counted through the API's own listing) and
 * its confirmation. Reading and acting both go through the admin API (api-client.ts).
 */
import { html, type SafeHtml } from "../webmail/pages/html.js";
import { CSRF_FIELD } from "../webmail/csrf.js";
import { STATES } from "../store/message-records.js";
import type { ApiClient } from "./api-client.js";
import { actionButton, ago, bytes, layout, statePill, when, type Admin } from "./pages/layout.js";

export const FILTER_FIELDS = ["state", "domain", "rcpt", "from", "q", "age"] as const;
export type Filter = Partial<Record<(typeof FILTER_FIELDS)[number], string>>;
const AGES: [string, string, number][] = [["", "any time", 0], ["1h", "last hour", 3_600_000], ["24h", "last 24 hours", 86_400_000], ["7d", "last 7 days", 7 * 86_400_000]];
/** Counting for the bulk preview stops here (the bulk itself has no such limit). */
export const PREVIEW_MAX = 100_000;

export function readFilter(get: (k: string) => string | null): Filter {
  const f: Filter = {};
  for (const k of FILTER_FIELDS) { const v = get(k)?.trim(); if (v) f[k] = v.slice(0, 256); }
  return f;
}

/** The API's filter (list query or bulk body): `age` becomes `since`. */
export function apiFilter(f: Filter, now = Date.now()): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["state", "domain", "rcpt", "from", "q"] as const) if (f[k]) out[k] = f[k]!;
  const age = AGES.find((a) => a[0] === f.age);
  if (age && age[2]) out.since = String(now - age[2]);
  return out;
}

const qs = (f: Filter, extra: Record<string, string> = {}) => new URLSearchParams({ ...f, ...extra } as Record<string, string>).toString();

function filterForm(f: Filter, domains: string[]): SafeHtml {
  return html`<form method="get" action="/admin/queue" class="filters" role="search" aria-label="Filter messages">
  <label>State<select name="state"><option value="">any</option>${STATES.map((s) => html`<option${f.state === s ? html` selected` : ""}>${s}</option>`)}</select></label>
  <label>Domain<select name="domain"><option value="">any</option>${domains.map((d) => html`<option${f.domain === d ? html` selected` : ""}>${d}</option>`)}</select></label>
  <label>Recipient<input name="rcpt" type="text" value="${f.rcpt ?? ""}" placeholder="user@domain" spellcheck="false"></label>
  <label>Sender<input name="from" type="text" value="${f.from ?? ""}" spellcheck="false"></label>
  <label>Text<input name="q" type="search" value="${f.q ?? ""}" placeholder="subject, sender…"></label>
  <label>Received<select name="age">${AGES.map(([v, label]) => html`<option value="${v}"${(f.age ?? "") === v ? html` selected` : ""}>${label}</option>`)}</select></label>
  <button type="submit" class="button primary">Filter</button>
</form>`;
}

export async function queuePage(api: ApiClient, admin: Admin, f: Filter, cursor: string | undefined, domains: string[]): Promise<SafeHtml> {
  const r = await api.call("GET", "/api/messages", { query: { ...apiFilter(f), cursor, limit: "50" } });
  const body = r.status === 200
    ? html`${r.body.items.length ? html`<div class="table-wrap"><table class="list" aria-label="Messages">
  <thead><tr><th scope="col">Received</th><th scope="col">From → to</th><th scope="col">Subject</th><th scope="col">State</th><th scope="col" class="wide">Size</th><th scope="col" class="wide">Attempts</th></tr></thead>
  <tbody>${(r.body.items as any[]).map((m) => html`<tr data-id="${m.id}"><td>${ago(m.receivedAt)}</td><td>${m.envelope.from || "<>"} → ${m.envelope.to.join(", ")}</td><td><a href="/admin/messages/${m.id}">${m.subject || "(no subject)"}</a></td><td>${statePill(m.state === "held" ? "paused" : m.state === "delivered" ? "ok" : m.state === "bounced" || m.state === "deleted" ? "fail" : "unknown", m.state)}</td><td class="wide">${bytes(m.size)}</td><td class="wide">${m.attempts}</td></tr>`)}</tbody>
</table></div>
${r.body.next ? html`<p><a class="button" href="/admin/queue?${qs(f, { cursor: r.body.next })}">Older messages</a></p>` : ""}` : html`<p class="empty">No message matches.</p>`}`
    : html`<p class="alert" role="alert">${r.body?.error?.message ?? "The filter was not accepted."}</p>`;
  const bulk = Object.keys(f).some((k) => k !== "age" && f[k as keyof Filter]) ? html`<section class="card" aria-labelledby="bulk-h"><h2 id="bulk-h">Act on every match</h2>
  <form method="get" action="/admin/bulk" class="actions">${Object.entries(f).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
    <label for="bulk-action">Action</label><select id="bulk-action" name="action">${["hold", "release", "retry", "delete"].map((a) => html`<option>${a}</option>`)}</select>
    <button type="submit" class="button">Preview</button></form></section>` : "";
  return layout("Queue", html`<h1>Queue</h1>${filterForm(f, domains)}${bulk}${body}`, admin, "queue");
}

async function countMatches(api: ApiClient, f: Filter): Promise<{ count: number; capped: boolean; error?: string }> {
  let count = 0;
  let cursor: string | undefined;
  const filter = apiFilter(f);
  for (;;) {
    const r = await api.call("GET", "/api/messages", { query: { ...filter, cursor, limit: "500" } });
    if (r.status !== 200) return { count, capped: false, error: r.body?.error?.message };
    count += r.body.items.length;
    if (!r.body.next) return { count, capped: false };
    if (count >= PREVIEW_MAX) return { count, capped: true };
    cursor = r.body.next;
  }
}

export async function bulkPreviewPage(api: ApiClient, admin: Admin, f: Filter, action: string): Promise<SafeHtml> {
  const c = await countMatches(api, f);
  const since = apiFilter(f).since;
  return layout("Bulk action", html`<h1>Bulk ${action}</h1>
<section class="card confirm" aria-labelledby="confirm-h">
  <h2 id="confirm-h">Confirm</h2>
  ${c.error ? html`<p class="alert" role="alert">${c.error}</p>` : html`<p><strong id="bulk-count">${c.count}${c.capped ? "+" : ""}</strong> message(s) match ${Object.entries(f).map(([k, v]) => html`<code>${k}=${v}</code> `)}now. ${action} them all?</p>
  <form method="post" action="/admin/bulk" class="actions">
    <input type="hidden" name="${CSRF_FIELD}" value="${admin.csrf}">
    <input type="hidden" name="action" value="${action}">
    ${Object.entries(f).filter(([k]) => k !== "age").map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
    ${since ? html`<input type="hidden" name="since" value="${since}">` : ""}
    <button type="submit" class="button primary">Yes, ${action} ${c.count}${c.capped ? "+" : ""} message(s)</button>
    <a class="link-button" href="/admin/queue?${qs(f)}">Cancel</a>
  </form>`}
</section>`, admin, "queue");
}

export async function runBulkAction(api: ApiClient, admin: Admin, form: URLSearchParams, actor: { name: string; ip?: string }): Promise<{ status: number; page: SafeHtml }> {
  const filter: Record<string, string> = {};
  for (const k of ["state", "domain", "rcpt", "from", "q", "since"]) { const v = form.get(k); if (v) filter[k] = k === "since" ? v : v; }
  if (filter.since) (filter as Record<string, unknown>).since = Number(filter.since);
  const r = await api.call("POST", "/api/messages/bulk", { body: { action: form.get("action"), filter }, actor });
  const page = r.status === 200
    ? html`<h1>Bulk ${r.body.action} done</h1><section class="card" role="status"><p id="bulk-result">${r.body.touched} of ${r.body.matched} message(s): ${r.body.action} done.</p>${Object.keys(r.body.skipped).length ? html`<p>Skipped: ${Object.entries(r.body.skipped).map(([k, v]) => `${k} (${v})`).join(", ")}</p>` : ""}<p><a href="/admin/queue">Back to the queue</a></p></section>`
    : html`<h1>Bulk action refused</h1><p class="alert" role="alert">${r.body?.error?.message ?? "refused"}</p><p><a href="/admin/queue">Back to the queue</a></p>`;
  return { status: r.status === 200 ? 200 : r.status, page: layout("Bulk action", page, admin, "queue") };
}

const ACTIONS_BY_STATE: Record<string, string[]> = {
  queued: ["hold", "retry", "delete"], deferred: ["hold", "retry", "delete"], active: ["hold"], held: ["release", "delete"],
  delivered: ["redeliver"], bounced: ["redeliver"], deleted: [],
};

const NOTES: Record<string, string> = { hold: "Held: it will not be delivered until released.", release: "Released: queued again.", retry: "Retrying now.", delete: "Deleted.", redeliver: "Queued for delivery again." };

export async function messagePage(api: ApiClient, admin: Admin, id: string, done?: string, error?: string): Promise<{ status: number; page: SafeHtml }> {
  const r = await api.call("GET", `/api/messages/${encodeURIComponent(id)}`);
  if (r.status !== 200) return { status: r.status, page: layout("No such message", html`<h1>No such message</h1><p>${r.body?.error?.message ?? ""}</p><p><a href="/admin/queue">Back to the queue</a></p>`, admin, "queue") };
  const m = r.body;
  const scan = String(m.addedHeaders ?? "").split(/\r?\n/).filter((l: string) => /^X-(Spam|Virus|Mxspool-Scan)/i.test(l));
  return { status: 200, page: layout(m.subject || "Message", html`<p class="crumbs"><a href="/admin/queue">Queue</a> › ${m.id}</p>
<h1>${m.subject || "(no subject)"}</h1>
${done && NOTES[done] ? html`<p class="banner up" role="status" id="action-note">${NOTES[done]}</p>` : ""}
${error ? html`<p class="alert" role="alert">${error}</p>` : ""}
<section class="card"><dl class="facts">
  <dt>State</dt><dd id="msg-state">${m.state}</dd>
  <dt>From</dt><dd>${m.envelope.from || "<>"}</dd>
  <dt>Domain</dt><dd>${m.domain}</dd>
  <dt>Received</dt><dd>${when(m.receivedAt)}${m.client ? ` from ${m.client.hostname ?? m.client.ip} [${m.client.ip}]` : ""}</dd>
  <dt>Size</dt><dd>${bytes(m.size)}${m.bytes?.stored ? "" : " (bytes no longer stored)"}</dd>
  <dt>Attempts</dt><dd>${m.attempts}${m.nextAttempt ? `, next ${when(m.nextAttempt)}` : ""}${m.lastError ? html` — <span class="muted">${m.lastError}</span>` : ""}</dd>
  <dt>Scan</dt><dd>${scan.length ? scan.join("; ") : m.flags?.length ? m.flags.join(", ") : "no scan results recorded"}</dd>
</dl>
<div class="actions">${(ACTIONS_BY_STATE[m.state] ?? []).map((a) => actionButton(admin, `/admin/messages/${m.id}/${a}`, a[0].toUpperCase() + a.slice(1), {}, a === "delete" ? "button small" : "button small"))}
${m.bytes?.stored ? html`<a class="link-button" href="/admin/messages/${m.id}/raw">Download .eml</a>` : ""}</div></section>
<section class="card" aria-labelledby="rcpt-h"><h2 id="rcpt-h">Recipients</h2><div class="table-wrap"><table class="list"><thead><tr><th scope="col">Address</th><th scope="col">State</th><th scope="col">Reply</th><th scope="col">When</th></tr></thead>
<tbody>${(m.recipients as any[]).map((x) => html`<tr><td>${x.address}</td><td>${x.state}</td><td>${x.reply ?? "—"}</td><td>${when(x.at)}</td></tr>`)}</tbody></table></div></section>
<section class="card" aria-labelledby="ledger-h"><h2 id="ledger-h">Ledger</h2><div class="table-wrap"><table class="list"><thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Details</th></tr></thead>
<tbody>${(m.ledger as any[]).map((e) => { const { at, type, ...rest } = e; return html`<tr><td>${when(at)}</td><td>${type}</td><td>${Object.entries(rest).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(" · ")}</td></tr>`; })}</tbody></table></div></section>
<section class="card" aria-labelledby="hdr-h"><h2 id="hdr-h">Headers</h2><pre class="raw">${m.addedHeaders ?? ""}${m.headers ?? "(not stored)"}</pre></section>`, admin, "queue") };
}

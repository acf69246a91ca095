/**
 * Doctor and drills from buttons: POST /admin/doctor runs the API's doctor (every check, once)
 * and keeps the result in this process for the page and the overview; each domain's drill
 * is started with the API's drill route and its last result read back from it (GET
 * /api/drill/{domain}), so a running drill shows as running until it is done.
 */
import { html, type SafeHtml } from "../webmail/pages/html.js";
import type { ApiClient } from "./api-client.js";
import { actionButton, ago, layout, statePill, type Admin } from "./pages/layout.js";

export interface DoctorRun { at: number; result: { ok: boolean; exitCode: number; checks: { name: string; status: string; detail: string; hint?: string }[] } }

export async function doctorPage(api: ApiClient, admin: Admin, last: DoctorRun | undefined, domains: string[]): Promise<SafeHtml> {
  const drills = await Promise.all(domains.map((d) => api.call("GET", `/api/drill/${encodeURIComponent(d)}`)));
  return layout("Doctor", html`<h1>Doctor and drills</h1>
<section class="card" aria-labelledby="doctor-h"><h2 id="doctor-h">Doctor</h2>
<div class="actions">${actionButton(admin, "/admin/doctor", "Run the doctor now", {}, "button primary")}</div>
${last ? html`<p id="doctor-summary">${statePill(last.result.ok ? "ok" : "fail", last.result.ok ? "all checks pass" : "some checks fail")} ${ago(last.at)}</p>
<div class="table-wrap"><table class="list" aria-label="Doctor checks"><thead><tr><th scope="col">Check</th><th scope="col">Result</th><th scope="col">Detail</th></tr></thead>
<tbody>${last.result.checks.map((c) => html`<tr><td>${c.name}</td><td>${statePill(c.status)}</td><td>${c.detail}${c.hint ? html`<br><span class="muted">${c.hint}</span>` : ""}</td></tr>`)}</tbody></table></div>` : html`<p class="muted">Not run from this console yet.</p>`}
</section>
<section class="card" aria-labelledby="drill-h"><h2 id="drill-h">Failover drills</h2>
<div class="table-wrap"><table class="list"><thead><tr><th scope="col">Domain</th><th scope="col">Last drill</th><th scope="col"></th></tr></thead>
<tbody>${drills.map((r, i) => { const b = r.body; return html`<tr><td>${domains[i]}</td><td>${b.running ? "running now" : b.last ? html`${statePill(b.last.passed ? "passed" : "failed")} ${ago(b.last.at)}${b.last.reason ? ` — ${b.last.reason}` : ""}` : "never"}</td><td>${actionButton(admin, `/admin/domains/${encodeURIComponent(domains[i])}/drill`, "Run drill")}</td></tr>`; })}</tbody></table></div>
</section>`, admin, "doctor");
}

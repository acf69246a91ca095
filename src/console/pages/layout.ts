/**
 * The frame of every console page, on the webmail's stylesheet (one look): our one stylesheet
 * and one small script, the top bar with the navigation and the logout form (CSRF token
 * inside), a skip link, and the main region. Plus the small formatting helpers the pages share.
 */
import { CSRF_FIELD } from "../../webmail/csrf.js";
import { html, type SafeHtml } from "../../webmail/pages/html.js";
import { frame } from "../../webmail/pages/layout.js";
import { formatDate } from "../../webmail/pages/format.js";
import { consoleAssetUrl } from "../assets.js";

export interface Admin { name: string; csrf: string }
export type Section = "overview" | "queue" | "events" | "charts" | "doctor";

const NAV: [Section, string, string][] = [["overview", "/admin", "Overview"], ["queue", "/admin/queue", "Queue"], ["charts", "/admin/charts", "Charts"], ["events", "/admin/events", "Events"], ["doctor", "/admin/doctor", "Doctor"]];

export function layout(title: string, main: SafeHtml, admin?: Admin, current?: Section, head?: SafeHtml): SafeHtml {
  return frame({ title: `${title} · mxspool console`, css: consoleAssetUrl("css"), js: consoleAssetUrl("js"), home: "/admin", brandSub: "console", main, head,
    topRight: admin ? html`<nav class="nav" aria-label="Console">${NAV.map(([s, href, label]) => html`<a href="${href}"${s === current ? html` aria-current="page"` : ""}>${label}</a>`)}</nav>
  <div class="who">
    <span class="address">${admin.name}</span>
    <form method="post" action="/admin/logout" class="logout"><input type="hidden" name="${CSRF_FIELD}" value="${admin.csrf}"><button type="submit" class="button ghost">Log out</button></form>
  </div>` : undefined });
}

/** A POST button: one form with the CSRF token, optional hidden fields. */
export function actionButton(admin: Admin, action: string, label: string, fields: Record<string, string> = {}, cls = "button small"): SafeHtml {
  return html`<form method="post" action="${action}"><input type="hidden" name="${CSRF_FIELD}" value="${admin.csrf}">${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit" class="${cls}">${label}</button></form>`;
}

export const when = (ms: number | null | undefined): string => (ms ? formatDate(ms) : "—");

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 360) / 10} h`;
  return `${Math.round(s / 8640) / 10} days`;
}

export const ago = (ms: number | null | undefined, now = Date.now()): string => (ms ? `${duration(now - ms)} ago` : "—");

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function statePill(state: string, label = state): SafeHtml {
  return html`<span class="state ${state}">${label}</span>`;
}

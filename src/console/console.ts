/**
 * The admin console at /admin on the http role (admin.console: false turns it off). Mounted
 * by the API's server, which asks `handle` first for every request; it answers /admin and
 * everything under it and returns false for the rest. This file is the route table and the gate:
 * static files; the login (the admin token, checked through the webmail's password check: a
 * scrypt hash of the token, the same lock-out counters and hashing slots, in the console's own
 * Redis namespace) and the logout; everything else needs a live console session (its own
 * cookie and keys: a webmail session never opens it) — pages redirect to the login, the live
 * fragment and every POST answer 401/403 — and every POST needs the session's CSRF token and a
 * same-origin request. Every read and action goes through the admin API's routes (api-client.ts).
 *
 *   GET  /admin  /admin/live (overview fragment)      GET/POST /admin/login   POST /admin/logout
 *   GET  /admin/queue  /admin/messages/:id[/raw]      POST /admin/messages/:id/(hold|release|retry|delete|redeliver)
 *   GET  /admin/bulk (preview)  POST /admin/bulk      POST /admin/domains/:d/(pause|resume|flush|probe|drill)
 *   GET  /admin/events[/:id]  /admin/charts  /admin/doctor      POST /admin/doctor
 */
import crypto from "node:crypto";
import type http from "node:http";
import type { ApiDeps } from "../api/api-deps.js";
import type { Config } from "../config/schema.js";
import { setCookie } from "../webmail/cookies.js";
import { CSRF_FIELD, newToken, tokensMatch } from "../webmail/csrf.js";
import { checkPassword } from "../webmail/handlers/password-check.js";
import { LoginLimiter } from "../webmail/login-limiter.js";
import { LoginSlots } from "../webmail/login-slots.js";
import { hashPassword } from "../webmail/password-hash.js";
import { html, type SafeHtml } from "../webmail/pages/html.js";
import { readForm, requestFacts, sameOrigin, type RequestFacts } from "../webmail/request-info.js";
import { PAGE_CSP, redirect, sendBytes, sendPage as sendWebmailPage, type Headers } from "../webmail/respond.js";
import { Sessions } from "../webmail/sessions.js";
import { ApiClient } from "./api-client.js";
import { findConsoleAsset } from "./assets.js";
import { chartsPage, drainSection } from "./charts-page.js";
import { doctorPage, type DoctorRun } from "./doctor-page.js";
import { eventPage, eventsPage } from "./events-pages.js";
import { gatherOverview, overviewLive, overviewPage } from "./overview.js";
import { errorPage, loginPage } from "./pages/login-page.js";
import type { Admin } from "./pages/layout.js";
import { bulkPreviewPage, messagePage, queuePage, readFilter, runBulkAction } from "./queue-pages.js";
import { Samples } from "./samples.js";

export const CONSOLE_COOKIE = "mxspool_admin";
export const CONSOLE_LOGIN_COOKIE = "mxspool_admin_login";
const ADMIN = "admin";
/** The webmail's page policy, plus fetch to ourselves (the overview's live region). */
export const CONSOLE_CSP = `${PAGE_CSP}; connect-src 'self'`;
const sendPage = (res: http.ServerResponse, status: number, page: SafeHtml, headers: Headers = {}) => sendWebmailPage(res, status, page, { "content-security-policy": CONSOLE_CSP, ...headers });
const WRONG = "Wrong admin token.";
const MESSAGE_ACTIONS = new Set(["hold", "release", "retry", "delete", "redeliver"]);
const DOMAIN_ACTIONS = new Set(["pause", "resume", "flush", "probe", "drill"]);

interface Ctx extends RequestFacts {
  req: http.IncomingMessage; res: http.ServerResponse; url: URL;
  admin?: Admin & { token: string };
}

export class AdminConsole {
  private readonly api: ApiClient;
  private readonly sessions: Sessions;
  private readonly limiter: LoginLimiter;
  private readonly slots: LoginSlots;
  /** The admin token's scrypt hash (the password check wants one) and a stamp of it for the sessions. */
  private readonly secret?: Promise<{ hash: string; stamp: string }>;
  readonly samples: Samples;
  private lastDoctor?: DoctorRun;

  constructor(private readonly config: Config, private readonly deps: ApiDeps) {
    const w = config.webmail;
    const { redis, keys } = deps;
    this.api = new ApiClient(deps);
    this.sessions = new Sessions(redis, keys, w.sessionIdle, w.sessionMax, (t) => keys.consoleSession(t));
    this.limiter = new LoginLimiter(redis, keys, w.login, (k, s, x) => keys.consoleLogin(k, s, x));
    this.slots = new LoginSlots(w.login.maxConcurrentPerIp, w.login.maxConcurrent);
    const token = config.http.adminToken;
    if (token) this.secret = hashPassword(token).then((hash) => ({ hash, stamp: crypto.createHash("sha256").update(token).digest("base64url").slice(0, 16) }));
    this.samples = new Samples(redis, keys, config.admin.sampleEvery, async () => {
      const [c, q, rejected] = await Promise.all([deps.records.counts(), deps.query.stateCounts(), redis.hgetall(keys.rejected())]);
      return { inQueue: q.queued + q.deferred + q.active, accepted: c.accepted, delivered: c.delivered, bounced: c.bounced, rejected: Object.values(rejected).reduce((n, v) => n + Number(v), 0) };
    });
    deps.log.info({ event: "CONSOLE_ENABLED" }, "admin console served under /admin");
  }

  start(): void { this.samples.start(); }
  stop(): void { this.samples.stop(); }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    let url: URL;
    try { url = new URL(req.url ?? "/", "http://console.invalid"); } catch { return false; }
    if (url.pathname !== "/admin" && !url.pathname.startsWith("/admin/")) return false;
    const ctx: Ctx = { req, res, url, ...requestFacts(req, this.config.webmail) };
    try {
      await this.route(ctx);
    } catch (err) {
      this.deps.log.error({ event: "CONSOLE_ERROR", path: url.pathname, err: (err as Error).message }, "console request failed");
      if (!res.headersSent) sendPage(res, 500, errorPage("Something went wrong", "This page could not be shown (is Redis reachable?). Try again in a moment.", ctx.admin));
      else res.destroy();
    }
    return true;
  }

  private async route(ctx: Ctx): Promise<void> {
    const { req, res, url } = ctx;
    const method = req.method === "HEAD" ? "GET" : req.method ?? "GET";
    const path = url.pathname.replace(/\/$/, "") || "/admin";
    if (method !== "GET" && method !== "POST") {
      res.setHeader("allow", "GET, HEAD, POST");
      return sendPage(res, 405, errorPage("Not allowed", "This page cannot be used that way."));
    }
    if (path.startsWith("/admin/static/")) {
      const a = findConsoleAsset(path);
      if (!a || method !== "GET") return sendPage(res, 404, errorPage("Not found", "There is no such page."));
      return sendBytes(res, 200, a.body, { "content-type": a.type, "cache-control": "public, max-age=31536000, immutable", etag: a.etag });
    }
    if (path === "/admin/login") return method === "GET" ? ((await this.resolve(ctx)) ? redirect(res, "/admin") : this.showLogin(ctx)) : this.login(ctx);

    const admin = await this.resolve(ctx);
    if (!admin) {
      if (method === "POST") return sendPage(res, 403, errorPage("Logged out", "Your console session has ended. Log in again."), { "set-cookie": setCookie(CONSOLE_COOKIE, "", { secure: ctx.secure, maxAgeSeconds: 0 }) });
      if (path === "/admin/live" || path.endsWith("/raw")) return sendPage(res, 401, errorPage("Log in", "Log in to the console first."));
      return redirect(res, "/admin/login");
    }
    if (method === "POST") {
      const f = await readForm(req);
      if (!f.ok) return sendPage(res, f.status, errorPage("Not accepted", "The form could not be read.", admin));
      if (!sameOrigin(req) || !tokensMatch(f.form.get(CSRF_FIELD), admin.csrf)) {
        this.deps.log.warn({ event: "CONSOLE_CSRF_REJECTED", ip: ctx.ip, path }, "console action without a valid CSRF token");
        return sendPage(res, 403, errorPage("Not accepted", "This form has expired. Go back, reload the page and try again.", admin));
      }
      return this.post(ctx, admin, path, f.form);
    }
    return this.get(ctx, admin, path);
  }

  private actor(ctx: Ctx) { return { name: "console", ip: ctx.req.socket.remoteAddress }; }

  private domains(): string[] { return this.deps.queues.domains(); }

  private async get(ctx: Ctx, admin: Admin, path: string): Promise<void> {
    const { res, url } = ctx;
    const q = (k: string) => url.searchParams.get(k) ?? undefined;
    if (path === "/admin") return sendPage(res, 200, overviewPage(await gatherOverview(this.api, this.lastDoctor), admin));
    if (path === "/admin/live") return sendPage(res, 200, overviewLive(await gatherOverview(this.api, this.lastDoctor), admin));
    if (path === "/admin/queue") return sendPage(res, 200, await queuePage(this.api, admin, readFilter((k) => url.searchParams.get(k)), q("cursor"), this.domains()));
    if (path === "/admin/bulk") {
      const action = q("action") ?? "";
      if (!["hold", "release", "retry", "delete"].includes(action)) return sendPage(res, 400, errorPage("Not accepted", "Choose hold, release, retry or delete.", admin));
      return sendPage(res, 200, await bulkPreviewPage(this.api, admin, readFilter((k) => url.searchParams.get(k)), action));
    }
    let m = /^\/admin\/messages\/([^/]+)$/.exec(path);
    if (m) { const p = await messagePage(this.api, admin, decodeURIComponent(m[1]), q("done"), q("error")); return sendPage(res, p.status, p.page); }
    m = /^\/admin\/messages\/([^/]+)\/raw$/.exec(path);
    if (m) return this.raw(ctx, admin, decodeURIComponent(m[1]));
    if (path === "/admin/events") {
      const p = await eventsPage(this.api, admin, q("kind"), q("cursor"), await this.deps.redis.hgetall(this.deps.keys.alertStats()));
      return sendPage(res, p.status, p.page);
    }
    m = /^\/admin\/events\/([^/]+)$/.exec(path);
    if (m) { const p = await eventPage(this.api, admin, decodeURIComponent(m[1]), (ev) => this.drainCard(ev)); return sendPage(res, p.status, p.page); }
    if (path === "/admin/charts") return sendPage(res, 200, await chartsPage(this.api, admin, this.samples, q("range") ?? "24h", this.domains(), this.config.baselines.bucket));
    if (path === "/admin/doctor") return sendPage(res, 200, await doctorPage(this.api, admin, this.lastDoctor, this.domains()));
    return sendPage(res, 404, errorPage("Not found", "There is no such page.", admin));
  }

  private async drainCard(ev: any): Promise<SafeHtml> {
    return html`<section class="card" aria-labelledby="drain-h"><h2 id="drain-h">Drain</h2>${await drainSection(this.samples, ev)}</section>`;
  }

  private async post(ctx: Ctx, admin: Admin & { token: string }, path: string, form: URLSearchParams): Promise<void> {
    const { res } = ctx;
    const actor = this.actor(ctx);
    if (path === "/admin/logout") {
      await this.sessions.destroy(admin.token);
      this.deps.log.info({ event: "CONSOLE_LOGOUT", ip: ctx.ip }, "console logout");
      return redirect(res, "/admin/login", { "set-cookie": setCookie(CONSOLE_COOKIE, "", { secure: ctx.secure, maxAgeSeconds: 0 }) });
    }
    let m = /^\/admin\/messages\/([^/]+)\/(\w+)$/.exec(path);
    if (m && MESSAGE_ACTIONS.has(m[2])) {
      const id = decodeURIComponent(m[1]);
      const r = m[2] === "delete"
        ? await this.api.call("DELETE", `/api/messages/${encodeURIComponent(id)}`, { actor })
        : await this.api.call("POST", `/api/messages/${encodeURIComponent(id)}/${m[2]}`, { actor });
      const back = `/admin/messages/${encodeURIComponent(id)}`;
      return redirect(res, r.status === 200 ? `${back}?done=${m[2]}` : `${back}?error=${encodeURIComponent(r.body?.error?.message ?? "refused")}`);
    }
    if (path === "/admin/bulk") {
      const r = await runBulkAction(this.api, admin, form, actor);
      return sendPage(res, r.status, r.page);
    }
    m = /^\/admin\/domains\/([^/]+)\/(\w+)$/.exec(path);
    if (m && DOMAIN_ACTIONS.has(m[2])) {
      const d = encodeURIComponent(decodeURIComponent(m[1]));
      const route = m[2] === "probe" ? `/api/primaries/${d}/probe` : m[2] === "drill" ? `/api/drill/${d}` : `/api/domains/${d}/${m[2]}`;
      const r = await this.api.call("POST", route, { actor });
      if (r.status >= 400) return sendPage(res, r.status, errorPage("Not done", r.body?.error?.message ?? "The action was refused.", admin));
      return redirect(res, m[2] === "drill" ? "/admin/doctor" : "/admin");
    }
    if (path === "/admin/doctor") {
      const r = await this.api.call("POST", "/api/doctor", { actor });
      if (r.status === 200) this.lastDoctor = { at: Date.now(), result: r.body };
      return redirect(res, "/admin/doctor");
    }
    return sendPage(res, 404, errorPage("Not found", "There is no such action.", admin));
  }

  private async raw(ctx: Ctx, admin: Admin, id: string): Promise<void> {
    const reply = await this.api.reply("GET", `/api/messages/${encodeURIComponent(id)}/raw`, new URLSearchParams(), undefined, this.actor(ctx));
    if (!("bytes" in reply)) return sendPage(ctx.res, reply.status, errorPage("Not available", "The message's bytes are not stored.", admin));
    return sendBytes(ctx.res, 200, reply.bytes, { "content-type": "message/rfc822", "content-disposition": `attachment; filename="${id.replace(/[^\w.]/g, "_")}.eml"` });
  }

  // ── login ──

  private loginToken(ctx: Ctx): { token: string; cookie?: string } {
    const cur = ctx.cookies.get(CONSOLE_LOGIN_COOKIE);
    if (cur && /^[A-Za-z0-9_-]{32}$/.test(cur)) return { token: cur };
    const token = newToken();
    return { token, cookie: setCookie(CONSOLE_LOGIN_COOKIE, token, { secure: ctx.secure }) };
  }

  private showLogin(ctx: Ctx, status = 200, error?: string): void {
    const t = this.loginToken(ctx);
    sendPage(ctx.res, status, loginPage({ csrf: t.token, error }), t.cookie ? { "set-cookie": t.cookie } : {});
  }

  private async login(ctx: Ctx): Promise<void> {
    const form = await readForm(ctx.req);
    if (!form.ok) return sendPage(ctx.res, form.status, errorPage("Cannot log in", "The form could not be read. Reload the page and try again."));
    if (!sameOrigin(ctx.req) || !tokensMatch(form.form.get(CSRF_FIELD), ctx.cookies.get(CONSOLE_LOGIN_COOKIE))) {
      this.deps.log.warn({ event: "CONSOLE_CSRF_REJECTED", ip: ctx.ip, path: "/admin/login" }, "console login form without a valid token");
      return this.showLogin(ctx, 403, "This form has expired. Please try again.");
    }
    const secret = await this.secret;
    const check = await checkPassword({ slots: this.slots, limiter: this.limiter }, ctx.ip, ADMIN, (form.form.get("secret") ?? "").slice(0, 1024), secret?.hash);
    if (check.outcome === "busy" || check.outcome === "locked") {
      this.deps.log.warn({ event: "CONSOLE_LOGIN_LOCKED", ip: ctx.ip, outcome: check.outcome, scope: check.scope }, "console login refused");
      ctx.res.setHeader("retry-after", String(Math.ceil(check.retryAfterMs / 1000)));
      return this.showLogin(ctx, check.outcome === "busy" ? check.status : 429, "Too many attempts. Wait a few minutes, then try again.");
    }
    if (check.outcome !== "right" || !secret) {
      this.deps.log.warn({ event: "CONSOLE_LOGIN_FAILED", ip: ctx.ip, tokenConfigured: Boolean(secret) }, "console login failed");
      return this.showLogin(ctx, 401, secret ? WRONG : "No admin token is configured (http.adminToken or MXSPOOL_ADMIN_TOKEN): the console cannot be used.");
    }
    const { token } = await this.sessions.create(ADMIN, secret.stamp, false);
    this.deps.log.info({ event: "CONSOLE_LOGIN", ip: ctx.ip }, "console login");
    redirect(ctx.res, "/admin", { "set-cookie": [setCookie(CONSOLE_COOKIE, token, { secure: ctx.secure }), setCookie(CONSOLE_LOGIN_COOKIE, "", { secure: ctx.secure, maxAgeSeconds: 0 })] });
  }

  private async resolve(ctx: Ctx): Promise<(Admin & { token: string }) | undefined> {
    if (ctx.admin) return ctx.admin;
    const token = ctx.cookies.get(CONSOLE_COOKIE);
    const s = await this.sessions.get(token);
    if (!s) return undefined;
    const secret = await this.secret;
    if (!secret || s.credential !== secret.stamp || s.address !== ADMIN) { await this.sessions.destroy(token); return undefined; }
    ctx.admin = { name: ADMIN, csrf: s.csrf, token: token! };
    return ctx.admin;
  }
}

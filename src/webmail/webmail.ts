/**
 * The webmail: users read the mail spooled for them while their mail server is down.
 * Mounted by the http role's server, which asks `handle(req, res)` first for every request
 * outside /api and /metrics (handle returns false for those). This file is the route table
 * and the gate in front of it: static files; the login and logout; everything else needs a
 * live session (cookie → Redis, still matching the account's password), a forced password
 * change goes first, and every POST needs the session's CSRF token and a same-origin request.
 *
 *   GET  /                          inbox (?q= search, ?after= older page)
 *   GET  /login, POST /login        log in            POST /logout   log out
 *   GET  /password, POST /password  change password
 *   GET  /m/:id[/body|/raw|/attachments/:n]          see handlers/message-handlers.ts
 *   GET  /compose[?reply|replyAll|forward=ID], POST /compose (multipart)   handlers/compose-handlers.ts
 *   GET  /sent[?before=], GET /sent/:id             see handlers/sent-handlers.ts
 *   GET  /static/webmail.<hash>.css|js               see static/assets.ts
 * Never: serves a message without Mailbox.open, logs a password, or lets an error escape.
 */
import type http from "node:http";
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { MessageRecords } from "../store/message-records.js";
import type { MessageStore } from "../store/message-store.js";
import { usersFilePath } from "./accounts.js";
import { setCookie } from "./cookies.js";
import { CSRF_FIELD, tokensMatch } from "./csrf.js";
import { LoginLimiter } from "./login-limiter.js";
import { LoginSlots } from "./login-slots.js";
import { Mailbox } from "./mailbox.js";
import { MessageLoader } from "./message-loader.js";
import { SummaryCache } from "./message-summary.js";
import { errorPage } from "./pages/error-page.js";
import { readForm, requestFacts, sameOrigin } from "./request-info.js";
import { redirect, sendBytes, sendPage } from "./respond.js";
import { Sessions } from "./sessions.js";
import { findAsset } from "./static/assets.js";
import { UserDirectory } from "./user-directory.js";
import { SESSION_COOKIE, type Ctx, type Deps } from "./handlers/context.js";
import { login, logout, showLogin } from "./handlers/login-handlers.js";
import { changePassword, showPassword } from "./handlers/password-handlers.js";
import { inbox } from "./handlers/inbox-handler.js";
import { MESSAGE_PATH, message, notFound } from "./handlers/message-handlers.js";
import { sendCompose, showCompose } from "./handlers/compose-handlers.js";
import { SENT_PATH, sentList, sentMessage } from "./handlers/sent-handlers.js";
import type { OutboundSubmitter } from "../outbound/submit.js";

/** Paths that are never the webmail's (/admin is the admin console's). */
const NOT_OURS = /^\/(api|metrics|admin)(\/|$)/;

export class Webmail {
  private readonly deps: Deps;

  /** `submitter`: the outbound door (absent: compose and Sent are off). */
  constructor(config: Config, redis: Redis, keys: Keyspace, records: MessageRecords, store: MessageStore, log: Logger, submitter?: OutboundSubmitter) {
    const w = config.webmail;
    this.deps = {
      config, redis, keys, log,
      users: new UserDirectory(usersFilePath(config), log),
      sessions: new Sessions(redis, keys, w.sessionIdle, w.sessionMax),
      limiter: new LoginLimiter(redis, keys, w.login),
      slots: new LoginSlots(w.login.maxConcurrentPerIp, w.login.maxConcurrent),
      mailbox: new Mailbox(records),
      summaries: new SummaryCache(store),
      loader: new MessageLoader(store, w.maxMessageSize),
      submitter,
      uploads: new LoginSlots(Math.min(2, w.compose.concurrentUploads), w.compose.concurrentUploads),
    };
    log.info({ event: "WEBMAIL_ENABLED", users: usersFilePath(config) }, "webmail served under /");
  }

  /** Answers the request and returns true, or returns false when the path is not the webmail's. */
  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    let url: URL;
    try { url = new URL(req.url ?? "/", "http://webmail.invalid"); } catch { return false; }
    if (NOT_OURS.test(url.pathname)) return false;
    const ctx: Ctx = { req, res, url, ...requestFacts(req, this.deps.config.webmail) };
    try {
      await this.route(ctx);
    } catch (err) {
      this.deps.log.error({ event: "WEBMAIL_ERROR", path: url.pathname, err: (err as Error).message }, "webmail request failed");
      if (!res.headersSent) sendPage(res, 500, errorPage("Something went wrong", "This page could not be shown. Please try again in a moment.", ctx.viewer));
      else res.destroy();
    }
    return true;
  }

  private async route(ctx: Ctx): Promise<void> {
    const { req, url, res } = ctx;
    const method = req.method === "HEAD" ? "GET" : req.method ?? "GET";
    const path = url.pathname;
    if (method !== "GET" && method !== "POST") {
      res.setHeader("allow", "GET, HEAD, POST");
      return sendPage(res, 405, errorPage("Not allowed", "This page cannot be used that way."));
    }
    if (path.startsWith("/static/")) {
      const a = findAsset(path);
      if (!a || method !== "GET") return notFound(ctx);
      return sendBytes(res, 200, a.body, { "content-type": a.type, "cache-control": "public, max-age=31536000, immutable", etag: a.etag });
    }
    if (path === "/login") return method === "GET" ? (await this.resolveSession(ctx)) ? redirect(res, "/") : showLogin(this.deps, ctx) : login(this.deps, ctx);

    const session = await this.resolveSession(ctx);
    if (!session) {
      if (method === "POST") return sendPage(res, 403, errorPage("Logged out", "Your session has ended. Log in again."), { "set-cookie": setCookie(SESSION_COOKIE, "", { secure: ctx.secure, maxAgeSeconds: 0 }) });
      return redirect(res, "/login");
    }
    // the compose form is multipart: its handler reads it (bounded) and checks the CSRF token itself
    if (path === "/compose" && method === "POST" && !session.mustChangePassword) return sendCompose(this.deps, ctx);
    let form: URLSearchParams | undefined;
    if (method === "POST") {
      const f = await readForm(req);
      if (!f.ok) return sendPage(res, f.status, errorPage("Not accepted", "The form could not be read.", ctx.viewer));
      if (!sameOrigin(req) || !tokensMatch(f.form.get(CSRF_FIELD), session.csrf)) {
        this.deps.log.warn({ event: "WEBMAIL_CSRF_REJECTED", address: session.address, ip: ctx.ip, path }, "state-changing request without a valid CSRF token");
        return sendPage(res, 403, errorPage("Not accepted", "This form has expired. Go back, reload the page and try again.", ctx.viewer));
      }
      form = f.form;
    }
    if (path === "/logout" && form) return logout(this.deps, ctx);
    if (path === "/password") return form ? changePassword(this.deps, ctx, form) : showPassword(this.deps, ctx);
    if (session.mustChangePassword) return method === "GET" ? redirect(res, "/password") : notFound(ctx);
    if (method !== "GET") return notFound(ctx);
    if (path === "/") return inbox(this.deps, ctx);
    if (path === "/compose") return showCompose(this.deps, ctx);
    if (path === "/sent") return sentList(this.deps, ctx);
    const sent = SENT_PATH.exec(path);
    if (sent) return sentMessage(this.deps, ctx, sent[1]);
    const m = MESSAGE_PATH.exec(path);
    if (m) return message(this.deps, ctx, m[1], m[3] !== undefined ? "attachments" : m[2], m[3]);
    return notFound(ctx);
  }

  /** The session behind the cookie, if it is live and its account still has the same password. */
  private async resolveSession(ctx: Ctx): Promise<Ctx["session"]> {
    if (ctx.session) return ctx.session;
    const token = ctx.cookies.get(SESSION_COOKIE);
    const s = await this.deps.sessions.get(token);
    if (!s) return undefined;
    const user = this.deps.users.get(s.address);
    if (!user || UserDirectory.credentialStamp(user) !== s.credential) {
      await this.deps.sessions.destroy(token);
      return undefined;
    }
    ctx.session = { ...s, token: token! };
    ctx.viewer = { address: s.address, csrf: s.csrf, canSend: Boolean(this.deps.submitter) };
    return ctx.session;
  }
}

/**
 * The console acts only through the admin API's own route table, in process: the same
 * router, parameter check and handlers as `curl /api/...` and the CLI, so there is one set of
 * rules (validation, conflicts, logging, bulk refusals). Only the bearer-token check is left
 * out: the console's own login and session stand in front of every call.
 */
import type { ApiDeps } from "../api/api-deps.js";
import { apiError, fromFailure, type Reply } from "../api/reply.js";
import { Router } from "../api/router.js";
import { ROUTES } from "../api/routes.js";
import { checkParams } from "../api/validate.js";
import type { Actor } from "../admin/outcome.js";

export interface ApiAnswer { status: number; body: any }

export class ApiClient {
  private readonly router = new Router(ROUTES);

  constructor(readonly deps: ApiDeps) {}

  async call(method: "GET" | "POST" | "DELETE", path: string, opts: { query?: Record<string, string | undefined>; body?: unknown; actor?: Actor } = {}): Promise<ApiAnswer> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== "") query.set(k, v);
    const reply = await this.reply(method, path, query, opts.body, opts.actor ?? { name: "console" });
    return { status: reply.status, body: "json" in reply ? reply.json : undefined };
  }

  /** The route's reply as it is (bytes of a raw message, the metrics text). */
  async reply(method: string, path: string, query: URLSearchParams, body: unknown, actor: Actor): Promise<Reply> {
    const match = this.router.match(method, path);
    if (!match) return apiError(404, "NO_ROUTE", "no such route");
    if ("allowed" in match) return apiError(405, "METHOD_NOT_ALLOWED", "not allowed");
    const ok = checkParams(query, match.route.query);
    if (!ok.ok) return fromFailure(ok);
    return match.route.handle({ params: match.params, query, body, actor, authenticated: true }, this.deps);
  }
}

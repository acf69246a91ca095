/**
 * The `http` role: the admin API (bind http.listen, default 127.0.0.1:8025), JSON over the
 * routes of routes.ts. Bounded: at most http.maxConnections connections, headers within
 * http.headersTimeout (checked every second), a whole request within 30 s, 16 KB of headers.
 * Per request: match the route (404 / 405), check the bearer token on
 * every route but /api/health, and there too when one is presented (401; health then gives
 * its details), refuse fast when Redis is away (503), check the query
 * parameters, read a JSON body where the route takes one, run the handler within its time
 * limit, and send its reply. Every error is { "error": { "code", "message" } }; a failure
 * inside a handler is logged (HTTP_ERROR, with a request id) and answered 500 without any
 * detail — no stack trace ever reaches a client.
 */
import http from "node:http";
import { parseHostPort } from "../config/host-port.js";
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Keyspace } from "../redis/keyspace.js";
import type { Logger } from "../observability/log.js";
import { Metrics } from "../observability/metrics.js";
import { MessageRecords } from "../store/message-records.js";
import { MessageStore } from "../store/message-store.js";
import { SpoolCapacity } from "../store/spool-capacity.js";
import type { DeliveryQueues } from "../../queues/delivery-queue.js";
import { MessageQuery } from "../admin/message-query.js";
import { MessageActions } from "../admin/message-actions.js";
import { DomainActions } from "../admin/domain-actions.js";
import { EventStore } from "../continuity/event-store.js";
import type { Actor } from "../admin/outcome.js";
import type { ApiDeps } from "./api-deps.js";
import { checkBearer } from "./auth.js";
import { RateSampler } from "./rate-sampler.js";
import { apiError, fromFailure, type Reply } from "./reply.js";
import { Router } from "./router.js";
import { ROUTES, type Route } from "./routes.js";
import { checkParams } from "./validate.js";
import { DrillSchedule } from "../doctor/drill-schedule.js";
import { abandonDrills } from "../doctor/drill.js";
import { AdminConsole } from "../console/console.js";

const MAX_BODY = 64 * 1024;
/** How often Node looks for connections past headersTimeout / requestTimeout. */
const CHECK_INTERVAL_MS = 1_000;
/** A whole request (headers and body) must arrive within this. */
const REQUEST_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_MS = 5_000;
/** Request line + headers; more is 431. */
const MAX_HEADER_BYTES = 16 * 1024;
const DEFAULT_TIMEOUT_MS = 20_000;
const ACTOR = /^[\w.@:+ -]{1,64}$/;

export class HttpApi {
  private server?: http.Server;
  private readonly router = new Router(ROUTES);
  private readonly deps: ApiDeps;
  /** drills.every: the scheduled failover drills run where the API runs (one node per period). */
  private readonly drills: DrillSchedule;
  /** The admin console at /admin (admin.console), on the same services as the routes. */
  private readonly console?: AdminConsole;

  constructor(private readonly config: Config, private readonly redis: Redis, keys: Keyspace, queues: DeliveryQueues, private readonly log: Logger,
              private readonly webmail?: { handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> }, alerts?: ApiDeps["alerts"]) {
    const records = new MessageRecords(redis, keys);
    const store = new MessageStore(redis, keys, config.delivery.maxLifetime + 2 * 86_400_000);
    const rates = new RateSampler(async () => {
      const [c, rejected] = await Promise.all([records.counts(), redis.hgetall(keys.rejected())]);
      return { accepted: c.accepted, delivered: c.delivered, bounced: c.bounced, deleted: c.deleted, rejected: Object.values(rejected).reduce((n, v) => n + Number(v), 0) };
    });
    this.deps = {
      config, redis, keys, queues, records, store, rates, log, alerts,
      events: new EventStore(redis, keys),
      query: new MessageQuery(redis, keys, queues, records),
      actions: new MessageActions(config, redis, keys, queues, records, store, log),
      domains: new DomainActions(config, redis, keys, queues, log),
      metrics: new Metrics(),
      capacity: new SpoolCapacity(redis, keys, config.retention.delivered),
    };
    this.drills = new DrillSchedule(this.deps, () => queues.domains());
    if (config.admin.console) this.console = new AdminConsole(config, this.deps);
  }

  async listen(): Promise<void> {
    if (!this.config.http.adminToken) {
      this.log.warn({ event: "API_NO_TOKEN" }, "no http.adminToken (or MXSPOOL_ADMIN_TOKEN) configured: the admin API answers 401 to everything but /api/health");
    }
    const { maxConnections, headersTimeout } = this.config.http;
    this.server = http.createServer({
      // Node checks headersTimeout and requestTimeout only every connectionsCheckingInterval
      // (default 30 s: a header trickled a line a second was cut after 33 s, not 10)
      connectionsCheckingInterval: CHECK_INTERVAL_MS,
      headersTimeout,
      requestTimeout: Math.max(REQUEST_TIMEOUT_MS, headersTimeout),
      keepAliveTimeout: KEEP_ALIVE_MS,
      maxHeaderSize: MAX_HEADER_BYTES,
    }, (req, res) => void this.handle(req, res));
    // CONNECT (a proxy request) would otherwise be dropped without a word: answer it like any wrong method
    this.server.on("connect", (_req: http.IncomingMessage, socket: import("node:stream").Duplex) => {
      const body = JSON.stringify({ error: { code: "METHOD_NOT_ALLOWED", message: "CONNECT is not allowed: this is not a proxy" } });
      socket.end(`HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    });
    // over the cap Node closes a new connection at once ("drop"); said in the log at most every 10 s
    this.server.maxConnections = maxConnections;
    let lastDropLog = 0;
    this.server.on("drop", (d?: { remoteAddress?: string }) => {
      if (Date.now() - lastDropLog < 10_000) return;
      lastDropLog = Date.now();
      this.log.warn({ event: "HTTP_CONNECTIONS_FULL", maxConnections, ip: d?.remoteAddress }, "http.maxConnections reached: new connections are closed");
    });
    const { host, port } = parseHostPort(this.config.http.listen);
    await new Promise<void>((resolve, reject) => { this.server!.once("error", reject); this.server!.listen(port, host, () => resolve()); });
    this.deps.rates.start();
    this.drills.start();
    this.console?.start();
    this.log.info({ event: "HTTP_LISTENING", listen: this.config.http.listen }, "http listening");
  }

  async stop(): Promise<void> {
    this.deps.rates.stop();
    this.console?.stop();
    await abandonDrills();
    await this.drills.stop();
    if (!this.server) return;
    await new Promise<void>((resolve) => { this.server!.close(() => resolve()); this.server!.closeAllConnections(); });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestId = randomBytes(6).toString("hex");
    try {
      if (this.console && await this.console.handle(req, res)) return;
      if (this.webmail && await this.webmail.handle(req, res)) return;
      const reply = await this.dispatch(req, requestId);
      this.send(res, reply);
    } catch (err) {
      this.log.error({ event: "HTTP_ERROR", requestId, method: req.method, path: req.url?.split("?")[0], err: (err as Error).message, stack: (err as Error).stack }, "http handler failed");
      if (res.headersSent) { res.destroy(); return; }
      this.send(res, this.redis.status !== "ready"
        ? apiError(503, "UNAVAILABLE", "Redis is not reachable; try again shortly")
        : apiError(500, "INTERNAL", `internal error (logged with request id ${requestId})`));
    }
  }

  private async dispatch(req: http.IncomingMessage, requestId: string): Promise<Reply> {
    let url: URL;
    try { url = new URL(req.url ?? "/", "http://localhost"); } catch { return apiError(400, "BAD_REQUEST", "malformed request target"); }
    const method = req.method === "HEAD" ? "GET" : req.method ?? "GET";
    const match = this.router.match(method, url.pathname);
    if (!match) return apiError(404, "NO_ROUTE", `no route ${method} ${url.pathname.slice(0, 200)} (see GET /api/openapi.json)`);
    if ("allowed" in match) return apiError(405, "METHOD_NOT_ALLOWED", `${method} is not allowed here; allowed: ${match.allowed.join(", ")}`, { allow: match.allowed.join(", ") });
    const { route, params } = match;
    // Open routes (health) answer without a token; one that is presented must be right, and
    // then the route may say more (health's details).
    const presented = req.headers.authorization !== undefined;
    if (route.auth || presented) {
      const refused = checkBearer(req, this.config.http.adminToken);
      if (refused) return refused;
    }
    if (route.auth && this.redis.status !== "ready") return apiError(503, "UNAVAILABLE", "Redis is not reachable; try again shortly");
    const okParams = checkParams(url.searchParams, route.query);
    if (!okParams.ok) return fromFailure(okParams);
    let body: unknown;
    if (route.body) {
      const read = await readJson(req);
      if ("error" in read) return read.error;
      body = read.value;
    } else req.resume();
    const actor = this.actor(req);
    return this.withDeadline(route, route.handle({ params, query: url.searchParams, body, actor, authenticated: route.auth || presented }, this.deps), requestId);
  }

  /** Who is acting: X-Mxspool-Actor if given (the CLI sends the user), else "api"; and the client address. */
  private actor(req: http.IncomingMessage): Actor {
    const named = req.headers["x-mxspool-actor"];
    const name = typeof named === "string" && ACTOR.test(named) ? named : "api";
    return { name, ip: req.socket.remoteAddress };
  }

  private withDeadline(route: Route, p: Promise<Reply>, requestId: string): Promise<Reply> {
    const ms = route.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.log.warn({ event: "HTTP_TIMEOUT", requestId, route: `${route.method} ${route.path}`, ms }, "request took too long");
        resolve(apiError(503, "TIMEOUT", `no answer within ${ms / 1000} s (is Redis slow?); the request id is ${requestId}`));
      }, ms);
      p.then((r) => { clearTimeout(t); resolve(r); }, (err) => { clearTimeout(t); reject(err); });
    });
  }

  private send(res: http.ServerResponse, reply: Reply): void {
    const common = { "cache-control": "no-store", "x-content-type-options": "nosniff", ...(reply.headers ?? {}) };
    if ("json" in reply) {
      const text = JSON.stringify(reply.json);
      res.writeHead(reply.status, { ...common, "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
      res.end(res.req.method === "HEAD" ? undefined : text);
    } else if ("text" in reply) {
      res.writeHead(reply.status, { ...common, "content-type": reply.contentType, "content-length": Buffer.byteLength(reply.text) });
      res.end(res.req.method === "HEAD" ? undefined : reply.text);
    } else if (Buffer.isBuffer(reply.bytes)) {
      res.writeHead(reply.status, { ...common, "content-type": reply.contentType, "content-length": reply.bytes.length });
      res.end(res.req.method === "HEAD" ? undefined : reply.bytes);
    } else {
      res.writeHead(reply.status, { ...common, "content-type": reply.contentType });
      if (res.req.method === "HEAD") { res.end(); return; }
      const stream = reply.bytes();
      stream.on("error", (err) => { this.log.error({ event: "HTTP_STREAM_ERROR", err: err.message }, "stream failed mid-response"); res.destroy(); });
      stream.pipe(res);
    }
  }
}

/** The request body as JSON: at most MAX_BODY bytes of application/json. */
async function readJson(req: http.IncomingMessage): Promise<{ value: unknown } | { error: Reply }> {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") { req.resume(); return { error: apiError(415, "UNSUPPORTED_MEDIA_TYPE", "the body must be application/json") }; }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) { req.resume(); return { error: apiError(413, "BODY_TOO_LARGE", `the body may be at most ${MAX_BODY} bytes`) }; }
    chunks.push(chunk as Buffer);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
  } catch {
    return { error: apiError(400, "INVALID_JSON", "the body is not valid JSON") };
  }
}

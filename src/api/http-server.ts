/**
 * The `http` role. For now: GET /api/health (unauthenticated, no message data) with Redis
 * and primary state, 200 when ready and 503 with the reasons otherwise. Errors always use
 * the one shape { "error": { "code", "message" } }.
 */
import http from "node:http";
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { keys } from "../../queues/names.js";
import type { DeliveryQueues } from "../../queues/delivery-queue.js";

export class HttpApi {
  private server?: http.Server;

  constructor(private readonly config: Config, private readonly redis: Redis, private readonly queues: DeliveryQueues, private readonly log: Logger) {}

  private send(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  private async health(): Promise<{ status: number; body: unknown }> {
    const reasons: string[] = [];
    let redisOk = false;
    try { redisOk = (await this.redis.ping()) === "PONG"; } catch { /* reported below */ }
    if (!redisOk) reasons.push("redis: not answering");
    const primaries: Record<string, unknown> = {};
    const queue: Record<string, unknown> = {};
    if (redisOk) {
      for (const domain of Object.keys(this.config.domains)) {
        const h = await this.redis.hgetall(keys.primary(this.config.redis.prefix, domain));
        primaries[domain] = { state: h.state ?? "unknown", since: h.since ? Number(h.since) : null, lastError: h.lastError || null };
        queue[domain] = await this.queues.get(domain).getJobCounts("wait", "active", "delayed", "prioritized", "failed");
      }
    }
    // a primary being down is exactly what mxspool is for: reported, but still ready
    return { status: redisOk ? 200 : 503, body: { status: redisOk ? "ok" : "unavailable", reasons, redis: redisOk ? "up" : "down", primaries, queue } };
  }

  async listen(): Promise<void> {
    this.server = http.createServer((req, res) => {
      void (async () => {
        try {
          const url = new URL(req.url ?? "/", "http://localhost");
          if (req.method === "GET" && url.pathname === "/api/health") {
            const h = await this.health();
            return this.send(res, h.status, h.body);
          }
          this.send(res, 404, { error: { code: "NOT_FOUND", message: `no route ${req.method} ${url.pathname}` } });
        } catch (err) {
          this.log.error({ event: "HTTP_ERROR", err: (err as Error).message }, "http handler failed");
          if (!res.headersSent) this.send(res, 500, { error: { code: "INTERNAL", message: "internal error" } });
        }
      })();
    });
    const i = this.config.http.listen.lastIndexOf(":");
    const host = this.config.http.listen.slice(0, i).replace(/^\[|\]$/g, "");
    const port = Number(this.config.http.listen.slice(i + 1));
    await new Promise<void>((resolve, reject) => { this.server!.once("error", reject); this.server!.listen(port, host, () => resolve()); });
    this.log.info({ event: "HTTP_LISTENING", listen: this.config.http.listen }, "http listening");
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    await new Promise<void>((resolve) => { this.server!.close(() => resolve()); this.server!.closeAllConnections(); });
  }
}

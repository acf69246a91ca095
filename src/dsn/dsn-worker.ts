/**
 * Delivers the queued DSNs: envelope <> → the original sender, through `bounces.relay` when
 * set, otherwise to the MX hosts of the sender's domain (RFC 5321 §5: MX, else the domain's
 * own address), looked up through `dns.servers`. A DSN that cannot be delivered within
 * `bounces.maxLifetime` is dropped and logged: a bounce is never bounced.
 */
import { Resolver } from "node:dns/promises";
import { Worker, type ConnectionOptions, type Job } from "bullmq";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { MessageStore } from "../store/message-store.js";
import { bullPrefix, DSN_QUEUE } from "../../queues/names.js";
import type { DsnJob } from "../../queues/dsn-queue.js";
import { retryDelay } from "../../queues/retry-schedule.js";
import { ConnectionPools, type Endpoint } from "../delivery/connection-pool.js";
import { deliverToPrimary } from "../delivery/deliver-to-primary.js";
import { parseHostPort } from "../config/host-port.js";

export class DsnWorker {
  private worker?: Worker<DsnJob>;
  private readonly pools: ConnectionPools;
  private readonly resolver = new Resolver({ timeout: 5000, tries: 2 });

  constructor(private readonly config: Config, private readonly connection: ConnectionOptions, private readonly store: MessageStore, private readonly log: Logger) {
    const d = config.delivery;
    this.pools = new ConnectionPools({ name: config.hostname, connectTimeout: d.connectTimeout, commandTimeout: d.commandTimeout, idleMs: d.connectionIdle, maxMessages: 100 });
    if (config.dns.servers?.length) this.resolver.setServers(config.dns.servers);
  }

  start(): void {
    this.worker = new Worker<DsnJob>(DSN_QUEUE, (job) => this.process(job), {
      connection: this.connection, prefix: bullPrefix(this.config.redis.prefix), concurrency: 5,
      lockDuration: this.config.delivery.lockDuration, maxStalledCount: 1_000_000,
      settings: { backoffStrategy: (n: number) => retryDelay(n, this.config.delivery.retry) },
    });
    this.worker.on("error", (err) => this.log.error({ event: "WORKER_ERROR", queue: DSN_QUEUE, err: err.message }, "DSN worker error"));
  }

  private async destinations(to: string): Promise<Endpoint[]> {
    if (this.config.bounces.relay) return [parseHostPort(this.config.bounces.relay)];
    const domain = to.slice(to.lastIndexOf("@") + 1).toLowerCase();
    let hosts: string[];
    try {
      hosts = (await this.resolver.resolveMx(domain)).sort((a, b) => a.priority - b.priority).map((r) => r.exchange).filter((h) => h && h !== ".");
    } catch {
      hosts = [domain];
    }
    const eps: Endpoint[] = [];
    for (const h of hosts) {
      try { for (const ip of await this.resolver.resolve4(h)) eps.push({ host: ip, port: 25 }); } catch { /* next host */ }
    }
    return eps;
  }

  private async process(job: Job<DsnJob>): Promise<void> {
    const d = job.data;
    const raw = await this.store.open(d.id);
    if (!raw) { this.log.error({ event: "SPOOL_BODY_MISSING", id: d.id }, "DSN bytes missing"); return; }
    const result = await deliverToPrimary(this.pools.for(await this.destinations(d.to)), { from: "", rcpts: [d.to], raw, body8bit: false });
    const r = result.kind === "attempted" ? result.results[0] : undefined;
    if (r?.outcome === "delivered" || r?.outcome === "permanent") {
      this.log.info({ event: r.outcome === "delivered" ? "DSN_SENT" : "DSN_REFUSED", id: d.about, dsn: d.id, kind: d.kind, to: d.to, reply: r.response }, "DSN delivery finished");
      await this.store.remove(d.id);
      return;
    }
    const why = r ? r.response : result.kind === "unreachable" ? result.error : "unknown";
    if (Date.now() - d.createdAt > this.config.bounces.maxLifetime) {
      this.log.warn({ event: "DSN_EXPIRED", id: d.about, dsn: d.id, to: d.to, reply: why }, "DSN undeliverable; dropped");
      await this.store.remove(d.id);
      return;
    }
    throw new Error(`DSN deferred: ${why}`);
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    this.pools.close();
  }
}

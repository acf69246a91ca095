/**
 * Composes each message's DSN once its failures are gathered (DsnNotifier.collect), and
 * delivers the queued DSNs: envelope <> → the original sender, through `bounces.relay` when
 * set, otherwise to the mail hosts of the sender's domain (PrimaryEndpoints.mailHosts: MX
 * above our own preference, else the domain's own address, IPv4 and IPv6, never one of our
 * listeners), looked up through `dns.servers`. A DSN that cannot be delivered within
 * `bounces.maxLifetime` is dropped and logged: a bounce is never bounced.
 */
import { Worker, type ConnectionOptions, type Job } from "bullmq";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { repeatedErrors } from "../observability/repeated-errors.js";
import type { MessageStore } from "../store/message-store.js";
import { DSN_QUEUE, type Keyspace } from "../redis/keyspace.js";
import { DSN_COLLECT, type DsnCollectJob, type DsnJob } from "../../queues/dsn-queue.js";
import type { DsnNotifier } from "./dsn-notifier.js";
import { retryDelay } from "../../queues/retry-schedule.js";
import { ConnectionPools, type Endpoint } from "../transport/connection-pool.js";
import { sendMessage } from "../transport/send-message.js";
import { parseHostPort } from "../config/host-port.js";
import type { PrimaryEndpoints } from "../transport/primary-endpoints.js";

export class DsnWorker {
  private worker?: Worker<DsnJob | DsnCollectJob>;
  private readonly pools: ConnectionPools;

  constructor(private readonly config: Config, private readonly connection: ConnectionOptions, private readonly keys: Keyspace, private readonly store: MessageStore,
              private readonly endpoints: PrimaryEndpoints, private readonly notifier: DsnNotifier, private readonly log: Logger) {
    const d = config.delivery;
    this.pools = new ConnectionPools({ name: config.hostname, connectTimeout: d.connectTimeout, commandTimeout: d.commandTimeout, idleMs: d.connectionIdle, maxMessages: 100 });
  }

  start(): void {
    this.worker = new Worker<DsnJob | DsnCollectJob>(DSN_QUEUE, (job) => (job.name === DSN_COLLECT ? this.notifier.collect(job.data as DsnCollectJob) : this.process(job as Job<DsnJob>)), {
      connection: this.connection, prefix: this.keys.bullPrefixOf(DSN_QUEUE), concurrency: 5,
      lockDuration: this.config.delivery.lockDuration, maxStalledCount: 1_000_000,
      settings: { backoffStrategy: (n: number) => retryDelay(n, this.config.delivery.retry) },
    });
    this.worker.on("error", (err) => repeatedErrors(this.log).error({ event: "WORKER_ERROR", queue: DSN_QUEUE, err: err.message }, "DSN worker error"));
  }

  /** The bounce relay, or the recipient domain's mail hosts (MX, or the domain itself) on port 25. */
  private async destinations(to: string): Promise<Endpoint[]> {
    if (this.config.bounces.relay) return [parseHostPort(this.config.bounces.relay)];
    const domain = to.slice(to.lastIndexOf("@") + 1).toLowerCase();
    return this.endpoints.mailHosts(domain, 25).catch(() => []); // DNS trouble: unreachable for now, retried
  }

  private async process(job: Job<DsnJob>): Promise<void> {
    const d = job.data;
    const raw = await this.store.open(d.id);
    if (!raw) { this.log.error({ event: "SPOOL_BODY_MISSING", id: d.id }, "DSN bytes missing"); return; }
    const result = await sendMessage(this.pools.for(await this.destinations(d.to)), { from: "", rcpts: [d.to], raw, body8bit: false });
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

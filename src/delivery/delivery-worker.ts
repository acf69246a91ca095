/**
 * The delivery side of one process: a BullMQ Worker per domain queue whose processor
 * delivers one spooled message to the primary and turns the per-recipient results into the
 * job's fate:
 *   - every recipient delivered or permanently refused → done, bytes removed;
 *   - some recipients temporarily refused → only those stay on the job, retried with the
 *     backoff of queues/retry-schedule.ts until maxLifetime;
 *   - primary unreachable → back to waiting without spending an attempt, and the monitor
 *     is asked to probe now (it pauses the queue if the primary is really down).
 */
import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { repeatedErrors } from "../observability/repeated-errors.js";
import type { MessageStore } from "../store/message-store.js";
import type { SpooledMessage } from "../../queues/delivery-queue.js";
import { deliveryQueueName, type Keyspace } from "../redis/keyspace.js";
import { isExpired, retryDelay } from "../../queues/retry-schedule.js";
import { ConnectionPools } from "../transport/connection-pool.js";
import type { DsnNotifier } from "../dsn/dsn-notifier.js";
import type { MessageRecords } from "../store/message-records.js";
import { statusOf } from "../../policies/dsn-policy.js";
import { isBusyReply } from "../../policies/drain-pace.js";
import { PaceGate } from "./pace-gate.js";
import { PaceReporter } from "./pace-reporter.js";
import { sendMessage } from "../transport/send-message.js";
import type { PrimaryEndpoints } from "../transport/primary-endpoints.js";
import { RecipientCache } from "../store/recipient-cache.js";
import { isVerify } from "../../policies/recipients.js";

export class DeliveryWorkers {
  private workers: Worker<SpooledMessage>[] = [];
  private readonly pools: ConnectionPools;
  private readonly gates = new Map<string, PaceGate>();
  private readonly pace: PaceReporter;

  /** `concurrency`: this process's share of delivery.concurrency (see deliveryShare). */
  constructor(private readonly config: Config, private readonly concurrency: number, private readonly connection: ConnectionOptions, private readonly redis: Redis, private readonly keys: Keyspace,
              private readonly store: MessageStore, private readonly records: MessageRecords, private readonly endpoints: PrimaryEndpoints, private readonly dsn: DsnNotifier, private readonly log: Logger) {
    const d = config.delivery;
    this.pace = new PaceReporter(redis, keys);
    this.pools = new ConnectionPools({ name: config.hostname, connectTimeout: d.connectTimeout, commandTimeout: d.commandTimeout, idleMs: d.connectionIdle, maxMessages: d.messagesPerConnection });
  }

  start(): void {
    const d = this.config.delivery;
    this.pace.start();
    for (const domain of Object.keys(this.config.domains)) {
      const gate = new PaceGate(this.redis, this.keys, domain, this.concurrency, d.concurrency);
      gate.start();
      this.gates.set(domain, gate);
      const worker = new Worker<SpooledMessage>(deliveryQueueName(domain), (job, token) => this.process(job, token), {
        connection: this.connection,
        prefix: this.keys.bullPrefix,
        concurrency: this.concurrency,
        limiter: d.ratePerSecond > 0 ? { max: Math.max(1, Math.round(d.ratePerSecond)), duration: 1000 } : undefined,
        lockDuration: d.lockDuration,
        stalledInterval: Math.max(1000, Math.round(d.lockDuration / 2)),
        // a delivery whose process died is always tried again, never failed for stalling
        maxStalledCount: 1_000_000,
        settings: { backoffStrategy: (attemptsMade: number) => retryDelay(attemptsMade, d.retry) },
      });
      worker.on("error", (err) => repeatedErrors(this.log).error({ event: "WORKER_ERROR", domain, err: err.message }, "delivery worker error"));
      this.workers.push(worker);
    }
  }

  private async process(job: Job<SpooledMessage>, token?: string): Promise<unknown> {
    const m = job.data;
    // bytes and record in one round trip; the admin does not act on a message being delivered
    const [raw, record] = await Promise.all([this.store.open(m.id, m.headers, m.size), this.records.get(m.id)]);
    if (!raw) {
      this.log.error({ event: "SPOOL_BODY_MISSING", id: m.id, domain: m.domain }, "message bytes missing from the store");
      throw new UnrecoverableError("message bytes missing from the store");
    }
    const eps = await this.endpoints.resolve(m.domain);
    const gate = this.gates.get(m.domain)!;
    await gate.acquire();
    const started = Date.now();
    let result;
    try {
      result = await sendMessage(this.pools.for(eps), { from: m.from, rcpts: m.rcpts, raw, body8bit: m.body8bit });
    } finally {
      gate.release();
    }
    if (result.kind === "unreachable") {
      this.log.info({ event: "PRIMARY_UNREACHABLE", id: m.id, domain: m.domain, error: result.error }, "primary unreachable; message waits");
      await this.redis.multi().publish(this.keys.probeChannel(), m.domain).hincrby(this.keys.attempts(), "unreachable", 1).exec();
      await job.moveToDelayed(Date.now() + this.config.monitor.interval, token);
      throw new DelayedError();
    }
    const busy = result.results.some((r) => isBusyReply(r.code, r.response));
    this.pace.report(m.domain, busy, Date.now() - started);
    const delivered = result.results.filter((r) => r.outcome === "delivered");
    const failed = result.results.filter((r) => r.outcome === "permanent");
    const deferred = result.results.filter((r) => r.outcome !== "delivered" && r.outcome !== "permanent");
    await this.learn(m.domain, delivered.map((r) => r.rcpt), failed.filter((r) => r.code === 550 || r.code === 551 || r.code === 553).map((r) => r.rcpt));
    for (const r of delivered) this.log.info({ event: "DELIVERED", id: m.id, rcpt: r.rcpt, primary: result.endpoint, reply: r.response, attempt: job.attemptsMade + 1 }, "delivered");
    for (const r of failed) this.log.warn({ event: "BOUNCED", id: m.id, rcpt: r.rcpt, primary: result.endpoint, reply: r.response }, "recipient refused by the primary");
    const expired = deferred.length > 0 && isExpired(m.receivedAt, this.config.delivery.maxLifetime);
    const lastError = deferred.map((r) => `${r.rcpt}: ${r.response}`).join("; ") || undefined;
    await this.records.completeAttempt(m.id, result.endpoint, result.results, {
      retentionMs: this.config.retention.delivered, lastError, expired,
      nextAttempt: deferred.length && !expired ? Date.now() + retryDelay(job.attemptsMade + 1, this.config.delivery.retry, () => 0.5) : undefined,
    }, record);
    const asDsn = (rs: typeof failed, note = "") => rs.map((r) => ({ rcpt: r.rcpt, status: statusOf(r.code, r.response), diagnostic: note + r.response, remoteMta: result.endpoint }));
    await this.dsn.notify("failed", m, asDsn(failed));
    if (deferred.length) {
      if (expired) {
        for (const r of deferred) this.log.warn({ event: "EXPIRED", id: m.id, rcpt: r.rcpt, reply: r.response }, "message too old; giving up");
        await this.dsn.notify("failed", m, asDsn(deferred, "delivery time expired; last reply: "));
        return { delivered: delivered.length, bounced: failed.length + deferred.length };
      }
      for (const r of deferred) this.log.info({ event: "DELIVERY_DEFERRED", id: m.id, rcpt: r.rcpt, reply: r.response }, "deferred");
      await job.updateData({ ...m, rcpts: deferred.map((r) => r.rcpt), lastError });
      throw new Error(`deferred: ${lastError}`);
    }
    // the bytes stay for retention.delivered (re-delivery, webmail); MessageRecords purges them
    return { delivered: delivered.length, bounced: failed.length };
  }

  /** Delivery results keep the recipient cache of `verify` domains fresh for the next outage. */
  private async learn(domain: string, good: string[], bad: string[]): Promise<void> {
    const v = this.config.domains[domain]?.recipients;
    if (!isVerify(v)) return;
    const cache = new RecipientCache(this.redis, this.keys);
    await Promise.all([
      ...good.map((a) => cache.set(domain, a, "ok", v.positiveTtl)),
      ...bad.map((a) => cache.set(domain, a, "bad", v.negativeTtl)),
    ]).catch((err) => this.log.warn({ event: "RCPT_CACHE_WRITE_FAILED", err: (err as Error).message }, "could not record recipient results"));
  }

  /** Waits for the deliveries in progress, then closes the connections to the primaries. */
  async stop(): Promise<void> {
    for (const g of this.gates.values()) g.stop();
    await Promise.all(this.workers.map((w) => w.close()));
    await this.pace.stop();
    this.pools.close();
  }
}

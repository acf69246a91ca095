/**
 * The delivery side of one process: a BullMQ Worker per domain queue whose processor
 * delivers one spooled message to the primary and turns the per-recipient results into the
 * job's fate (what the results mean for the record, the DSNs and the recipient cache is
 * attempt-outcome.ts's job):
 *   - every recipient delivered or permanently refused → done, bytes removed;
 *   - some recipients temporarily refused → only those stay on the job, retried with the
 *     backoff of queues/retry-schedule.ts until maxLifetime;
 *   - primary unreachable → back to waiting without spending an attempt, and the monitor
 *     is asked to probe now (it pauses the queue if the primary is really down).
 * A watchdog replaces a worker that stopped fetching (after a failover, a reconnect).
 */
import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { repeatedErrors } from "../observability/repeated-errors.js";
import type { MessageStore } from "../store/message-store.js";
import type { MessageRecords } from "../store/message-records.js";
import { RecipientCache, RecipientLearning } from "../store/recipient-cache.js";
import type { DeliveryQueues, SpooledMessage } from "../../queues/delivery-queue.js";
import { deliveryQueueName, type Keyspace } from "../redis/keyspace.js";
import { retryDelay } from "../../queues/retry-schedule.js";
import { ConnectionPools } from "../transport/connection-pool.js";
import { sendMessage } from "../transport/send-message.js";
import type { PrimaryEndpoints } from "../transport/primary-endpoints.js";
import type { DsnNotifier } from "../dsn/dsn-notifier.js";
import type { TrafficSeries } from "../observability/traffic-series.js";
import { PaceGate } from "./pace-gate.js";
import { PaceReporter } from "./pace-reporter.js";
import { AttemptOutcomes } from "./attempt-outcome.js";
import { WorkerWatchdog } from "./worker-watchdog.js";

/** How often the watchdog looks for a worker that stopped fetching (two idle checks replace it). */
const WATCHDOG_INTERVAL_MS = 5000;

export class DeliveryWorkers {
  private readonly workers = new Map<string, Worker<SpooledMessage>>();
  private readonly activity = new Map<string, { started: number; inFlight: number }>();
  private watchdog?: WorkerWatchdog;
  private readonly pools: ConnectionPools;
  private readonly gates = new Map<string, PaceGate>();
  private readonly pace: PaceReporter;
  private readonly outcomes: AttemptOutcomes;

  /** `concurrency`: this process's share of delivery.concurrency (see deliveryShare). */
  constructor(private readonly config: Config, private readonly concurrency: number, private readonly connection: ConnectionOptions, private readonly queues: DeliveryQueues, private readonly redis: Redis, private readonly keys: Keyspace,
              private readonly store: MessageStore, private readonly records: MessageRecords, private readonly endpoints: PrimaryEndpoints, private readonly dsn: DsnNotifier, private readonly log: Logger,
              private readonly traffic?: TrafficSeries) {
    const d = config.delivery;
    this.pace = new PaceReporter(redis, keys);
    const learner = new RecipientLearning(new RecipientCache(redis, keys), config.domains);
    this.outcomes = new AttemptOutcomes(config, redis, keys, records, dsn, learner, log, traffic);
    this.pools = new ConnectionPools({ name: config.hostname, connectTimeout: d.connectTimeout, commandTimeout: d.commandTimeout, idleMs: d.connectionIdle, maxMessages: d.messagesPerConnection });
  }

  start(): void {
    const d = this.config.delivery;
    this.pace.start();
    for (const domain of Object.keys(this.config.domains)) {
      const gate = new PaceGate(this.redis, this.keys, domain, this.concurrency, d.concurrency);
      gate.start();
      this.gates.set(domain, gate);
      this.activity.set(domain, { started: 0, inFlight: 0 });
      this.workers.set(domain, this.createWorker(domain));
    }
    // a worker that went silent after a failover or a reconnect is replaced (worker-watchdog.ts)
    this.watchdog = new WorkerWatchdog(Object.keys(this.config.domains).map((domain) => ({
      name: deliveryQueueName(domain),
      queue: this.queues.get(domain),
      worker: () => this.workers.get(domain)!,
      activity: () => { const a = this.activity.get(domain)!; const started = a.started; a.started = 0; return { started, inFlight: a.inFlight }; },
      recreate: async () => {
        const old = this.workers.get(domain)!;
        this.workers.set(domain, this.createWorker(domain));
        await old.close(true).catch(() => undefined);
      },
    })), WATCHDOG_INTERVAL_MS, this.log);
    this.watchdog.start();
  }

  private createWorker(domain: string): Worker<SpooledMessage> {
    const d = this.config.delivery;
    const activity = this.activity.get(domain)!;
    const worker = new Worker<SpooledMessage>(deliveryQueueName(domain), async (job, token) => {
      activity.started++;
      activity.inFlight++;
      try { return await this.process(job, token); } finally { activity.inFlight--; }
    }, {
      connection: this.connection,
      prefix: this.keys.bullPrefixOf(deliveryQueueName(domain)),
      concurrency: this.concurrency,
      limiter: d.ratePerSecond > 0 ? { max: Math.max(1, Math.round(d.ratePerSecond)), duration: 1000 } : undefined,
      lockDuration: d.lockDuration,
      stalledInterval: Math.max(1000, Math.round(d.lockDuration / 2)),
      // a delivery whose process died is always tried again, never failed for stalling
      maxStalledCount: 1_000_000,
      settings: { backoffStrategy: (attemptsMade: number) => retryDelay(attemptsMade, d.retry) },
    });
    worker.on("error", (err) => repeatedErrors(this.log).error({ event: "WORKER_ERROR", domain, err: err.message }, "delivery worker error"));
    return worker;
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
      await this.outcomes.unreachable(m, result.error);
      await job.moveToDelayed(Date.now() + this.config.monitor.interval, token);
      throw new DelayedError();
    }
    this.pace.report(m.domain, result.results, Date.now() - started);
    const fate = await this.outcomes.settle(m, job.attemptsMade, result.endpoint, result.results, record);
    if (fate.retry) {
      await job.updateData({ ...m, rcpts: fate.retry, lastError: fate.lastError });
      throw new Error(`deferred: ${fate.lastError}`);
    }
    // the bytes stay for retention.delivered (re-delivery, webmail); MessageRecords purges them
    return { delivered: fate.delivered, bounced: fate.bounced };
  }

  /** Waits for the deliveries in progress, then closes the connections to the primaries and writes the pending traffic counts. */
  async stop(): Promise<void> {
    this.watchdog?.stop();
    for (const g of this.gates.values()) g.stop();
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    await this.pace.stop();
    this.pools.close();
  }
}

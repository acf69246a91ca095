/**
 * The SMTP and delivery roles: the listeners (SMTP, submission), the acceptor, the content
 * filter and the delivery workers, with their own Redis connections. Each forked process runs
 * one WorkerRoles (startChild in main.ts); with `smtp.processes` resolving to none forked
 * (policies/process-memory.ts: the default on a machine of 1–2 cores) the supervisor runs it
 * itself, which saves a whole node process (~40 MiB of PSS) and costs the crash isolation: an
 * uncaught error then ends mxspool, and the service manager starts it again (no acknowledged
 * message is lost: every 250 is in Redis). Signals and the exit are the owner's: this only
 * starts and stops.
 */
import type { Redis } from "ioredis";
import type { Config } from "./config/schema.js";
import type { Logger } from "./observability/log.js";
import { Keyspace } from "./redis/keyspace.js";
import { bullConnection, connectRedis, readyWithin, type RedisTarget } from "./redis/connection.js";
import { DeliveryQueues } from "../queues/delivery-queue.js";
import { MessageStore } from "./store/message-store.js";
import { MessageAcceptor } from "./ingress/accept-message.js";
import { ConfiguredRecipients } from "./ingress/recipient-directory.js";
import { SmtpIngress } from "./smtp/server.js";
import { DeliveryWorkers } from "./delivery/delivery-worker.js";
import { PrimaryEndpoints } from "./transport/primary-endpoints.js";
import { createContentFilter } from "./filters/create-filter.js";
import type { ContentFilter } from "./filters/content-filter.js";
import { ConnectionLimits } from "./ingress/connection-limits.js";
import { RecipientVerifier } from "./ingress/recipient-verifier.js";
import { BackupGate } from "./ingress/backup-gate.js";
import { RecipientCache } from "./store/recipient-cache.js";
import { RejectCounter } from "./observability/reject-counter.js";
import { configuredTraffic, type TrafficSeries } from "./observability/traffic-series.js";
import { readTls } from "./smtp/tls.js";
import { createDsnQueue } from "../queues/dsn-queue.js";
import { DsnNotifier } from "./dsn/dsn-notifier.js";
import { MessageRecords } from "./store/message-records.js";
import { ScannerReporter } from "./observability/scanner-report.js";
import { startOutboundWorker, type OutboundParts } from "./outbound-wiring.js";
import { EventStore } from "./continuity/event-store.js";
import { repeatedErrors } from "./observability/repeated-errors.js";
import { AlertQueue } from "./alerts/alert-queue.js";
import { listenFailure } from "./start-failure.js";
import { ReplicaAck } from "./redis/replica-ack.js";
import { withDeadline } from "./worker-processes.js";
import { startSubmission } from "./submission/start-submission.js";
import type { SubmissionServer } from "./submission/submission-server.js";

export type Role = "smtp" | "worker" | "http";
export const ALL_ROLES: Role[] = ["smtp", "worker", "http"];

/** What a forked process is told (MXSPOOL_CHILD) and what the supervisor gives one it runs itself. */
export interface WorkerSpec {
  config: Config;
  roles: Role[];
  redis: RedisTarget;
  /** How many run these roles, all processes together (each takes its share of the limits). */
  processes: number;
}

/** A worker process exits at most this long after shutdownGrace. */
export const WORKER_SLACK_MS = 3000;
/** How long the SMTP listener waits for this process's Redis connection before it opens anyway. */
const REDIS_READY_WAIT_MS = 5000;

/**
 * This process's share of delivery.concurrency, so that all processes together never open
 * more connections to a primary than the limit (the BullMQ global concurrency caps jobs too).
 */
export function deliveryShare(concurrency: number, processes: number, index: number): number {
  return Math.floor(concurrency / processes) + (index < concurrency % processes ? 1 : 0);
}

/** Bytes stay at most this long past maxLifetime even if their job was lost. */
export const storeTtl = (c: Config) => c.delivery.maxLifetime + 2 * 86_400_000;

/** The alert queue's connection errors, like the others' (below); returns the queue. */
export function reportAlertQueueErrors(alerts: AlertQueue, log: Logger): AlertQueue {
  alerts.queue.on("error", (err) => repeatedErrors(log).error({ event: "QUEUE_ERROR", queue: "alerts", err: err.message }, "alert queue error"));
  return alerts;
}

/** BullMQ queues report connection errors as "error" events; without a listener they print raw stack traces. */
export function reportQueueErrors(queues: DeliveryQueues, dsnQueue: ReturnType<typeof createDsnQueue>, log: Logger): void {
  for (const d of queues.domains()) queues.get(d).on("error", (err) => repeatedErrors(log).error({ event: "QUEUE_ERROR", queue: d, err: err.message }, "delivery queue error"));
  dsnQueue.on("error", (err) => repeatedErrors(log).error({ event: "QUEUE_ERROR", queue: "dsn", err: err.message }, "DSN queue error"));
}

export class WorkerRoles {
  private stopping = false;
  private listening: Promise<unknown> = Promise.resolve();
  private readonly redis: Redis;
  private readonly ackRedis?: Redis;
  private readonly conn: ReturnType<typeof bullConnection>;
  private readonly keys: Keyspace;
  private readonly queues: DeliveryQueues;
  private readonly dsnQueue: ReturnType<typeof createDsnQueue>;
  private readonly filter?: ContentFilter;
  private readonly scannerReport?: ScannerReporter;
  private recipients?: ConfiguredRecipients;
  private smtp?: SmtpIngress;
  private workers?: DeliveryWorkers;
  private submission?: { server: SubmissionServer; door: OutboundParts };
  private outbound?: { stop(): Promise<void> };
  /** Shared by the listener and the delivery workers; closed once, after both (its last second of counts is in memory). */
  private traffic?: TrafficSeries;

  /** `index`: this one's place among `spec.processes` (its share of delivery.concurrency). */
  constructor(private readonly spec: WorkerSpec, private readonly index: number, private readonly log: Logger) {
    const { config, roles } = spec;
    this.redis = connectRedis(spec.redis, `mxspool-${process.pid}${index ? `-${index}` : ""}`, log);
    const conn = this.conn = bullConnection(spec.redis);
    const keys = this.keys = new Keyspace(config.redis.prefix, Boolean(config.redis.cluster));
    this.queues = new DeliveryQueues(conn, keys, Object.keys(config.domains));
    this.dsnQueue = createDsnQueue(conn, keys);
    reportQueueErrors(this.queues, this.dsnQueue, log);
    this.filter = roles.includes("smtp") ? createContentFilter(config, log) : undefined;
    // the API learns the scanners' health from these reports (it may run in another process)
    this.scannerReport = this.filter ? new ScannerReporter(this.redis, keys, this.filter, log).start() : undefined;
    // its own connection: WAIT blocks it (src/redis/replica-ack.ts)
    this.ackRedis = roles.includes("smtp") && config.redis.minReplicasAcked > 0 ? connectRedis(spec.redis, `mxspool-ack-${process.pid}`, log) : undefined;
  }

  /** Starts listening and delivering; rejects with the listen failure (naming the key) of an address that cannot be had. */
  async start(): Promise<void> {
    const { config, roles } = this.spec;
    const { redis, log, conn, keys } = this;
    const store = new MessageStore(redis, keys, storeTtl(config));
    const records = new MessageRecords(redis, keys);
    const traffic = this.traffic = configuredTraffic(config, redis, keys, log);
    // one DNS cache per process, shared by the RCPT verifier and the delivery workers
    const endpoints = new PrimaryEndpoints(config);
    if (roles.includes("smtp")) {
      this.recipients = new ConfiguredRecipients(config, log);
      this.recipients.watch();
      // one MULTI for a message's bytes, records and jobs once BullMQ's connection is up (it
      // waits for Redis, and the listener must not); until then the jobs go after the MULTI
      void this.queues.joinJobsTo(redis).catch((err: Error) => log.warn({ event: "JOBS_APART", err: err.message }, "delivery jobs are added after each accept's MULTI"));
      const replicaAck = this.ackRedis && new ReplicaAck(this.ackRedis, keys, config.redis.minReplicasAcked, config.redis.replicaAckTimeout);
      const acceptor = new MessageAcceptor(store, this.queues, records, config.hostname, {
        maxMessageSize: config.smtp.maxMessageSize,
        maxHeaderSize: config.smtp.maxHeaderSize, maxLineLength: config.smtp.maxLineLength, maxReceivedHeaders: config.smtp.maxReceivedHeaders,
      }, this.filter, replicaAck);
      this.smtp = new SmtpIngress(config, {
        redisReady: () => redis.status === "ready",
        recipients: this.recipients, acceptor, filter: this.filter,
        limits: new ConnectionLimits(config, redis, keys, this.spec.processes),
        verifier: new RecipientVerifier(config, redis, keys, new RecipientCache(redis, keys), endpoints, log),
        // deferrals are counted and logged (BACKUP_TRAFFIC_DEFERRED); a burst opens a backup-traffic event
        backupGate: Object.values(config.domains).some((d) => d.acceptWhen === "primaryDown") ? new BackupGate(config, redis, keys, log, { events: new EventStore(redis, keys), alerts: reportAlertQueueErrors(new AlertQueue(config, conn, keys), log) }) : undefined,
        rejects: new RejectCounter(redis, keys, traffic),
        traffic,
        tls: readTls(config),
      }, log);
      // READY means accepting: the listener opens once this process's own Redis connection is
      // up (ms after the supervisor's; a MAIL FROM before it got 451 4.3.0), or after
      // REDIS_READY_WAIT_MS with Redis away (then 451 4.3.0 until it is back)
      await readyWithin(redis, REDIS_READY_WAIT_MS);
      if (this.stopping) return;
      await (this.listening = this.smtp.listen().catch((e) => { throw listenFailure(e, "smtp.listen"); }));
      // users' own mail programs (submission.listen / implicitTls), when configured
      const sub = startSubmission(config, { redis, keys, connection: conn, log, filter: this.filter });
      if (sub) { this.submission = sub; await (this.listening = sub.server.listen().catch((e) => { throw listenFailure(e, "submission.listen"); })); }
    }
    if (this.stopping) return;
    const share = deliveryShare(config.delivery.concurrency, this.spec.processes, this.index);
    if (roles.includes("worker") && share > 0) {
      const dsn = new DsnNotifier(config, redis, keys, store, this.dsnQueue, log);
      this.workers = new DeliveryWorkers(config, share, conn, this.queues, redis, keys, store, records, endpoints, dsn, log, traffic);
      this.workers.start();
      // mail users send during an outage (src/outbound/): only when configured
      if (config.outbound.enabled) this.outbound = startOutboundWorker(config, redis, keys, conn, endpoints, log);
    }
  }

  get stopRequested(): boolean { return this.stopping; }

  /** Re-reads the recipient files (SIGHUP). */
  reload(): void { this.recipients?.reload(); }

  /**
   * Sessions in DATA get smtp.shutdownGrace; deliveries in progress that cannot finish (Redis
   * unreachable, a slow primary) are taken over after lockDuration by whichever process runs
   * next, so waiting longer would gain nothing. Resolves whether everything closed in time.
   */
  async stop(): Promise<boolean> {
    if (this.stopping) return true;
    this.stopping = true;
    const grace = this.spec.config.smtp.shutdownGrace;
    await withDeadline(this.listening, 1000); // a stop during start-up: what the listen opens is closed too
    const clean = await withDeadline(Promise.all([this.smtp?.stop(grace), this.workers?.stop(), this.outbound?.stop(), this.submission?.server.stop()]).then(() => this.traffic?.close()), grace + 1000)
      && await withDeadline(Promise.all([this.scannerReport?.stop(), this.filter?.close(), this.queues.close(), this.dsnQueue.close(), this.submission?.door.close()]), WORKER_SLACK_MS - 1000);
    this.recipients?.close();
    this.ackRedis?.disconnect();
    this.redis.disconnect();
    if (!clean) this.log.warn({ event: "SHUTDOWN_FORCED" }, "shutdown did not complete in time (Redis unreachable?); exiting anyway");
    return clean;
  }
}

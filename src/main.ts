/**
 * The composition root. `startPrimary` runs in the process the admin starts: it owns the
 * embedded redis-server (when no redis.url), the primary monitor and the HTTP API, and it
 * forks the SMTP/delivery processes (node:cluster; they share the listen sockets) and
 * restarts any that dies. `startChild` is what each forked process runs.
 *
 * Shutdown order on SIGTERM/SIGINT: children stop taking sessions (421 4.3.2), finish the
 * transactions in DATA and the deliveries in progress, and exit; then the monitor and API
 * stop, then the embedded Redis (which fsyncs its AOF), then exit 0. Every step has a
 * deadline: with Redis unreachable the process is gone within smtp.shutdownGrace + ~10 s,
 * exit 1 (SHUTDOWN_FORCED). A start that fails (an address in use, Redis) stops every child
 * it started, the embedded Redis included, before it throws a StartFailure to the CLI.
 * Start-up and shutdown share one lifecycle (src/lifecycle.ts, created by the CLI before the
 * first step): a SIGTERM in any phase (embedded Redis starting, workers forking, just after
 * READY) aborts the step in progress, stops in reverse order what was started, exit 0.
 */
import cluster from "node:cluster";
import os from "node:os";
import type { Config } from "./config/schema.js";
import { createLogger, type Logger } from "./observability/log.js";
import { startEmbeddedRedis, type EmbeddedRedis } from "./redis/embedded.js";
import { Keyspace } from "./redis/keyspace.js";
import { bullConnection, checkPersistence, configuredTarget, connectRedis, type RedisTarget } from "./redis/connection.js";
import { DeliveryQueues } from "../queues/delivery-queue.js";
import { MessageStore } from "./store/message-store.js";
import { ensureStoreFormat } from "./store/store-format.js";
import { MessageAcceptor } from "./ingress/accept-message.js";
import { ConfiguredRecipients } from "./ingress/recipient-directory.js";
import { SmtpIngress } from "./smtp/server.js";
import { DeliveryWorkers } from "./delivery/delivery-worker.js";
import { PrimaryEndpoints } from "./transport/primary-endpoints.js";
import { PrimaryMonitor } from "./monitor/primary-monitor.js";
import type { HttpApi } from "./api/http-server.js";
import { createContentFilter } from "./filters/create-filter.js";
import { ConnectionLimits } from "./ingress/connection-limits.js";
import { RecipientVerifier } from "./ingress/recipient-verifier.js";
import { BackupGate } from "./ingress/backup-gate.js";
import { RecipientCache } from "./store/recipient-cache.js";
import { RejectCounter } from "./observability/reject-counter.js";
import { configuredTraffic } from "./observability/traffic-series.js";
import { QueueSampler } from "./monitor/queue-sampler.js";
import { BaselineWatch } from "./continuity/baseline-watch.js";
import { ensureTlsFiles, readTls, tlsFiles } from "./smtp/tls.js";
import { createDsnQueue } from "../queues/dsn-queue.js";
import { DsnNotifier } from "./dsn/dsn-notifier.js";
import { DsnWorker } from "./dsn/dsn-worker.js";
import { QueueSweeper } from "./delivery/queue-sweeper.js";
import { MessageRecords } from "./store/message-records.js";
import { ScannerReporter } from "./observability/scanner-report.js";
import { createOutbound, startOutboundWorker, type OutboundParts } from "./outbound-wiring.js";
import { DkimSigner } from "./outbound/dkim-signer.js";
import { DrainPacer } from "./monitor/drain-pacer.js";
import { EventStore } from "./continuity/event-store.js";
import { OutageTracker } from "./continuity/outage-tracker.js";
import { FingerprintRecorder } from "./monitor/fingerprint-recorder.js";
import { ConditionWatch } from "./continuity/condition-watch.js";
import { repeatedErrors } from "./observability/repeated-errors.js";
import { AlertQueue } from "./alerts/alert-queue.js";
import { AlertWorker } from "./alerts/alert-worker.js";
import { listenFailure, startFailure } from "./start-failure.js";
import { ReplicaAck } from "./redis/replica-ack.js";
import { Lifecycle } from "./lifecycle.js";
import { WorkerProcesses, withDeadline } from "./worker-processes.js";
import { defaultProcessCount } from "../policies/process-memory.js";
import type { Redis } from "ioredis";
import { startSubmission } from "./submission/start-submission.js";
import type { SubmissionServer } from "./submission/submission-server.js";

export type Role = "smtp" | "worker" | "http";
export const ALL_ROLES: Role[] = ["smtp", "worker", "http"];

interface ChildSpec { config: Config; roles: Role[]; redis: RedisTarget; processes: number }

/**
 * This process's share of delivery.concurrency, so that all processes together never open
 * more connections to a primary than the limit (the BullMQ global concurrency caps jobs too).
 */
export function deliveryShare(concurrency: number, processes: number, index: number): number {
  return Math.floor(concurrency / processes) + (index < concurrency % processes ? 1 : 0);
}

/** Bytes stay at most this long past maxLifetime even if their job was lost. */
const storeTtl = (c: Config) => c.delivery.maxLifetime + 2 * 86_400_000;

export async function startPrimary(config: Config, roles: Role[], lifecycle = Lifecycle.withSignals()): Promise<void> {
  const log = createLogger(config.log.level, { role: "primary" }, config.log.format);
  const keys = new Keyspace(config.redis.prefix, Boolean(config.redis.cluster));
  const grace = config.smtp.shutdownGrace;
  let embedded: EmbeddedRedis | undefined;
  let redis: Redis | undefined;
  let queues: DeliveryQueues | undefined;
  let dsnQueue: ReturnType<typeof createDsnQueue> | undefined;
  let monitor: PrimaryMonitor | undefined;
  let sweeper: QueueSweeper | undefined;
  let pacer: DrainPacer | undefined;
  let sampler: QueueSampler | undefined;
  let outages: OutageTracker | undefined;
  let conditions: ConditionWatch | undefined;
  let baselines: BaselineWatch | undefined;
  let dsnWorker: DsnWorker | undefined;
  let alerts: AlertQueue | undefined;
  let alertWorker: AlertWorker | undefined;
  let events: EventStore | undefined;
  let api: HttpApi | undefined;
  let processes: WorkerProcesses | undefined;
  let door: OutboundParts | undefined;

  /** Everything this process started, in order; resolves whether the Redis-bound parts closed in time. */
  const stopAll = async (childrenMs: number): Promise<boolean> => {
    const childrenClean = await (processes?.stop(childrenMs) ?? true);
    pacer?.stop();
    sampler?.stop();
    // with Redis unreachable these never finish; the queue state is in Redis, nothing is lost by not waiting
    const clean = await withDeadline(Promise.all([monitor?.stop(), outages?.stop(), conditions?.stop(), baselines?.stop(), sweeper?.stop(), dsnWorker?.stop(), alertWorker?.stop(), api?.stop(), queues?.close(), dsnQueue?.close(), alerts?.close(), door?.close()]), PARTS_CLOSE_MS);
    redis?.disconnect();
    await embedded?.stop();
    repeatedErrors(log).flush();
    return childrenClean && clean;
  };

  const childRoles = roles.filter((r) => r !== "http");
  const n = config.smtp.processes || defaultProcessCount(os.availableParallelism());
  // SIGHUP to the supervisor reloads the recipient files in every worker process
  process.on("SIGHUP", () => processes?.signal("SIGHUP"));

  // every await below is a lifecycle step: a stop requested meanwhile abandons it (StopRequested)
  const step = <T>(p: Promise<T>) => lifecycle.step(p);
  const starting = (async () => {
    // a DKIM key that cannot sign fails the start here, naming the domain, not each worker process
    if (config.outbound.enabled) new DkimSigner(config);
    let target = configuredTarget(config.redis);
    if (!target) {
      // not a `step`: it stops the redis-server it spawned itself when the stop comes
      embedded = await startEmbeddedRedis(config.dataDir, log, undefined, lifecycle.signal);
      target = { path: embedded.socketPath };
    }
    redis = connectRedis(target, "mxspool-primary", log);
    await step(checkPersistence(redis, log));
    // an older spool is migrated, a newer one refused, before any process reads it (store-format.ts)
    await step(ensureStoreFormat(redis, keys, log));
    if (roles.includes("smtp") && ensureTlsFiles(config).generated) {
      log.info({ event: "TLS_CERT_GENERATED", dir: config.dataDir }, "generated a self-signed STARTTLS certificate");
    }
    queues = new DeliveryQueues(bullConnection(target), keys, Object.keys(config.domains));
    dsnQueue = createDsnQueue(bullConnection(target), keys);
    reportQueueErrors(queues, dsnQueue, log);
    // the continuity's AlertSink (where `noAlerts` stood): transitions become durable alert jobs
    alerts = new AlertQueue(config, bullConnection(target), keys);
    reportAlertQueueErrors(alerts, log);
    if (roles.includes("worker")) {
      // one DNS cache per process: the monitor's fresh answers serve the DSN worker too
      const endpoints = new PrimaryEndpoints(config);
      monitor = new PrimaryMonitor(config, redis, keys, connectRedis(target, "mxspool-monitor", log), queues, endpoints, log);
      pacer = new DrainPacer(config, redis, keys, queues, log);
      await step(pacer.start());
      monitor.onUp = (domain) => pacer!.restart(domain);
      // continuity events: outages from the monitor's decisions, conditions on a timer; each transition one node wins becomes a durable alert
      events = new EventStore(redis, keys);
      outages = new OutageTracker(config, redis, keys, events, queues, alerts, log);
      monitor.outages = outages;
      if (config.monitor.fingerprint) monitor.fingerprints = new FingerprintRecorder(config, redis, keys, events, alerts, log);
      await step(monitor.start());
      outages.start();
      conditions = new ConditionWatch(config, redis, keys, events, alerts, log, roles.includes("smtp") ? tlsFiles(config).cert : undefined);
      conditions.start();
      // the queue depth per domain into the traffic series (a bucket keeps its largest sample)
      const traffic = configuredTraffic(config, redis, keys, log);
      sampler = new QueueSampler(queues, traffic, config.baselines.queueSample, log).start();
      // the learned baselines judge each complete bucket of the traffic series (one node per domain and bucket)
      baselines = new BaselineWatch(config, redis, keys, traffic, events, alerts, log);
      baselines.start();
      const store = new MessageStore(redis, keys, storeTtl(config));
      const notifier = new DsnNotifier(config, redis, keys, store, dsnQueue, log);
      sweeper = new QueueSweeper(config, redis, keys, queues, new MessageRecords(redis, keys), notifier, log);
      sweeper.start();
      dsnWorker = new DsnWorker(config, bullConnection(target), keys, store, endpoints, notifier, log);
      dsnWorker.start();
      // out of band: webhooks and the alert relay, never the primaries; reminders read the event store
      alertWorker = new AlertWorker(config, bullConnection(target), redis, keys, alerts, events, log);
      alertWorker.start();
    }
    if (roles.includes("http")) {
      // loaded here, not at the top: the forked SMTP/delivery processes import this file too and
      // need neither the API nor the webmail's parsers (~10 MiB of heap each)
      const { HttpApi } = await import("./api/http-server.js");
      const { Webmail } = await import("./webmail/webmail.js");
      const records = new MessageRecords(redis, keys);
      const webStore = new MessageStore(redis, keys, storeTtl(config));
      // webmail compose sends through the outbound door (only when outbound is on)
      door = config.webmail.enabled && config.outbound.enabled ? createOutbound(config, redis, keys, bullConnection(target), log) : undefined;
      const webmail = config.webmail.enabled ? new Webmail(config, redis, keys, records, webStore, log, door?.submitter) : undefined;
      api = new HttpApi(config, redis, keys, queues, log, webmail, alerts);
      await step(api.listen().catch((err) => { throw listenFailure(err, "http.listen"); }));
    }

    const spec: ChildSpec = { config, roles: childRoles, redis: target, processes: n };
    processes = new WorkerProcesses(childRoles.length ? n : 0, (index) => ({ MXSPOOL_CHILD: JSON.stringify(spec), MXSPOOL_CHILD_INDEX: String(index) }), lifecycle, log);
    await step(processes.start());
  })();
  // registered after `starting` exists (a signal is only handled once this synchronous code is done)
  lifecycle.onStop(async (signal, action) => {
    log.info({ event: "SHUTDOWN", signal, during: action === "abort-start" ? "start" : "run" }, "shutting down");
    // a backstop: whatever hangs, the process is gone shutdownGrace + a few seconds after the signal
    setTimeout(() => {
      log.warn({ event: "SHUTDOWN_FORCED" }, "shutdown did not complete in time; exiting anyway");
      processes?.killAll();
      embedded?.kill();
      process.exit(1);
    }, grace + CHILD_SLACK_MS + CHILD_WAIT_MS + PARTS_CLOSE_MS + STEP_ABORT_MS + 2000).unref();
    // during start-up: the step in progress ends first (the embedded Redis stops itself), so that what it started is stopped too
    await withDeadline(starting, STEP_ABORT_MS);
    const clean = await stopAll(grace + CHILD_SLACK_MS + CHILD_WAIT_MS);
    if (!clean) log.warn({ event: "SHUTDOWN_FORCED" }, "Redis did not answer during shutdown; stopped without waiting for it");
    lifecycle.dispatch("stop-done");
    log.info({ event: "STOPPED" }, "mxspool stopped");
    process.exit(clean ? 0 : 1);
  });
  try {
    await starting;
  } catch (err) {
    if (lifecycle.stopRequested) return; // not a failed start: the stop above stops what started, and exits
    // stop whatever started: an embedded redis-server left running would hold dataDir's socket
    const failure = startFailure(err);
    lifecycle.dispatch("start-failed");
    log.error({ event: "START_FAILED", ...failure.fields, err: failure.message }, `mxspool cannot start: ${failure.message}`);
    await stopAll(CHILD_WAIT_MS);
    throw failure;
  }
  if (lifecycle.dispatch("started") === "log-ready") log.info({ event: "READY", processes: childRoles.length ? n : 0, roles }, "mxspool ready");
}

export async function startChild(): Promise<void> {
  const spec = JSON.parse(process.env.MXSPOOL_CHILD!) as ChildSpec;
  const { config, roles } = spec;
  const log: Logger = createLogger(config.log.level, { role: roles.join("+") }, config.log.format);
  const redis = connectRedis(spec.redis, `mxspool-${process.pid}`, log);
  const conn = bullConnection(spec.redis);
  const keys = new Keyspace(config.redis.prefix, Boolean(config.redis.cluster));
  const store = new MessageStore(redis, keys, storeTtl(config));
  const queues = new DeliveryQueues(conn, keys, Object.keys(config.domains));
  const dsnQueue = createDsnQueue(conn, keys);
  reportQueueErrors(queues, dsnQueue, log);
  const records = new MessageRecords(redis, keys);
  const traffic = configuredTraffic(config, redis, keys, log);
  // one DNS cache per process, shared by the RCPT verifier and the delivery workers
  const endpoints = new PrimaryEndpoints(config);
  let smtp: SmtpIngress | undefined;
  const filter = roles.includes("smtp") ? createContentFilter(config, log) : undefined;
  // the API runs in the supervisor: it learns the scanners' health from these reports
  const scannerReport = filter ? new ScannerReporter(redis, keys, filter, log).start() : undefined;
  let recipients: ConfiguredRecipients | undefined;
  // its own connection: WAIT blocks it (src/redis/replica-ack.ts)
  const ackRedis = roles.includes("smtp") && config.redis.minReplicasAcked > 0 ? connectRedis(spec.redis, `mxspool-ack-${process.pid}`, log) : undefined;
  const replicaAck = ackRedis && new ReplicaAck(ackRedis, keys, config.redis.minReplicasAcked, config.redis.replicaAckTimeout);
  // installed before the first await: a stop while this process starts is honoured (the
  // supervisor sends SIGTERM to a process that has not said "ready" yet)
  let stopping = false;
  let listening: Promise<unknown> = Promise.resolve();
  let workers: DeliveryWorkers | undefined;
  let submission: { server: SubmissionServer; door: OutboundParts } | undefined;
  let outbound: { stop(): Promise<void> } | undefined;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    const grace = config.smtp.shutdownGrace;
    await withDeadline(listening, 1000); // a stop during start-up: what the listen opens is closed too
    // sessions in DATA get the grace; deliveries in progress that cannot finish (Redis
    // unreachable, a slow primary) are taken over after lockDuration by whichever process
    // runs next, so waiting longer would gain nothing
    const clean = await withDeadline(Promise.all([smtp?.stop(grace), workers?.stop(), outbound?.stop(), submission?.server.stop()]), grace + 1000)
      && await withDeadline(Promise.all([scannerReport?.stop(), filter?.close(), queues.close(), dsnQueue.close(), submission?.door.close()]), CHILD_SLACK_MS - 1000);
    recipients?.close();
    ackRedis?.disconnect();
    redis.disconnect();
    repeatedErrors(log).flush();
    if (!clean) log.warn({ event: "SHUTDOWN_FORCED" }, "shutdown did not complete in time (Redis unreachable?); exiting anyway");
    process.exit(clean ? 0 : 1);
  };
  process.on("message", (m: { type?: string }) => { if (m?.type === "shutdown") void shutdown(); });
  process.on("SIGTERM", () => void shutdown());
  process.on("SIGINT", () => void shutdown());

  if (roles.includes("smtp")) {
    recipients = new ConfiguredRecipients(config, log);
    recipients.watch();
    const acceptor = new MessageAcceptor(store, queues, records, config.hostname, {
      maxMessageSize: config.smtp.maxMessageSize,
      maxHeaderSize: config.smtp.maxHeaderSize, maxLineLength: config.smtp.maxLineLength, maxReceivedHeaders: config.smtp.maxReceivedHeaders,
    }, filter, replicaAck);
    smtp = new SmtpIngress(config, {
      redisReady: () => redis.status === "ready",
      recipients, acceptor, filter,
      limits: new ConnectionLimits(config, redis, keys, spec.processes),
      verifier: new RecipientVerifier(config, redis, keys, new RecipientCache(redis, keys), endpoints, log),
      // deferrals are counted and logged (BACKUP_TRAFFIC_DEFERRED); a burst opens a backup-traffic event
      backupGate: Object.values(config.domains).some((d) => d.acceptWhen === "primaryDown") ? new BackupGate(config, redis, keys, log, { events: new EventStore(redis, keys), alerts: reportAlertQueueErrors(new AlertQueue(config, conn, keys), log) }) : undefined,
      rejects: new RejectCounter(redis, keys, traffic),
      traffic,
      tls: readTls(config),
    }, log);
    try {
      await (listening = smtp.listen());
      // users' own mail programs (submission.listen / implicitTls), when configured
      const sub = startSubmission(config, { redis, keys, connection: conn, log, filter });
      if (sub) { submission = sub; await (listening = sub.server.listen().catch((e) => { throw listenFailure(e, "submission.listen"); })); }
    } catch (err) {
      if (stopping) return;
      // the supervisor says why, stops the others and its embedded Redis, and exits
      const failure = startFailure(listenFailure(err, "smtp.listen"));
      process.send?.({ type: "start-failed", message: failure.message, fields: failure.fields, exitCode: failure.exitCode }, () => process.exit(failure.exitCode));
      return;
    }
    process.on("SIGHUP", () => recipients?.reload());
  }
  if (stopping) return;
  const share = deliveryShare(config.delivery.concurrency, spec.processes, Number(process.env.MXSPOOL_CHILD_INDEX ?? 0));
  if (roles.includes("worker") && share > 0) {
    const dsn = new DsnNotifier(config, redis, keys, store, dsnQueue, log);
    workers = new DeliveryWorkers(config, share, conn, queues, redis, keys, store, records, endpoints, dsn, log, traffic);
    workers.start();
    // mail users send during an outage (src/outbound/): only when configured
    if (config.outbound.enabled) outbound = startOutboundWorker(config, redis, keys, conn, endpoints, log);
  }
  process.send?.({ type: "ready" });
}

export const isChild = () => cluster.isWorker;

/** A worker process exits at most this long after shutdownGrace (see startChild's shutdown). */
const CHILD_SLACK_MS = 3000;
/** How much longer the supervisor waits for a worker process before SIGKILL. */
const CHILD_WAIT_MS = 2000;
/** How long the supervisor's own Redis-bound parts may take to close. */
const PARTS_CLOSE_MS = 3000;
/** How long a start step in progress may take to end after a stop was requested (the embedded Redis stopping itself). */
const STEP_ABORT_MS = 3000;

/** The alert queue's connection errors, like the others' (below); returns the queue. */
function reportAlertQueueErrors(alerts: AlertQueue, log: Logger): AlertQueue {
  alerts.queue.on("error", (err) => repeatedErrors(log).error({ event: "QUEUE_ERROR", queue: "alerts", err: err.message }, "alert queue error"));
  return alerts;
}

/** BullMQ queues report connection errors as "error" events; without a listener they print raw stack traces. */
function reportQueueErrors(queues: DeliveryQueues, dsnQueue: ReturnType<typeof createDsnQueue>, log: Logger): void {
  for (const d of queues.domains()) queues.get(d).on("error", (err) => repeatedErrors(log).error({ event: "QUEUE_ERROR", queue: d, err: err.message }, "delivery queue error"));
  dsnQueue.on("error", (err) => repeatedErrors(log).error({ event: "QUEUE_ERROR", queue: "dsn", err: err.message }, "DSN queue error"));
}

/**
 * The composition root. `startPrimary` runs in the process the admin starts: it owns the
 * embedded redis-server (when no redis.url), the primary monitor and the HTTP API, and it
 * forks the SMTP/delivery processes (node:cluster; they share the listen sockets) and
 * restarts any that dies — or, when `smtp.processes` resolves to none (the default on 1–2
 * cores), runs those roles itself (src/worker-roles.ts). `startChild` is what each forked
 * process runs.
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
import { AofCompactor } from "./redis/aof-compaction.js";
import { Keyspace } from "./redis/keyspace.js";
import { bullConnection, checkPersistence, configuredTarget, connectRedis } from "./redis/connection.js";
import { DeliveryQueues } from "../queues/delivery-queue.js";
import { MessageStore } from "./store/message-store.js";
import { ensureStoreFormat } from "./store/store-format.js";
import { PrimaryEndpoints } from "./transport/primary-endpoints.js";
import { PrimaryMonitor } from "./monitor/primary-monitor.js";
import type { HttpApi } from "./api/http-server.js";
import { configuredTraffic } from "./observability/traffic-series.js";
import { QueueSampler } from "./monitor/queue-sampler.js";
import { BaselineWatch } from "./continuity/baseline-watch.js";
import { ensureTlsFiles, tlsFiles } from "./smtp/tls.js";
import { createDsnQueue } from "../queues/dsn-queue.js";
import { DsnNotifier } from "./dsn/dsn-notifier.js";
import { DsnWorker } from "./dsn/dsn-worker.js";
import { QueueSweeper } from "./delivery/queue-sweeper.js";
import { MessageRecords } from "./store/message-records.js";
import { createOutbound, type OutboundParts } from "./outbound-wiring.js";
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
import { Lifecycle } from "./lifecycle.js";
import { WorkerProcesses, withDeadline } from "./worker-processes.js";
import { forkedProcessCount } from "../policies/process-memory.js";
import { reportAlertQueueErrors, reportQueueErrors, storeTtl, WORKER_SLACK_MS, WorkerRoles, type Role, type WorkerSpec } from "./worker-roles.js";
import type { Redis } from "ioredis";

export { ALL_ROLES, deliveryShare, type Role } from "./worker-roles.js";

export async function startPrimary(config: Config, roles: Role[], lifecycle = Lifecycle.withSignals()): Promise<void> {
  const rootLog = createLogger(config.log.level, {}, config.log.format);
  const log = rootLog.child({ role: "primary" });
  const keys = new Keyspace(config.redis.prefix, Boolean(config.redis.cluster));
  const grace = config.smtp.shutdownGrace;
  let embedded: EmbeddedRedis | undefined;
  let redis: Redis | undefined;
  let compactor: AofCompactor | undefined;
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
  let inProcess: WorkerRoles | undefined;
  let door: OutboundParts | undefined;

  /** Everything this process started, in order; resolves whether the Redis-bound parts closed in time. */
  const stopAll = async (childrenMs: number): Promise<boolean> => {
    const childrenClean = await (processes?.stop(childrenMs) ?? true) && await (inProcess?.stop() ?? true);
    pacer?.stop();
    sampler?.stop();
    compactor?.stop();
    // with Redis unreachable these never finish; the queue state is in Redis, nothing is lost by not waiting
    // the parts first, then the queues they use (a probe in flight asks its queue whether it is paused)
    const clean = await withDeadline(Promise.all([monitor?.stop(), outages?.stop(), conditions?.stop(), baselines?.stop(), sweeper?.stop(), dsnWorker?.stop(), alertWorker?.stop(), api?.stop()])
      .then(() => Promise.all([queues?.close(), dsnQueue?.close(), alerts?.close(), door?.close()])), PARTS_CLOSE_MS);
    redis?.disconnect();
    await embedded?.stop();
    repeatedErrors(log).flush();
    return childrenClean && clean;
  };

  const childRoles = roles.filter((r) => r !== "http");
  const forked = childRoles.length ? forkedProcessCount(config.smtp.processes, os.availableParallelism()) : 0;
  // SIGHUP to the supervisor reloads the recipient files in every worker process
  process.on("SIGHUP", () => { processes?.signal("SIGHUP"); inProcess?.reload(); });

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
    if (embedded) compactor = new AofCompactor(redis, log).start();
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

    if (forked > 0) {
      const spec: WorkerSpec = { config, roles: childRoles, redis: target, processes: forked };
      processes = new WorkerProcesses(forked, (index) => ({ MXSPOOL_CHILD: JSON.stringify(spec), MXSPOOL_CHILD_INDEX: String(index) }), lifecycle, log);
      await step(processes.start());
    } else if (childRoles.length) {
      // none forked (smtp.processes): this process runs the SMTP and delivery roles itself
      inProcess = new WorkerRoles({ config, roles: childRoles, redis: target, processes: 1 }, 0, rootLog.child({ role: childRoles.join("+") }));
      await step(inProcess.start());
    }
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
    }, grace + WORKER_SLACK_MS + CHILD_WAIT_MS + PARTS_CLOSE_MS + STEP_ABORT_MS + 2000).unref();
    // during start-up: the step in progress ends first (the embedded Redis stops itself), so that what it started is stopped too
    await withDeadline(starting, STEP_ABORT_MS);
    const clean = await stopAll(grace + WORKER_SLACK_MS + CHILD_WAIT_MS);
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
  if (lifecycle.dispatch("started") === "log-ready") log.info({ event: "READY", processes: forked, inProcess: Boolean(inProcess), roles }, "mxspool ready");
}

export async function startChild(): Promise<void> {
  const spec = JSON.parse(process.env.MXSPOOL_CHILD!) as WorkerSpec;
  const log: Logger = createLogger(spec.config.log.level, { role: spec.roles.join("+") }, spec.config.log.format);
  const worker = new WorkerRoles(spec, Number(process.env.MXSPOOL_CHILD_INDEX ?? 0), log);
  // installed before the first await: a stop while this process starts is honoured (the
  // supervisor sends SIGTERM to a process that has not said "ready" yet)
  const shutdown = async () => {
    if (worker.stopRequested) return;
    const clean = await worker.stop();
    repeatedErrors(log).flush();
    process.exit(clean ? 0 : 1);
  };
  process.on("message", (m: { type?: string }) => { if (m?.type === "shutdown") void shutdown(); });
  process.on("SIGTERM", () => void shutdown());
  process.on("SIGINT", () => void shutdown());
  process.on("SIGHUP", () => worker.reload());
  try {
    await worker.start();
  } catch (err) {
    if (worker.stopRequested) return;
    // the supervisor says why, stops the others and its embedded Redis, and exits
    const failure = startFailure(err);
    process.send?.({ type: "start-failed", message: failure.message, fields: failure.fields, exitCode: failure.exitCode }, () => process.exit(failure.exitCode));
    return;
  }
  if (!worker.stopRequested) process.send?.({ type: "ready" });
}

export const isChild = () => cluster.isWorker;

/** How much longer the supervisor waits for a worker process before SIGKILL. */
const CHILD_WAIT_MS = 2000;
/** How long the supervisor's own Redis-bound parts may take to close. */
const PARTS_CLOSE_MS = 3000;
/** How long a start step in progress may take to end after a stop was requested (the embedded Redis stopping itself). */
const STEP_ABORT_MS = 3000;

/**
 * How every part of mxspool reaches Redis: one descriptor (URL, unix socket, Sentinel
 * addresses and a master name, or Redis Cluster seed nodes) turned into ioredis clients — one
 * factory (connectRedis, bullConnection) picks single, Sentinel or Cluster — and a start-up check that warns loudly when the Redis we are given would
 * lose the queue on restart (no AOF and no RDB snapshots).
 */
import { Cluster, Redis, SentinelConnector, type ClusterOptions, type RedisOptions, type SentinelConnectionOptions } from "ioredis";
import type { ConnectionOptions } from "bullmq";
import type { Logger } from "../observability/log.js";
import { repeatedErrors } from "../observability/repeated-errors.js";
import type { Config } from "../config/schema.js";
import { parseHostPort } from "../config/host-port.js";

export interface SentinelTarget {
  sentinels: { host: string; port: number }[];
  name: string;
  username?: string;
  password?: string;
  tls?: boolean;
  sentinelUsername?: string;
  sentinelPassword?: string;
  sentinelTls?: boolean;
}

/** Redis Cluster: the seed nodes (the rest of the cluster is learnt from CLUSTER SLOTS). */
export interface ClusterTarget {
  cluster: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls?: boolean;
}

/** Plain data: it travels to the forked processes as JSON. */
export type RedisTarget = { url: string } | { path: string } | SentinelTarget | ClusterTarget;

export const isClusterTarget = (t: RedisTarget): t is ClusterTarget => "cluster" in t;

/** The configured Redis; undefined when mxspool is to start its own (no url, no sentinels). */
export function configuredTarget(r: Config["redis"]): RedisTarget | undefined {
  if (r.url) return { url: r.url };
  if (r.cluster) return { cluster: r.cluster.map(parseHostPort), username: r.username, password: r.password, tls: r.tls };
  if (!r.sentinels) return undefined;
  return {
    sentinels: r.sentinels.map(parseHostPort), name: r.name, username: r.username, password: r.password, tls: r.tls,
    sentinelUsername: r.sentinelUsername, sentinelPassword: r.sentinelPassword, sentinelTls: r.sentinelTls,
  };
}

/**
 * A master that was demoted (an old master back as a replica) answers writes with READONLY:
 * reconnect, which asks the sentinels for the master again, and resend the command.
 */
const reconnectOnReadonly = (err: Error) => (err.message.startsWith("READONLY") ? 2 : false);

const SWITCH_MASTER = "+switch-master";

/**
 * Reconnects at once when the sentinels announce a new master (+switch-master), as ioredis's
 * own `failoverDetector` does, but without its flaw: that detector calls the connector's
 * disconnect(), which also cancels a connect in progress — a client that was asking a sentinel
 * for the master at that moment (the old master being dead) rejected "Connection is closed."
 * and ioredis left it in status "end" for good: no retry, every command refused (issue 16; 12 of
 * 40 clients in one failover). This one only destroys the stream it watched: the client's
 * retryStrategy then asks the sentinels again. Used for our clients and BullMQ's (the option
 * travels with the connection options and with duplicate()).
 */
export class SwitchWatchingSentinelConnector extends SentinelConnector {
  private watchers: Redis[] = [];

  constructor(private readonly opts: SentinelConnectionOptions) { super(opts); }

  override async connect(emit: Parameters<SentinelConnector["connect"]>[0]): ReturnType<SentinelConnector["connect"]> {
    const stream = await super.connect(emit);
    stream.once(this.opts.enableTLSForSentinelMode && this.opts.tls ? "secureConnect" : "connect", () => this.watch(stream));
    return stream;
  }

  override disconnect(): void {
    this.unwatch();
    super.disconnect();
  }

  private watch(stream: { destroy(): void }): void {
    this.unwatch();
    for (const s of this.opts.sentinels ?? []) {
      const c = new Redis({
        host: s.host, port: s.port ?? 26379, family: s.family,
        username: this.opts.sentinelUsername, password: this.opts.sentinelPassword, tls: this.opts.sentinelTLS,
        enableReadyCheck: false, connectTimeout: this.opts.connectTimeout, retryStrategy: (n) => Math.min(n * 500, 5000),
      });
      c.on("error", () => { /* a sentinel down: the others still announce */ });
      c.on("message", (channel: string, msg: string) => {
        if (channel !== SWITCH_MASTER || !msg.startsWith(`${this.opts.name} `)) return;
        this.unwatch();
        stream.destroy();
      });
      c.subscribe(SWITCH_MASTER).catch(() => undefined);
      this.watchers.push(c);
    }
  }

  private unwatch(): void {
    for (const c of this.watchers) c.disconnect();
    this.watchers = [];
  }
}

export function redisOptions(target: Exclude<RedisTarget, ClusterTarget>): RedisOptions {
  const base: RedisOptions = {
    // BullMQ requires this for its blocking connections; our own commands wait for Redis
    // to come back rather than failing a message in the middle of its 250.
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectTimeout: 10_000,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  };
  if ("path" in target) return { ...base, path: target.path };
  if ("sentinels" in target) {
    return {
      ...base,
      sentinels: target.sentinels,
      name: target.name,
      username: target.username,
      password: target.password,
      // ioredis: `tls` with enableTLSForSentinelMode is TLS to the master and replicas the
      // sentinels name; sentinelTLS is TLS to the sentinels themselves
      tls: target.tls ? {} : undefined,
      enableTLSForSentinelMode: target.tls,
      sentinelUsername: target.sentinelUsername,
      sentinelPassword: target.sentinelPassword,
      sentinelTLS: target.sentinelTls ? {} : undefined,
      // the sentinels announce +switch-master: reconnect to the new master at once rather than
      // after the old connection times out (not ioredis's failoverDetector: see the class)
      Connector: SwitchWatchingSentinelConnector as unknown as RedisOptions["Connector"],
      failoverDetector: false,
      sentinelRetryStrategy: (times) => Math.min(times * 100, 1000),
      // a frozen sentinel (host stopped, not closed) would hold a reconnect forever: ask the next
      sentinelCommandTimeout: 2000,
      reconnectOnError: reconnectOnReadonly,
    };
  }
  const u = new URL(target.url);
  return {
    ...base,
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === "rediss:" ? {} : undefined,
    reconnectOnError: reconnectOnReadonly,
  };
}

/**
 * ioredis Cluster options: every node connection gets the same retry/ready settings as a single
 * Redis; MOVED/ASK are followed by ioredis, a failover's CLUSTERDOWN/TRYAGAIN retried.
 * Pipelines and MULTIs must keep to one slot (the Keyspace's hash tags make sure they do).
 */
export function clusterOptions(target: ClusterTarget): ClusterOptions {
  return {
    redisOptions: {
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      connectTimeout: 10_000,
      username: target.username,
      password: target.password,
      tls: target.tls ? {} : undefined,
    },
    clusterRetryStrategy: (times) => Math.min(times * 100, 2000),
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2000,
    // reads through Promise.all of single commands are grouped per node into one write
    enableAutoPipelining: true,
  };
}

function newClient(target: RedisTarget, name?: string): Redis {
  if (isClusterTarget(target)) {
    const o = clusterOptions(target);
    // A Cluster answers the commands mxspool uses as a Redis does (keys routed by slot, keyless
    // ones to any node); where it cannot (SCAN, INFO of every node) the caller asks isCluster().
    return new Cluster(target.cluster, { ...o, redisOptions: { ...o.redisOptions, connectionName: name } }) as unknown as Redis;
  }
  return new Redis({ ...redisOptions(target), connectionName: name });
}

/** The client as an ioredis Cluster when it is one (then SCAN and INFO must go to each master), else undefined. */
export const asCluster = (r: Redis): Cluster | undefined => ((r as unknown as { isCluster?: boolean }).isCluster ? r as unknown as Cluster : undefined);

/**
 * The connection BullMQ should use: options for a single Redis or Sentinel (BullMQ makes its
 * clients), a Cluster instance for Redis Cluster (BullMQ takes an instance, and duplicates it
 * for its blocking connections).
 */
export const bullConnection = (target: RedisTarget) =>
  (isClusterTarget(target) ? newClient(target, "mxspool-bullmq") : redisOptions(target)) as unknown as ConnectionOptions;

export function connectRedis(target: RedisTarget, name: string, log?: Logger): Redis {
  const r = newClient(target, name);
  // ioredis reconnects by itself; an unhandled "error" event would only print a stack trace
  r.on("error", (err: Error) => { if (log) repeatedErrors(log).error({ event: "REDIS_UNREACHABLE", err: err.message }, "Redis connection error; retrying"); });
  return r;
}

/** Resolves true once `redis` is ready, or false after `ms` while it is not (the caller goes on either way). */
export function readyWithin(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === "ready") return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => { clearTimeout(timer); redis.off("ready", onReady); resolve(ok); };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    redis.once("ready", onReady);
  });
}

/** Reads INFO persistence and logs a loud warning when the queue would not survive a restart. */
export async function checkPersistence(redis: Redis, log: Logger): Promise<{ aof: boolean; rdb: boolean; fsync?: string }> {
  const info = await redis.info("persistence");
  const aof = /aof_enabled:1/.test(info);
  let rdb = false;
  let fsync: string | undefined;
  try {
    const save = (await redis.config("GET", "save")) as string[];
    rdb = Boolean(save[1] && save[1].trim() !== "");
    fsync = ((await redis.config("GET", "appendfsync")) as string[])[1];
  } catch {
    rdb = /rdb_last_bgsave_status:ok/.test(info) && !/rdb_last_save_time:0\b/.test(info);
  }
  if (!aof && !rdb) {
    log.warn({ event: "REDIS_NOT_PERSISTENT" },
      "!!! Redis has persistence OFF (no AOF, no RDB): every queued message is LOST when Redis restarts. Enable 'appendonly yes' and 'appendfsync always'. !!!");
  } else if (!aof) {
    log.warn({ event: "REDIS_NO_AOF" },
      "!!! Redis has no AOF, only RDB snapshots: messages accepted since the last snapshot are LOST if Redis crashes. Enable 'appendonly yes'. !!!");
  } else if (fsync && fsync !== "always") {
    log.warn({ event: "REDIS_FSYNC_RELAXED", appendfsync: fsync },
      `Redis uses appendfsync ${fsync}: up to about a second of accepted mail can be lost if the Redis host loses power.`);
  }
  return { aof, rdb, fsync };
}

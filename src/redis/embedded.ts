/**
 * Starts and supervises mxspool's own redis-server when `redis.url` is absent, so that a
 * fresh install has a durable queue with no set-up: data in `<dataDir>/redis`, AOF on with
 * `appendfsync always` (a write is on disk before Redis answers it, hence before our 250),
 * `maxmemory-policy noeviction`, reachable only through a unix socket in dataDir.
 * A redis-server left over by a killed mxspool is shut down (it saves its AOF) first, once
 * /proc says the PID in redis.pid really is this data dir's redis-server (isOurRedis).
 * It must not outlive mxspool: a stop requested while it starts (`abort`) stops it, and it
 * runs under `setpriv --pdeathsig SIGTERM` (util-linux) so that the kernel sends it SIGTERM
 * when the supervisor dies, even by SIGKILL. Without setpriv (not Linux, not installed) a
 * supervisor killed by SIGKILL leaves it running, and the next start stops it (stopStale).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import net from "node:net";
import type { Logger } from "../observability/log.js";
import { withParentDeathSignal } from "./parent-death.js";

export interface EmbeddedRedis {
  socketPath: string;
  /** SIGTERM (it saves its AOF), and wait for it to exit. */
  stop(): Promise<void>;
  /** SIGTERM without waiting: for a process about to exit. */
  kill(): void;
}

function ping(socketPath: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(socketPath);
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.on("error", () => done(false));
    s.on("connect", () => s.write("PING\r\n"));
    s.on("data", (d) => done(d.toString().startsWith("+PONG")));
  });
}

function sleep(ms: number) { return new Promise((r) => setTimeout(r, ms)); }

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, abort?: AbortSignal): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    abort?.throwIfAborted();
    if (await cond()) return true;
    await sleep(50);
  }
  return false;
}

/**
 * Whether `pid` is the redis-server of `dir`: after a host crash the PID in an old pid file can
 * belong to any process, which must never get our SIGTERM. Ours runs as redis-server with its
 * working directory in `dir` (--dir) and shows its unix socket in its process title.
 */
export function isOurRedis(pid: number, dir: string, socketPath: string): boolean {
  try {
    const comm = fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    if (comm !== "redis-server" && !path.basename(cmdline[0] ?? "").startsWith("redis-server")) return false;
    let cwd = "";
    try { cwd = fs.realpathSync(`/proc/${pid}/cwd`); } catch { /* another user's process: not ours */ }
    return cwd === fs.realpathSync(dir) || cmdline.some((a) => a.includes(socketPath));
  } catch {
    return false; // gone, or no /proc: never signal what we cannot identify
  }
}

async function stopStale(dir: string, socketPath: string, log: Logger, abort?: AbortSignal): Promise<void> {
  const pidFile = path.join(dir, "redis.pid");
  let pid = 0;
  try { pid = Number(fs.readFileSync(pidFile, "utf8").trim()); } catch { return; }
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid || !isOurRedis(pid, dir, socketPath)) {
    log.warn({ event: "EMBEDDED_REDIS_STALE_PID", redisPid: pid || undefined, pidFile }, "the old redis.pid does not name this data dir's redis-server; removing it, signalling nothing");
    fs.rmSync(pidFile, { force: true });
    return;
  }
  log.warn({ event: "EMBEDDED_REDIS_STALE", redisPid: pid }, "a redis-server from a previous run is still alive; shutting it down");
  process.kill(pid, "SIGTERM"); // redis fsyncs its AOF on SIGTERM
  const gone = await waitFor(async () => !isOurRedis(pid, dir, socketPath), 30_000, abort);
  if (!gone) process.kill(pid, "SIGKILL");
}

/** `abort`: a stop requested meanwhile; the redis-server started so far is stopped and the abort reason thrown. */
export async function startEmbeddedRedis(dataDir: string, log: Logger, redisServer = "redis-server", abort?: AbortSignal): Promise<EmbeddedRedis> {
  abort?.throwIfAborted();
  const dir = path.join(dataDir, "redis");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socketPath = path.join(dir, "redis.sock");
  await stopStale(dir, socketPath, log, abort);
  abort?.throwIfAborted();
  const args = [
    "--port", "0",
    "--unixsocket", socketPath,
    "--unixsocketperm", "700",
    "--dir", dir,
    "--pidfile", path.join(dir, "redis.pid"),
    "--appendonly", "yes",
    "--appendfsync", "always",
    "--appendfilename", "mxspool.aof",
    "--save", "",
    "--maxmemory-policy", "noeviction",
    // a message's record and its BullMQ job are hashes with values of a few hundred bytes
    // (JSON, our headers): above 64 bytes Redis keeps a hash as a hash table, ~2.3 KB for the
    // two; as listpacks they take ~1.4 KB (README, "Where the bytes go")
    "--hash-max-listpack-value", "1024",
    // the AOF's rewrite writes an RDB base (aof-use-rdb-preamble), and Redis tries LZF on
    // every value: on the brotli frames that are most of the spool it gains nothing (the same
    // 80 MB base for 3,000 mix messages) and cost the rewrite's child ~1.3 s of CPU instead
    // of ~0.7 (README, "Capacity: where the bytes go")
    "--rdbcompression", "no",
    // Redis's own rewrite trigger also rewrites a spool that is only growing: mxspool asks for
    // a rewrite once purged mail has left half or more of the AOF dead (redis/aof-compaction.ts)
    "--auto-aof-rewrite-percentage", "0",
    "--daemonize", "no",
    "--logfile", path.join(dir, "redis.log"),
  ];
  let stopping = false;
  let child: ChildProcess;
  let exited: Promise<void>;
  const launch = async (): Promise<void> => {
    // its own process group: a Ctrl-C or `kill -TERM -<group>` aimed at mxspool must not stop
    // Redis before the workers have finished with it; the supervisor stops it last
    const [cmd, argv] = withParentDeathSignal(redisServer, args);
    child = spawn(cmd, argv, { stdio: "ignore", detached: true });
    exited = new Promise((resolve) => child.once("exit", (code, signal) => {
      if (!stopping) {
        log.error({ event: "EMBEDDED_REDIS_EXIT", code, signal }, "embedded redis-server exited; restarting it from its AOF");
        setTimeout(() => { void launch(); }, 500);
      }
      resolve();
    }));
    child.once("error", (err) => log.error({ event: "EMBEDDED_REDIS_SPAWN", err: err.message }, `cannot run ${redisServer}: install Debian's redis-server (scripts/install-deps.sh)`));
    const up = await waitFor(() => ping(socketPath), 60_000, abort);
    if (!up) throw new Error(`embedded redis-server did not answer on ${socketPath}; see ${path.join(dir, "redis.log")}`);
  };
  try {
    await launch();
  } catch (err) {
    stopping = true; // one that started but does not answer, or is no longer wanted, must not outlive this start
    if (child!.pid && child!.exitCode === null && child!.signalCode === null) {
      child!.kill(abort?.aborted ? "SIGTERM" : "SIGKILL"); // a stop: let it close its AOF
      await exited!;
    }
    throw err;
  }
  log.info({ event: "EMBEDDED_REDIS_UP", socket: socketPath, dir }, "embedded redis-server running (AOF, appendfsync always)");
  return {
    socketPath,
    async stop() {
      stopping = true;
      child.kill("SIGTERM");
      await exited;
    },
    kill() {
      stopping = true;
      child.kill("SIGTERM");
    },
  };
}

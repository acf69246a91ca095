/**
 * The two systems under test behind one interface: mxspool (the built CLI, fresh data dir
 * and fresh Redis each time) and a private Postfix instance configured as a backup MX
 * (scripts/bench-postfix.sh), both relaying bench.test to smtp-sink on a loopback port.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import YAML from "yaml";
import { cliPath } from "../helpers/mxspool-process.js";
import { SUPERVISOR_LAUNCH } from "../../policies/process-memory.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { freePort, waitFor } from "../helpers/net.js";
import { descendants, type ProcMem } from "./procs.js";

const run = promisify(execFile);

export function repoRoot(): string {
  let root = import.meta.dirname;
  while (!fs.existsSync(path.join(root, "package.json"))) root = path.dirname(root);
  return root;
}

export interface SystemUnderTest {
  readonly name: string;
  smtpPort: number;
  sinkPort: number;
  start(): Promise<void>;
  /** Messages still queued (not yet accepted by the primary). */
  queued(): Promise<number>;
  /** Called right after the primary (smtp-sink) listens. */
  primaryUp(): Promise<void>;
  /** AOF rewrites its Redis has done so far (mxspool only: one in a measured pass cost it 5–10% in quick runs). */
  aofRewrites?(): Promise<number>;
  /** Process-tree roots for memory sampling and a classifier of command names into groups. */
  memRoots(): number[];
  memGroup(p: ProcMem, all: Map<number, ProcMem>): string | undefined;
  /** Warnings and errors the system logged (expected ones filtered out). */
  problems(): string[];
  stop(): Promise<void>;
  /** Synchronous last resort (bench interrupted): kill everything, remove temp dirs. */
  emergencyStop(): void;
}

export type RedisMode = "embedded" | "external";

/** smtp.processes for the benches: BENCH_PROCESSES (a number), or mxspool's default ("auto") when unset. */
export function benchProcesses(): number | "auto" {
  const v = process.env.BENCH_PROCESSES;
  if (!v || v === "auto") return "auto";
  if (!/^\d+$/.test(v)) throw new Error(`BENCH_PROCESSES must be a whole number or "auto", not ${JSON.stringify(v)}`);
  return Number(v);
}

/** Warnings every bench run logs by design: the primary is down while mail arrives, and no scanners are configured. */
const EXPECTED_WARNINGS = new Set(["PRIMARY_DOWN", "OUTAGE_STARTED", "FILTERS_DISABLED", "API_NO_TOKEN"]);

/** Keep temp dirs (logs, queues) after the bench for inspection. */
const KEEP = process.env.BENCH_KEEP === "1";

/**
 * Runs the built CLI like an admin would, its JSON log lines going to a file in the temp dir
 * (as Postfix's go to its maillog): parsing them in the bench process would steal CPU from
 * the system under test on this 2-core machine.
 */
/** The bench instance's admin token (loopback only, a throwaway instance). */
const BENCH_ADMIN_TOKEN = "bench-admin-token-0123456789";

export class MxspoolUnderTest implements SystemUnderTest {
  readonly name = "mxspool";
  smtpPort = 0;
  private httpPort = 0;
  sinkPort = 0;
  dir?: string;
  private child?: ChildProcess;
  private exitCode: number | null = null;
  private redis?: TestRedis;
  private redisPid?: number;
  private queue?: Queue;

  constructor(private readonly opts: {
    redis: RedisMode; processes: number | "auto"; concurrency: number; logLevel: string; cli?: string;
    /** Top-level config keys added as given (e.g. filters). */
    extraConfig?: Record<string, unknown>;
  }) {}

  get logFile(): string { return path.join(this.dir!, "mxspool.log"); }

  /** How to reach this run's Redis (embedded: its unix socket; external: the port), for measuring it. */
  redisConnection?: { path: string } | { host: string; port: number };

  async start(): Promise<void> {
    this.smtpPort = await freePort();
    this.sinkPort = await freePort();
    const httpPort = await freePort();
    this.httpPort = httpPort;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-bench-"));
    this.dir = dir;
    const config: Record<string, unknown> = {
      hostname: "mx2.bench.test",
      dataDir: path.join(dir, "data"),
      smtp: { listen: [`127.0.0.1:${this.smtpPort}`], processes: this.opts.processes, reverseLookup: false },
      http: { listen: `127.0.0.1:${httpPort}`, adminToken: BENCH_ADMIN_TOKEN },
      domains: { "bench.test": { primary: [`127.0.0.1:${this.sinkPort}`], recipients: "*" } },
      monitor: { interval: "1s", timeout: "2s" },
      delivery: { concurrency: this.opts.concurrency },
      log: { level: this.opts.logLevel },
      ...this.opts.extraConfig,
    };
    let connection: Record<string, unknown>;
    if (this.opts.redis === "external") {
      this.redis = await startRedis();
      config.redis = { url: this.redis.url };
      connection = { host: "127.0.0.1", port: this.redis.port };
      this.redisPid = descendants(process.pid).find((p) => {
        try { return fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes(String(this.redis!.port)) && fs.readFileSync(`/proc/${p}/comm`, "utf8").startsWith("redis-server"); } catch { return false; }
      });
    } else {
      connection = { path: path.join(dir, "data", "redis", "redis.sock") };
    }
    this.redisConnection = connection as typeof this.redisConnection;
    const configFile = path.join(dir, "mxspool.yaml");
    fs.writeFileSync(configFile, YAML.stringify(config));
    const out = fs.openSync(this.logFile, "a");
    const err = fs.openSync(path.join(dir, "stderr.log"), "a");
    this.exitCode = null;
    // BENCH_NODE_ARGS: extra node flags for mxspool (its cluster children inherit them), e.g.
    // "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile a bench run
    // mxspool is started as its launchers start it (policies/process-memory.ts, SUPERVISOR_LAUNCH)
    const nodeArgs = [...SUPERVISOR_LAUNCH.nodeFlags, ...(process.env.BENCH_NODE_ARGS ?? "").split(/\s+/).filter(Boolean)];
    const child = spawn(process.execPath, [...nodeArgs, this.opts.cli ?? cliPath(), "start", "--config", configFile], { stdio: ["ignore", out, err], env: { ...SUPERVISOR_LAUNCH.env, ...process.env } });
    fs.closeSync(out);
    fs.closeSync(err);
    this.child = child;
    child.on("exit", (code, signal) => { this.exitCode = code ?? (signal ? 128 : -1); });
    await waitFor("mxspool READY (event READY in its log)", () => {
      if (this.exitCode !== null) throw new Error(`mxspool exited ${this.exitCode}: ${this.readText("stderr.log")}`);
      return this.readText("mxspool.log").includes('"event":"READY"');
    }, 60_000, 100);
    this.queue = new Queue("delivery-bench.test", { connection: { ...connection, maxRetriesPerRequest: null }, prefix: "{mxspool}" });
  }

  private readText(name: string): string {
    try { return fs.readFileSync(path.join(this.dir!, name), "utf8"); } catch { return ""; }
  }

  async queued(): Promise<number> {
    // "paused" is not in BullMQ's JobType any more, but a paused queue still parks new jobs in that list
    const types = ["wait", "paused", "active", "delayed", "prioritized", "waiting-children"] as unknown as Parameters<Queue["getJobCounts"]>;
    const c = await this.queue!.getJobCounts(...types);
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  async failed(): Promise<number> { return (await this.queue!.getJobCounts("failed")).failed ?? 0; }

  async aofRewrites(): Promise<number> {
    const redis = new Redis({ ...this.redisConnection!, lazyConnect: true });
    try {
      await redis.connect();
      return Number(/^aof_rewrites:(\d+)/m.exec(await redis.info("persistence"))?.[1] ?? NaN);
    } finally {
      redis.disconnect();
    }
  }

  /**
   * The admin's "probe now" (POST /api/primaries/{domain}/probe, the console's button), as
   * Postfix gets `postqueue -f`: the drain starts at once instead of at the monitor's next
   * probe (within monitor.interval, 1 s here).
   */
  async primaryUp(): Promise<void> {
    const r = await fetch(`http://127.0.0.1:${this.httpPort}/api/primaries/bench.test/probe`, { method: "POST", headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } });
    if (!r.ok) throw new Error(`probe now answered ${r.status}: ${await r.text()}`);
  }

  memRoots(): number[] { return [this.child?.pid, this.redisPid].filter((p): p is number => Boolean(p)); }

  /**
   * "node": the primary and its cluster workers; "redis": the redis-server; "redis-fork": a
   * child redis forks for an AOF rewrite (copy-on-write pages: counting its RSS would
   * double the data), reported apart.
   */
  memGroup(p: ProcMem, all: Map<number, ProcMem>): string | undefined {
    if (p.comm.startsWith("redis")) return all.get(p.ppid)?.comm.startsWith("redis") ? "redis-fork" : "redis";
    return p.comm === "node" ? "node" : "other";
  }

  /** Log lines at warn or above (except the expected PRIMARY_DOWN), grouped by event, and stderr. */
  problems(): string[] {
    if (!this.dir) return [];
    const counts = new Map<string, { n: number; example: string }>();
    for (const line of this.readText("mxspool.log").split("\n")) {
      if (!line) continue;
      let l: { level?: number; event?: string; msg?: string; err?: unknown; error?: unknown };
      try { l = JSON.parse(line); } catch { l = { level: 50, event: "UNPARSED", msg: line.slice(0, 200) }; }
      // expected here: the sink is down during the accept test (so an outage starts); the bench configures no scanners and no admin token
      if ((l.level ?? 0) < 40 || EXPECTED_WARNINGS.has(l.event ?? "")) continue;
      const k = l.event ?? "?";
      const c = counts.get(k) ?? { n: 0, example: `${l.msg ?? ""}${l.err ? ` (${String(l.err)})` : ""}${l.error ? ` (${String(l.error)})` : ""}` };
      c.n++;
      counts.set(k, c);
    }
    const out = [...counts].map(([k, c]) => `${k} ×${c.n}: ${c.example}`);
    for (const s of this.readText("stderr.log").split("\n")) if (s.trim()) out.push(`stderr: ${s.trim()}`);
    if (this.exitCode !== null && this.exitCode !== 0) out.push(`mxspool exited with code ${this.exitCode}`);
    return out;
  }

  /** Per-event counts of every log line (for the JSON report). */
  logSummary(): Record<string, number> {
    const m: Record<string, number> = {};
    for (const line of this.readText("mxspool.log").split("\n")) {
      const e = /"event":"([^"]+)"/.exec(line)?.[1];
      if (e) m[e] = (m[e] ?? 0) + 1;
    }
    return m;
  }

  emergencyStop(): void {
    const roots = this.memRoots();
    for (const r of roots) for (const p of descendants(r).reverse()) { try { process.kill(p, "SIGKILL"); } catch { /* gone */ } }
    if (!KEEP && this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    if (this.redis) fs.rmSync(this.redis.dir, { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    await this.queue?.close().catch(() => undefined);
    this.queue = undefined;
    const child = this.child;
    if (child && this.exitCode === null) {
      child.kill("SIGTERM");
      try {
        await waitFor("mxspool to exit after SIGTERM", () => this.exitCode !== null, 120_000, 100);
      } catch (e) {
        this.emergencyStop();
        throw e;
      }
      if (this.exitCode !== 0) throw new Error(`mxspool exited with code ${this.exitCode} on SIGTERM`);
    }
    if (!KEEP && this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    await this.redis?.stop();
    this.redis = undefined;
  }
}

const SCRIPT = () => path.join(repoRoot(), "scripts", "bench-postfix.sh");

export class PostfixUnderTest implements SystemUnderTest {
  readonly name = "Postfix";
  smtpPort = 0;
  sinkPort = 0;
  dir?: string;
  private masterPid?: number;

  async start(): Promise<void> {
    this.smtpPort = await freePort();
    this.sinkPort = await freePort();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-bench-postfix-"));
    await run("bash", [SCRIPT(), "setup", this.dir, String(this.smtpPort), String(this.sinkPort)]);
    await run("bash", [SCRIPT(), "start", this.dir]);
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      const { stdout } = await run("bash", [SCRIPT(), "pids", this.dir]);
      const pids = stdout.trim().split(/\s+/).filter(Boolean).map(Number);
      if (pids.length >= 2) { this.masterPid = pids[0]; break; }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!this.masterPid) throw new Error(`postfix did not start; see ${this.dir}/maillog`);
    // smtpd listens once master runs
  }

  settings(): string {
    return execFileSync("bash", [SCRIPT(), "settings", this.dir!]).toString();
  }

  async queued(): Promise<number> {
    const { stdout } = await run("bash", [SCRIPT(), "count", this.dir!]);
    return Number(stdout.trim());
  }

  async primaryUp(): Promise<void> { await run("bash", [SCRIPT(), "flush", this.dir!]); }

  memRoots(): number[] { return this.masterPid ? [this.masterPid] : []; }

  memGroup(): string { return "postfix"; }

  problems(): string[] {
    if (!this.dir) return [];
    let log = "";
    try { log = fs.readFileSync(path.join(this.dir, "maillog"), "utf8"); } catch { return []; }
    const out = log.split("\n")
      // the clock warning comes from this VM's file system timestamps, not from the load
      .filter((l) => /(warning|error|fatal|panic):/.test(l) && !/status=deferred|file system clock is/.test(l))
      .map((l) => l.replace(/^\w+ +\d+ [\d:]+ \S+ /, ""));
    return [...out, ...this.leftovers];
  }

  private leftovers: string[] = [];

  /** What is still queued (postqueue -p), kept for the report when a drain did not empty the queue. */
  async describeQueue(): Promise<void> {
    if (!this.dir) return;
    try {
      const { stdout } = await run("postqueue", ["-c", path.join(this.dir, "etc"), "-p"], { maxBuffer: 64 * 1024 * 1024 });
      this.leftovers.push(`still queued: ${stdout.split("\n").slice(0, 12).join(" ⏎ ").slice(0, 1500)}`);
    } catch (e) { this.leftovers.push(`postqueue -p failed: ${(e as Error).message}`); }
  }

  emergencyStop(): void { if (this.dir) stopPostfixSync(this.dir); }

  async stop(): Promise<void> {
    if (!this.dir) return;
    await run("bash", [SCRIPT(), "stop", this.dir]).catch(() => undefined);
    if (!KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.masterPid = undefined;
  }
}

/** Synchronous last-resort cleanup (process exit): stop a Postfix instance left running. */
export function stopPostfixSync(dir: string): void {
  try { execFileSync("bash", [SCRIPT(), "stop", dir], { stdio: "ignore" }); } catch { /* ignore */ }
  if (!KEEP) fs.rmSync(dir, { recursive: true, force: true });
}

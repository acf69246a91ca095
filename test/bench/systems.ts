/**
 * The two systems under test behind one interface: mxspool (the built CLI, fresh data dir
 * and fresh Redis each time) and a private Postfix instance configured as a backup MX
 * (scripts/bench-postfix.sh), both relaying bench.test to smtp-sink on a loopback port.
 */
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Queue } from "bullmq";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { freePort } from "../helpers/net.js";
import { descendants } from "./procs.js";

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
  /** Process-tree roots for memory sampling and a classifier of command names into groups. */
  memRoots(): number[];
  memGroup(comm: string): string | undefined;
  /** Warnings and errors the system logged (expected ones filtered out). */
  problems(): string[];
  stop(): Promise<void>;
}

export type RedisMode = "embedded" | "external";

export class MxspoolUnderTest implements SystemUnderTest {
  readonly name = "mxspool";
  smtpPort = 0;
  sinkPort = 0;
  private proc?: MxspoolProcess;
  private redis?: TestRedis;
  private redisPid?: number;
  private queue?: Queue;

  constructor(private readonly opts: { redis: RedisMode; processes: number; concurrency: number }) {}

  async start(): Promise<void> {
    this.smtpPort = await freePort();
    this.sinkPort = await freePort();
    const httpPort = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-bench-"));
    const config: Record<string, unknown> = {
      hostname: "mx2.bench.test",
      smtp: { listen: [`127.0.0.1:${this.smtpPort}`], processes: this.opts.processes, reverseLookup: false },
      http: { listen: `127.0.0.1:${httpPort}` },
      domains: { "bench.test": { primary: [`127.0.0.1:${this.sinkPort}`], recipients: "*" } },
      monitor: { interval: "1s", timeout: "2s" },
      delivery: { concurrency: this.opts.concurrency },
      log: { level: "warn" },
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
    this.proc = new MxspoolProcess(config, dir);
    await this.proc.start();
    this.queue = new Queue("delivery-bench.test", { connection: { ...connection, maxRetriesPerRequest: null }, prefix: "{mxspool}" });
  }

  async queued(): Promise<number> {
    const c = await this.queue!.getJobCounts("wait", "paused", "active", "delayed", "prioritized", "waiting-children");
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  async failed(): Promise<number> { return (await this.queue!.getJobCounts("failed")).failed ?? 0; }

  async primaryUp(): Promise<void> { /* the primary monitor notices within monitor.interval (1s) */ }

  memRoots(): number[] { return [this.proc?.pid, this.redisPid].filter((p): p is number => Boolean(p)); }

  memGroup(comm: string): string | undefined { return comm.startsWith("redis-server") ? "redis" : "node"; }

  problems(): string[] {
    const p = this.proc;
    if (!p) return [];
    const out: string[] = [];
    for (const l of p.logs) {
      if (l.level < 40) continue;
      if (l.event === "PRIMARY_DOWN") continue; // expected: the sink is down during the accept test
      out.push(`${l.event ?? "?"}: ${l.msg}${l.err ? ` (${String(l.err)})` : ""}${l.error ? ` (${String(l.error)})` : ""}`);
    }
    for (const s of p.stderr.join("").split("\n")) if (s.trim()) out.push(`stderr: ${s.trim()}`);
    return out;
  }

  async stop(): Promise<void> {
    await this.queue?.close().catch(() => undefined);
    this.queue = undefined;
    if (this.proc) {
      const code = await this.proc.stop().catch(async (e) => { await this.proc!.kill9().catch(() => undefined); throw e; });
      if (code !== 0) this.proc.stderr.push(`mxspool exited with code ${code} on SIGTERM`);
      this.proc.cleanup();
    }
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
    return log.split("\n").filter((l) => /(warning|error|fatal|panic):/.test(l) && !/status=deferred/.test(l)).map((l) => l.replace(/^\w+ +\d+ [\d:]+ \S+ /, ""));
  }

  async stop(): Promise<void> {
    if (!this.dir) return;
    await run("bash", [SCRIPT(), "stop", this.dir]).catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.masterPid = undefined;
  }
}

/** Synchronous last-resort cleanup (process exit): stop a Postfix instance left running. */
export function stopPostfixSync(dir: string): void {
  try { execFileSync("bash", [SCRIPT(), "stop", dir], { stdio: "ignore" }); } catch { /* ignore */ }
  fs.rmSync(dir, { recursive: true, force: true });
}

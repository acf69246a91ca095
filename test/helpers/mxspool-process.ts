/**
 * Runs the real `mxspool` CLI (the built dist/) as a user would: a YAML config in a temp
 * dir, `mxspool start --config FILE`, JSON log lines collected from stdout. Can be stopped
 * gracefully (SIGTERM) or killed with SIGKILL together with its worker processes.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { waitFor } from "./net.js";
import { withParentDeathSignal } from "../../src/redis/parent-death.js";


/** Tests run from the TS sources, but exercise the built CLI in dist/ as a user would. */
export function cliPath(): string {
  let root = import.meta.dirname;
  while (!fs.existsSync(path.join(root, "package.json"))) root = path.dirname(root);
  const cli = path.join(root, "dist/src/cli/main.js");
  if (!fs.existsSync(cli)) throw new Error("dist/ is missing: run `npm run build` (npm test does it)");
  return cli;
}

export interface LogLine { event?: string; level: number; msg: string; [k: string]: unknown }

export class MxspoolProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  private proc?: ChildProcess;
  readonly dir: string;
  readonly configFile: string;
  exitCode: number | null = null;
  private stdoutOpen = false;
  /** The signal that ended the last run, when one did (exitCode is then -1). */
  exitSignal: NodeJS.Signals | null = null;

  constructor(config: Record<string, unknown>, dir?: string) {
    this.dir = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-test-"));
    this.configFile = path.join(this.dir, "mxspool.yaml");
    fs.writeFileSync(this.configFile, YAML.stringify({ dataDir: path.join(this.dir, "data"), ...config }));
  }

  async start(args: string[] = [], env: Record<string, string> = {}): Promise<void> {
    this.exitCode = null;
    this.exitSignal = null;
    const proc = spawn(...withParentDeathSignal(process.execPath, [cliPath(), "start", "--config", this.configFile, ...args], "SIGKILL"), {
      stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env },
    });
    this.proc = proc;
    let buf = "";
    proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try { this.logs.push(JSON.parse(line)); } catch { this.logs.push({ level: 0, msg: line }); }
      }
    });
    proc.stderr!.on("data", (d: Buffer) => this.stderr.push(d.toString()));
    proc.on("exit", (code, signal) => { this.exitSignal = signal; this.exitCode = code ?? -1; });
    this.stdoutOpen = true;
    proc.stdout!.on("close", () => { this.stdoutOpen = false; });
    const since = this.logs.length;
    try {
      // (waitFor retries a condition that throws: an exit must end the wait, not time it out)
      await waitFor("mxspool READY", () => this.exitCode !== null || this.logs.slice(since).some((l) => l.event === "READY"), 120_000);
      if (this.exitCode !== null) throw new Error(`mxspool exited ${this.exitCode}: ${this.stderr.join("")}`);
    } catch (err) {
      // say why: the warnings and errors mxspool logged meanwhile (a child that cannot listen, Redis, ...)
      const trouble = this.logs.slice(since).filter((l) => l.level >= 40).slice(-5).map((l) => JSON.stringify(l));
      if (this.exitCode === null) await this.kill9().catch(() => undefined); // not left running after a failed start
      throw new Error(`${(err as Error).message}; mxspool logged ${trouble.length ? trouble.join(" | ") : "no warning or error"}; stderr: ${this.stderr.join("").slice(-500)}`);
    }
  }

  events(name: string): LogLine[] { return this.logs.filter((l) => l.event === name); }

  /**
   * The `name` events (those `where` accepts) once at least `count` have arrived. A log line
   * reaches the test through the child's stdout after the reply it goes with, at the end of
   * the child's event-loop turn: a test that reads events right after a reply waits here.
   */
  async waitForEvents(name: string, count = 1, where: (l: LogLine) => boolean = () => true, timeoutMs = 10_000): Promise<LogLine[]> {
    return waitFor(`${count} ${name} event(s)`, () => { const e = this.events(name).filter(where); return e.length >= count ? e : undefined; }, timeoutMs, 20);
  }

  get pid(): number | undefined { return this.proc?.pid; }

  /** The primary process and its cluster workers (not an embedded redis-server). */
  private nodePids(): number[] {
    if (!this.proc?.pid) return [];
    let kids: number[] = [];
    try {
      kids = execFileSync("pgrep", ["-P", String(this.proc.pid)]).toString().trim().split(/\s+/).map(Number)
        .filter((p) => { try { return fs.readFileSync(`/proc/${p}/comm`, "utf8").trim() === "node"; } catch { return false; } });
    } catch { /* no children */ }
    return [this.proc.pid, ...kids];
  }

  async kill9(): Promise<void> {
    const pids = this.nodePids();
    for (const p of pids) { try { process.kill(p, "SIGKILL"); } catch { /* already gone */ } }
    await waitFor("mxspool processes to die", () => pids.every((p) => { try { process.kill(p, 0); return false; } catch { return true; } }), 10_000);
  }

  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 90_000): Promise<number> {
    if (!this.proc || this.exitCode !== null) return this.exitCode ?? 0;
    this.proc.kill(signal);
    await waitFor("mxspool to exit", () => this.exitCode !== null, timeoutMs);
    // its last log lines may still be in the pipe when it exits (a forked worker holding the
    // pipe open longer is not waited for past a few seconds)
    await waitFor("mxspool's stdout to close", () => !this.stdoutOpen, 3000, 20).catch(() => undefined);
    return this.exitCode!;
  }

  cleanup(): void { fs.rmSync(this.dir, { recursive: true, force: true }); }
}

/** PIDs of the redis-servers whose command line mentions `dir` (an embedded Redis's data dir). */
export function redisServersIn(dir: string): number[] {
  const pids: number[] = [];
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      if (cmd.some((a) => a.includes("redis-server")) && cmd.some((a) => a.includes(dir))) pids.push(Number(p));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

/**
 * A real redis-server for a test: its own port and temp dir, AOF with appendfsync always
 * (as mxspool's embedded one), killable with SIGKILL and restartable from its AOF.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { freePort, portOpen, waitFor } from "./net.js";
import { withParentDeathSignal } from "../../src/redis/parent-death.js";

/** A start script run instead of redis-server, given the arguments after its own (it must exec redis-server with them), with `env` added to its environment. */
export interface StartVia { command: string[]; env?: Record<string, string> }

export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  client(): Redis;
  kill9(): Promise<void>;
  /** The redis-server's PID (SIGSTOP/SIGCONT a replica to make it lag). */
  pid(): number;
  /** Starts it again from its AOF; `args`: more arguments for this start (e.g. `--replicaof` the current master). */
  restart(args?: string[], via?: StartVia): Promise<void>;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 25_000;

/** `args`: more redis-server arguments (e.g. `--replicaof 127.0.0.1 PORT`). */
export async function startRedis(opts: { persistence?: boolean; args?: string[] } = {}): Promise<TestRedis> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-redis-"));
  const port = await freePort();
  const persistence = opts.persistence ?? true;
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--daemonize", "no",
    "--appendonly", persistence ? "yes" : "no", "--appendfsync", "always", "--maxmemory-policy", "noeviction", "--logfile", path.join(dir, "redis.log"), ...(opts.args ?? [])];
  let proc: ChildProcess;
  const clients: Redis[] = [];
  const launch = async (more: string[] = [], via?: StartVia) => {
    const [cmd, ...pre] = via?.command ?? ["redis-server"];
    // killed with this test process even when it is killed itself (a run aborted)
    proc = spawn(...withParentDeathSignal(cmd!, [...pre, ...args, ...more], "SIGKILL"), { stdio: "ignore", env: { ...process.env, ...via?.env } });
    await waitFor(`redis-server on ${port}`, () => portOpen(port), 20_000);
    const c = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 3 });
    await waitFor("redis to load its AOF", async () => { await c.connect().catch(() => undefined); return (await c.ping()) === "PONG" && !(await c.info("persistence")).includes("loading:1"); }, 30_000);
    c.disconnect();
  };
  const exited = () => new Promise<void>((r) => { if (proc.exitCode !== null || proc.signalCode) r(); else proc.once("exit", () => r()); });
  const exitedWithin = (ms: number) => new Promise<boolean>((r) => {
    const timer = setTimeout(() => r(false), ms);
    void exited().then(() => { clearTimeout(timer); r(true); });
  });
  await launch();
  return {
    port, dir, url: `redis://127.0.0.1:${port}`,
    client() { const c = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 20 }); clients.push(c); return c; },
    pid() { return proc.pid!; },
    async kill9() { proc.kill("SIGKILL"); await exited(); },
    async restart(more?: string[], via?: StartVia) { await launch(more, via); },
    async stop() {
      for (const c of clients) c.disconnect();
      proc.kill("SIGTERM");
      // a master waits up to shutdown-timeout (10 s) for lagging replicas; a Redis still up well
      // past that is stuck (seen once in a CI run: the Sentinel set's afterAll timed out at 120 s),
      // so it is killed, and its log's end goes to the test output to say why
      if (!(await exitedWithin(STOP_GRACE_MS))) {
        const log = fs.existsSync(path.join(dir, "redis.log")) ? fs.readFileSync(path.join(dir, "redis.log"), "utf8").split("\n").slice(-15).join("\n") : "(no log)";
        console.warn(`redis-server :${port} still up ${STOP_GRACE_MS / 1000} s after SIGTERM: killed. Its log ends:\n${log}`);
        proc.kill("SIGKILL");
        await exited();
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The SMTP/delivery processes the supervisor forks (node:cluster; they share the listen
 * sockets; V8 and malloc settings from policies/process-memory.ts): `start` forks them and
 * resolves when every one said "ready"; one that dies is
 * forked again after a back-off (policies/restart-backoff.ts), unless mxspool is stopping;
 * `stop` asks each to stop (a message to a ready one, SIGTERM to one still starting, which
 * may not listen for messages yet) and SIGKILLs those still there after the deadline.
 * Each process accepts its own connections from the shared listen socket (SCHED_NONE): with
 * node's default round robin the supervisor accepts every connection and hands it over IPC,
 * two channel messages per connection that cost the SMTP process ~7% of its CPU under the
 * bench's one-message-per-connection load (README, "Benchmark").
 */
import cluster, { type Worker as ClusterWorker } from "node:cluster";
import type { Logger } from "./observability/log.js";
import type { Lifecycle } from "./lifecycle.js";
import { initialRestart, nextRestart, type RestartState } from "../policies/restart-backoff.js";
import { StartFailure } from "./start-failure.js";
import { childEnv, childExecArgv } from "../policies/process-memory.js";

interface ChildMessage { type?: string; message?: string; fields?: Record<string, unknown>; exitCode?: number }

export class WorkerProcesses {
  private readonly live = new Set<ClusterWorker>();
  private readonly ready = new Set<ClusterWorker>();
  private readonly terminated = new Set<ClusterWorker>();
  private readonly restarts: RestartState[] = [];

  constructor(
    private readonly count: number,
    private readonly env: (index: number) => Record<string, string>,
    private readonly lifecycle: Lifecycle,
    private readonly log: Logger,
  ) {}

  /** Resolves when all `count` processes are ready; rejects with the StartFailure of one that could not start. */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.count === 0) return resolve();
      const readyIndexes = new Set<number>();
      // V8 and malloc settings that keep each process's memory near what it uses (policies/process-memory.ts)
      cluster.schedulingPolicy = cluster.SCHED_NONE; // before the first fork: the children accept, not the supervisor
      cluster.setupPrimary({ execArgv: childExecArgv(process.execArgv, process.env.NODE_OPTIONS) });
      const fork = (index: number) => {
        const forkedAt = Date.now();
        const w = cluster.fork({ ...childEnv(process.env), ...this.env(index) });
        this.live.add(w);
        w.on("message", (m: ChildMessage) => {
          if (m?.type === "ready") {
            this.ready.add(w);
            readyIndexes.add(index);
            if (readyIndexes.size === this.count) resolve();
          }
          // a process that cannot start (its listen address is taken) before mxspool is ready fails the start
          if (m?.type === "start-failed" && readyIndexes.size < this.count) reject(new StartFailure(m.message ?? "a worker process could not start", m.fields, m.exitCode));
        });
        w.on("exit", (code, signal) => {
          this.live.delete(w);
          this.ready.delete(w);
          if (this.lifecycle.dispatch("worker-exited") !== "restart-worker") return;
          const { delayMs, state } = nextRestart(this.restarts[index] ?? initialRestart(), Date.now() - forkedAt);
          this.restarts[index] = state;
          this.log.error({ event: "CHILD_EXIT", code, signal, restartInMs: delayMs, failures: state.failures }, "a worker process died; starting another");
          setTimeout(() => { if (this.lifecycle.state === "starting" || this.lifecycle.state === "running") fork(index); }, delayMs);
        });
      };
      for (let i = 0; i < this.count; i++) fork(i);
    });
  }

  /** Sends `signal` (SIGHUP: reload the recipient files) to every process. */
  signal(sig: NodeJS.Signals): void { for (const w of this.live) w.process.kill(sig); }

  /** For a process about to exit: no waiting. */
  killAll(): void { for (const w of this.live) w.process.kill("SIGKILL"); }

  /** Asks each process to stop and waits for them; SIGKILL for those still there after `ms`. Resolves whether all stopped cleanly. */
  async stop(ms: number): Promise<boolean> {
    let clean = true;
    const workers = [...this.live];
    const exits = workers.map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      w.once("exit", (code, signal) => {
        // one still loading its modules when our SIGTERM came ends by it: nothing of it to stop
        if (code !== 0 && !(signal === "SIGTERM" && this.terminated.has(w))) clean = false;
        resolve();
      });
    }));
    for (const w of workers) {
      if (this.ready.has(w) && w.isConnected()) w.send({ type: "shutdown" }, undefined, undefined, () => undefined);
      else { this.terminated.add(w); w.process.kill("SIGTERM"); }
    }
    const all = await withDeadline(Promise.all(exits), ms);
    if (!all) for (const w of workers) w.process.kill("SIGKILL");
    await withDeadline(Promise.all(exits), 2000);
    return clean && all;
  }
}

/** Resolves true when `p` settles within `ms`, false otherwise (it is then abandoned). */
export function withDeadline(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(() => { clearTimeout(t); resolve(true); }, () => { clearTimeout(t); resolve(true); });
  });
}

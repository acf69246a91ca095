/**
 * Recreates a BullMQ worker that stopped fetching (BullMQ's known failover trap: workers that
 * go silent after a Sentinel failover or a reconnect, taskforcesh/bullmq #648, #2964, #3088,
 * #4378). Every `interval` it asks the queue whether jobs are waiting while the queue is not
 * paused; a worker that is not running, or that has had such jobs waiting for two checks in a
 * row without starting one and with nothing in flight, is closed (forced) and replaced.
 * The decision is the pure function `workerStalled`, tested from a table.
 */
import type { Queue, Worker } from "bullmq";
import type { Logger } from "../observability/log.js";

export interface WatchFacts {
  running: boolean;
  /** Jobs ready to run (waiting), the queue not paused, Redis answering. */
  ready: number;
  /** Jobs this process has in flight. */
  inFlight: number;
  /** Jobs this process started since the previous check. */
  startedSince: number;
  /** Checks in a row that found jobs ready and nothing started (before this one). */
  idleChecks: number;
}

/** Whether to recreate, and the idle count to carry to the next check. */
export function workerStalled(f: WatchFacts): { recreate: boolean; idleChecks: number } {
  if (!f.running) return { recreate: true, idleChecks: 0 };
  if (f.ready === 0 || f.inFlight > 0 || f.startedSince > 0) return { recreate: false, idleChecks: 0 };
  const idle = f.idleChecks + 1;
  return idle >= 2 ? { recreate: true, idleChecks: 0 } : { recreate: false, idleChecks: idle };
}

/** What the watchdog watches: one worker of one queue, and how to make a fresh one. */
export interface Watched {
  name: string;
  queue: Queue;
  worker(): Worker;
  /** Jobs started since the last call (then reset) and jobs in flight now. */
  activity(): { started: number; inFlight: number };
  recreate(): Promise<void>;
}

export class WorkerWatchdog {
  private timer?: NodeJS.Timeout;
  private idle = new Map<string, number>();
  private stopped = false;

  constructor(private readonly watched: Watched[], private readonly intervalMs: number, private readonly log: Logger) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(async () => { await this.check().catch(() => undefined); tick(); }, this.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  async check(): Promise<void> {
    for (const w of this.watched) {
      const { started, inFlight } = w.activity();
      let ready = 0;
      try {
        ready = (await w.queue.isPaused()) ? 0 : await w.queue.getWaitingCount();
      } catch { continue; } // Redis unavailable: nothing to judge yet
      const v = workerStalled({ running: w.worker().isRunning(), ready, inFlight, startedSince: started, idleChecks: this.idle.get(w.name) ?? 0 });
      this.idle.set(w.name, v.idleChecks);
      if (v.recreate && !this.stopped) {
        this.log.warn({ event: "WORKER_RECREATED", queue: w.name, waiting: ready }, "a worker stopped fetching while jobs wait; replacing it");
        await w.recreate();
      }
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

/**
 * The supervisor's lifecycle as one table: starting → running → stopping → stopped. Start-up
 * and shutdown share it, so a SIGTERM is honoured in whatever phase it arrives: while
 * starting it aborts the step in progress and stops what was started; a READY or a worker
 * restart that comes after the stop began is dropped. Pure: state and event in, state and
 * what to do out; src/lifecycle.ts applies it to the process.
 */
export type LifecycleState = "starting" | "running" | "stopping" | "stopped";
export type LifecycleEvent = "started" | "start-failed" | "stop-requested" | "worker-exited" | "stop-done";
export type LifecycleAction =
  | "none"
  | "log-ready" // every step of the start succeeded
  | "abort-start" // stop the step in progress, then stop in reverse order what was started; exit 0
  | "stop" // ordered shutdown of a running mxspool; exit 0
  | "stop-failed-start" // stop what was started, exit with the failure's code
  | "restart-worker" // with back-off (policies/restart-backoff.ts)
  | "exit";

type Table = Record<LifecycleState, Partial<Record<LifecycleEvent, [LifecycleState, LifecycleAction]>>>;

export const LIFECYCLE: Table = {
  starting: {
    "started": ["running", "log-ready"],
    "start-failed": ["stopping", "stop-failed-start"],
    "stop-requested": ["stopping", "abort-start"],
    "worker-exited": ["starting", "restart-worker"],
  },
  running: {
    "stop-requested": ["stopping", "stop"],
    "worker-exited": ["running", "restart-worker"],
  },
  stopping: {
    "stop-done": ["stopped", "exit"],
  },
  stopped: {},
};

/** The next state and what to do; an event the table does not name changes nothing. */
export function lifecycleNext(state: LifecycleState, event: LifecycleEvent): { state: LifecycleState; action: LifecycleAction } {
  const [next, action] = LIFECYCLE[state][event] ?? [state, "none"];
  return { state: next, action };
}

/**
 * The supervisor's lifecycle state (policies/lifecycle.ts) applied to this process. The CLI
 * creates it before anything is started, so SIGTERM/SIGINT are caught from the first step
 * on: a stop requested while starting aborts the step in progress (`step` rejects with
 * StopRequested; a step that owns a child process gets `signal` and stops it) and main.ts
 * then stops, in reverse order, whatever was started. Never exits the process itself.
 */
import { lifecycleNext, type LifecycleAction, type LifecycleEvent, type LifecycleState } from "../policies/lifecycle.js";

/** The reason a start step was abandoned: a stop was requested, this is not a failed start. */
export class StopRequested extends Error {
  constructor(readonly signal: string) { super(`stop requested (${signal}) during start-up`); }
}

export class Lifecycle {
  state: LifecycleState = "starting";
  /** The signal that asked for the stop, once one did. */
  stopSignal?: string;
  private readonly abort = new AbortController();
  private stopListeners: ((signal: string, action: LifecycleAction) => void)[] = [];

  /** A lifecycle with SIGTERM and SIGINT handlers installed now. */
  static withSignals(): Lifecycle {
    const lc = new Lifecycle();
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => lc.requestStop(sig));
    return lc;
  }

  /** Applies `event`; returns what to do ("none" when the event does not apply in this state). */
  dispatch(event: LifecycleEvent): LifecycleAction {
    const { state, action } = lifecycleNext(this.state, event);
    this.state = state;
    return action;
  }

  requestStop(signal: string): void {
    const action = this.dispatch("stop-requested");
    if (action === "none") return;
    this.stopSignal = signal;
    this.abort.abort(new StopRequested(signal));
    for (const l of this.stopListeners) l(signal, action);
  }

  /** Called once when a stop is requested (at once if one already was). */
  onStop(listener: (signal: string, action: LifecycleAction) => void): void {
    this.stopListeners.push(listener);
    if (this.stopSignal) listener(this.stopSignal, "abort-start");
  }

  get stopRequested(): boolean { return this.stopSignal !== undefined; }

  /** Aborted when a stop is requested: for the steps that can undo themselves (the embedded Redis). */
  get signal(): AbortSignal { return this.abort.signal; }

  /**
   * `p`, or a rejection with StopRequested as soon as a stop is requested. The step itself goes
   * on: whatever it starts must already be reachable by the stop (assigned before the await).
   */
  step<T>(p: Promise<T>): Promise<T> {
    if (this.abort.signal.aborted) return Promise.reject(this.abort.signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.abort.signal.reason);
      this.abort.signal.addEventListener("abort", onAbort, { once: true });
      p.then(
        (v) => { this.abort.signal.removeEventListener("abort", onAbort); resolve(v); },
        (e) => { this.abort.signal.removeEventListener("abort", onAbort); reject(e); },
      );
    });
  }
}

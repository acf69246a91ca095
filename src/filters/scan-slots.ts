/**
 * Bounds the scans in flight on one scanner, and says when it is saturated.
 * - acquire(): a slot (at most maxConcurrent in flight); waiters are served in order; an
 *   AbortSignal gives up the wait (the caller's queueTimeout, or the transaction ending).
 * - open/close: transactions that will need this scanner (from DATA to the verdict), whether
 *   streaming, waiting or scanning. saturated when open >= maxConcurrent + maxQueued: the
 *   next MAIL FROM should get 451 4.3.2 at once rather than join a queue it would time out in.
 * No I/O; one instance per scanner per process.
 */
export type Release = () => void;

export class ScanSlots {
  private active = 0;
  private open = 0;
  private readonly waiters: { grant: (r: Release | null) => void }[] = [];

  constructor(readonly maxConcurrent: number, readonly maxQueued: number) {}

  get saturated(): boolean { return this.open >= this.maxConcurrent + this.maxQueued; }

  /** A transaction that will scan on this scanner started; returns its close(). */
  enter(): () => void {
    this.open++;
    let closed = false;
    return () => { if (!closed) { closed = true; this.open--; } };
  }

  acquire(signal?: AbortSignal): Promise<Release | null> {
    if (signal?.aborted) return Promise.resolve(null);
    if (this.active < this.maxConcurrent) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => {
      const waiter = {
        grant: (r: Release | null) => { signal?.removeEventListener("abort", onAbort); resolve(r); },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next.grant(this.releaser()); // the slot passes straight to the next waiter
      else this.active--;
    };
  }

  stats(): { inFlight: number; waiting: number; open: number; maxConcurrent: number; maxQueued: number; saturated: boolean } {
    return { inFlight: this.active, waiting: this.waiters.length, open: this.open, maxConcurrent: this.maxConcurrent, maxQueued: this.maxQueued, saturated: this.saturated };
  }
}

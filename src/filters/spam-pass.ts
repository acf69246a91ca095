/**
 * One message's spam check: keeps the chunks up to maxSize (spamd needs the whole message and
 * its Content-length first), drops them and reports "skipped" past it, and at the end of DATA
 * waits at most queueTimeout for a scan slot ("busy") before asking the engine. Releases its
 * slot and its place among the open transactions on every path.
 */
import type { ScanSlots } from "./scan-slots.js";
import type { ScannerHealth } from "./scanner-health.js";
import type { SpamOutcome } from "../../policies/scan-outcome.js";
import type { SpamEngine } from "./spam-engine.js";
import type { PassLimits } from "./virus-pass.js";

export class SpamPass {
  private parts: Buffer[] = [];
  private size = 0;
  private tooBig = false;
  private readonly leave: () => void;
  private readonly waiting = new AbortController();
  ms = 0;

  constructor(private readonly engine: SpamEngine, private readonly slots: ScanSlots, private readonly limits: PassLimits, private readonly health: ScannerHealth) {
    this.leave = slots.enter();
  }

  write(chunk: Buffer): void {
    if (this.tooBig) return;
    this.size += chunk.length;
    if (this.size > this.limits.maxSize) {
      this.tooBig = true;
      this.parts = [];
      this.leave(); // will not need a spamd slot: no longer part of its load
      return;
    }
    this.parts.push(chunk);
  }

  async finish(id: string): Promise<SpamOutcome> {
    let outcome: SpamOutcome;
    let started = Date.now();
    if (this.tooBig) outcome = { status: "skipped", reason: "too-big" };
    else {
      const timer = setTimeout(() => this.waiting.abort(), this.limits.queueTimeout);
      const release = await this.slots.acquire(this.waiting.signal);
      clearTimeout(timer);
      if (!release) outcome = { status: "busy" };
      else {
        started = Date.now();
        const message = Buffer.concat(this.parts, this.size);
        this.parts = [];
        try { outcome = await this.engine.check(message); } finally { release(); }
      }
    }
    this.ms = Date.now() - started;
    this.leave();
    this.health.record(outcome, this.ms, id);
    return outcome;
  }

  abort(): void {
    this.parts = [];
    this.waiting.abort();
    this.leave();
  }
}

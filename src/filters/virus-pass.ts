/**
 * One message's virus scan: takes a scan slot as soon as DATA starts and streams the chunks to
 * the engine as they come (holding them only while no slot is free yet), stops streaming and
 * reports "skipped" past maxSize, and at the end of DATA waits at most queueTimeout for a slot
 * ("busy") before the engine's own timeout applies. Releases its slot on every path.
 */
import type { ScanSlots, Release } from "./scan-slots.js";
import type { ScannerHealth } from "./scanner-health.js";
import type { VirusOutcome } from "../../policies/scan-outcome.js";
import type { VirusEngine, VirusScan } from "./virus-engine.js";

export interface PassLimits { maxSize: number; queueTimeout: number }

export class VirusPass {
  private scan?: VirusScan;
  private pending: Buffer[] = [];
  private size = 0;
  private tooBig = false;
  private finished = false;
  private release?: Release;
  private readonly leave: () => void;
  private readonly waiting = new AbortController();
  private readonly slot: Promise<boolean>;
  ms = 0;

  constructor(private readonly engine: VirusEngine, slots: ScanSlots, private readonly limits: PassLimits, private readonly health: ScannerHealth) {
    this.leave = slots.enter();
    this.slot = slots.acquire(this.waiting.signal).then((release) => {
      if (!release) return false;
      if (this.finished || this.tooBig) { release(); return false; }
      this.release = release;
      this.scan = engine.open();
      for (const c of this.pending) this.scan.write(c);
      this.pending = [];
      return true;
    });
  }

  write(chunk: Buffer): void {
    if (this.finished || this.tooBig) return;
    this.size += chunk.length;
    if (this.size > this.limits.maxSize) {
      this.tooBig = true; // not scanned at all: a cut stream would be a misleading "clean"
      this.scan?.abort();
      this.cleanup();
      return;
    }
    if (this.scan) this.scan.write(chunk);
    else this.pending.push(chunk);
  }

  async finish(id: string): Promise<VirusOutcome> {
    const started = Date.now();
    let outcome: VirusOutcome;
    if (this.tooBig) outcome = { status: "skipped", reason: "too-big" };
    else {
      let timer: NodeJS.Timeout | undefined;
      const gotSlot = await Promise.race([this.slot, new Promise<false>((r) => { timer = setTimeout(() => r(false), this.limits.queueTimeout); })]);
      clearTimeout(timer);
      outcome = gotSlot && this.scan ? await this.scan.end() : { status: "busy" };
    }
    this.ms = Date.now() - started;
    this.cleanup();
    this.health.record(outcome, this.ms, id);
    return outcome;
  }

  abort(): void {
    this.scan?.abort();
    this.cleanup();
  }

  private cleanup(): void {
    this.finished = true;
    this.pending = [];
    this.waiting.abort();
    this.release?.();
    this.leave();
  }
}

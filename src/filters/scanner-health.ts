/**
 * The health of one scanner as this process sees it: state (unknown → up/down, from scans and
 * health PINGs), when it last changed, the last scan's latency and error, and counters. State
 * changes are logged once (FILTER_UP / FILTER_DOWN); each failed scan is logged with the
 * message id (FILTER_TIMEOUT / FILTER_ERROR). Read by the filter's health() and stats().
 */
import type { Logger } from "../observability/log.js";
import type { ScanFailure, SpamOutcome, VirusOutcome } from "../../policies/scan-outcome.js";

export type ScannerState = "unknown" | "up" | "down";

export interface ScannerCounters {
  scanned: number; clean: number; infected: number; spam: number; skipped: number;
  errors: number; timeouts: number; busy: number;
}

export interface ScannerHealthSnapshot {
  name: string; address: string; state: ScannerState; since: number;
  lastLatencyMs: number | null; lastError: string | null; counters: ScannerCounters;
}

export class ScannerHealth {
  private state: ScannerState = "unknown";
  private since = Date.now();
  private lastLatencyMs: number | null = null;
  private lastError: string | null = null;
  private readonly counters: ScannerCounters = { scanned: 0, clean: 0, infected: 0, spam: 0, skipped: 0, errors: 0, timeouts: 0, busy: 0 };

  constructor(readonly name: string, readonly address: string, private readonly log: Logger) {}

  /** The outcome of one message's scan, `ms` from the end of DATA to the answer. */
  record(outcome: VirusOutcome | SpamOutcome, ms: number, id: string): void {
    switch (outcome.status) {
      case "skipped": this.counters.skipped++; return;
      case "busy": this.counters.busy++; return;
      case "error": this.failed(outcome, id); return;
      case "infected": this.counters.infected++; break;
      case "clean": this.counters.clean++; break;
      case "scored": break;
    }
    this.counters.scanned++;
    this.lastLatencyMs = ms;
    this.answered();
  }

  /** A counted spam verdict (reject or tag) for the stats. */
  countSpam(): void { this.counters.spam++; }

  /** A health PING: null when it answered. */
  pinged(failure: ScanFailure | null): void {
    if (failure) this.failed(failure);
    else this.answered();
  }

  private answered(): void {
    if (this.state === "up") return;
    this.log.info({ event: "FILTER_UP", scanner: this.name, address: this.address, was: this.state }, `${this.name} is up`);
    this.state = "up";
    this.since = Date.now();
  }

  private failed(f: ScanFailure, id?: string): void {
    this.lastError = `${f.error}: ${f.detail}`;
    if (id) {
      if (f.error === "timeout") this.counters.timeouts++;
      else this.counters.errors++;
      const event = f.error === "timeout" ? "FILTER_TIMEOUT" : "FILTER_ERROR";
      this.log.warn({ event, id, scanner: this.name, address: this.address, error: f.error, detail: f.detail }, `${this.name} scan failed`);
    }
    if (this.state === "down") return;
    this.log.error({ event: "FILTER_DOWN", scanner: this.name, address: this.address, error: f.error, detail: f.detail, was: this.state }, `${this.name} is down`);
    this.state = "down";
    this.since = Date.now();
  }

  snapshot(): ScannerHealthSnapshot {
    return { name: this.name, address: this.address, state: this.state, since: this.since, lastLatencyMs: this.lastLatencyMs, lastError: this.lastError, counters: { ...this.counters } };
  }
}

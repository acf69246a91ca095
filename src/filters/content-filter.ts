/**
 * The seam between the SMTP session and the content scanners (ClamAV, SpamAssassin, ...).
 * A filter sees the message bytes as they arrive (write), gives its verdict at the end of
 * DATA (end), before anything is stored for delivery; it can add headers, never change the
 * message. `saturated()` lets the session refuse a new transaction at MAIL FROM with
 * 451 4.3.2 instead of letting it wait for a scanner slot. health()/stats() (optional, so
 * any filter still fits) report scanner state, latency and saturation for the status API.
 */
import type { FiltersHealth, FiltersStats } from "./filter-status.js";

import type { FilterVerdict } from "../../policies/verdict.js";
export type { FilterVerdict };

export interface FilterSession {
  write(chunk: Buffer): void;
  end(): Promise<FilterVerdict>;
  abort(): void;
}

export interface ContentFilter {
  /** True when every scan slot and queue place is taken: new transactions should be deferred (451 4.3.2). */
  saturated(): boolean;
  begin(facts: { id: string; from: string; rcpts: string[]; clientIp: string }): FilterSession;
  close(): Promise<void>;
  /** Scanner state (up/down), last latency, scans in flight, saturation: see filter-status.ts. */
  health?(): FiltersHealth;
  /** health() plus per-scanner counters (scanned, infected, spam, errors, timeouts, busy...). */
  stats?(): FiltersStats;
}

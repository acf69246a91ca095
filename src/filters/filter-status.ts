/**
 * What the content filter reports about itself to the status/health endpoints and metrics:
 * per scanner its state (up/down/unknown), last latency and error, scans in flight, waiting
 * and open, whether it is saturated and how many MAIL FROM it refused; and, when no scanner
 * is configured, a loud "disabled" with the warning. Plain JSON values (they may cross
 * process boundaries: each SMTP process has its own filter).
 */
import type { ContentFilter } from "./content-filter.js";
import type { ScannerCounters, ScannerState } from "./scanner-health.js";

export interface ScannerStatus {
  name: string;
  address: string;
  state: ScannerState;
  /** When the state last changed (ms since the epoch). */
  since: number;
  lastLatencyMs: number | null;
  lastError: string | null;
  inFlight: number;
  waiting: number;
  /** Transactions from DATA to verdict that need this scanner. */
  open: number;
  maxConcurrent: number;
  maxQueued: number;
  saturated: boolean;
  /** MAIL FROM answered 451 4.3.2 because this scanner was saturated. */
  saturatedRefusals: number;
}

export interface FiltersHealth {
  enabled: boolean;
  /** ok: every scanner up or not yet used; degraded: one is down; disabled: none configured. */
  status: "ok" | "degraded" | "disabled";
  warning?: string;
  saturated: boolean;
  saturatedRefusals: number;
  scanners: ScannerStatus[];
}

export interface FiltersStats extends FiltersHealth {
  counters: Record<string, ScannerCounters>;
}

export const FILTERS_DISABLED_WARNING =
  "NO CONTENT FILTERING: neither filters.clamav nor filters.spamassassin is configured; mail is accepted and relayed without virus or spam scanning";

export function filtersDisabledHealth(): FiltersStats {
  return { enabled: false, status: "disabled", warning: FILTERS_DISABLED_WARNING, saturated: false, saturatedRefusals: 0, scanners: [], counters: {} };
}

/** The health of whatever createContentFilter returned, undefined (no scanner) included. */
export function filtersHealth(filter: ContentFilter | undefined): FiltersHealth {
  return filter?.health?.() ?? filtersDisabledHealth();
}

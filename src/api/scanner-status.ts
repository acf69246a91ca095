/**
 * The content scanners as the API reports them: one entry per configured scanner
 * (filters.clamav, filters.spamassassin) merged from the reports of every process that runs
 * the filter (see observability/scanner-report.ts) — down if any process sees it down, up if
 * one sees it up, unknown before any report. "disabled" when no scanner is configured.
 * `mailRefused` marks a down scanner whose onError is tempfail: mail is being deferred.
 */
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";
import type { Config } from "../config/schema.js";
import { readScannerReports, type ReportedScanner } from "../observability/scanner-report.js";
import { formatScannerAddress } from "../config/scanner-address.js";

export interface ScannerView {
  name: string;
  address: string;
  onError: "tempfail" | "accept";
  state: "up" | "down" | "unknown";
  since: number | null;
  lastLatencyMs: number | null;
  lastError: string | null;
  inFlight: number;
  waiting: number;
  saturated: boolean;
  /** Processes whose report includes this scanner. */
  processes: number;
  mailRefused: boolean;
}

export interface ScannersView { status: "disabled" | "ok" | "degraded" | "unknown"; warning?: string; scanners: ScannerView[] }

export const NO_FILTERS_WARNING = "no content filtering: neither filters.clamav nor filters.spamassassin is configured";

export async function scannersStatus(config: Config, redis: Redis, keys: Keyspace): Promise<ScannersView> {
  const configured = (["clamav", "spamassassin"] as const).flatMap((name) => {
    const c = config.filters[name];
    return c ? [{ name, address: formatScannerAddress(c.address), onError: c.onError }] : [];
  });
  if (!configured.length) return { status: "disabled", warning: NO_FILTERS_WARNING, scanners: [] };
  const reports = await readScannerReports(redis, keys);
  const scanners = configured.map((c): ScannerView => {
    const seen: ReportedScanner[] = reports.flatMap((r) => (r.health?.scanners ?? []).filter((s) => s.name === c.name));
    const down = seen.filter((s) => s.state === "down");
    const up = seen.filter((s) => s.state === "up");
    const state = down.length ? "down" : up.length ? "up" : "unknown";
    const inState = state === "down" ? down : state === "up" ? up : seen;
    const latencies = seen.map((s) => s.lastLatencyMs).filter((x): x is number => typeof x === "number");
    const sinces = inState.map((s) => s.since).filter((x): x is number => typeof x === "number");
    return {
      name: c.name, address: c.address, onError: c.onError, state,
      since: sinces.length ? Math.min(...sinces) : null,
      lastLatencyMs: latencies.length ? Math.max(...latencies) : null,
      lastError: down.find((s) => s.lastError)?.lastError ?? seen.find((s) => s.lastError)?.lastError ?? null,
      inFlight: seen.reduce((n, s) => n + (s.inFlight ?? 0), 0),
      waiting: seen.reduce((n, s) => n + (s.waiting ?? 0), 0),
      saturated: seen.some((s) => s.saturated),
      processes: seen.length,
      mailRefused: state === "down" && c.onError === "tempfail",
    };
  });
  const status = scanners.some((s) => s.state === "down") ? "degraded" : scanners.every((s) => s.state === "unknown") ? "unknown" : "ok";
  return { status, scanners };
}

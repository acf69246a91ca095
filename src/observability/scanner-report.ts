/**
 * Content scanners run in the SMTP processes, the API in the supervisor: each process that
 * has a content filter writes what its filter's health() says to one Redis hash
 * (Keyspace.scanners, field = host:pid) every few seconds, and the API merges the
 * fresh reports. Reports older than STALE_MS (a dead process) are ignored and removed.
 * The report is plain JSON, whatever shape the filter's health() has.
 */
import os from "node:os";
import type { Redis } from "ioredis";
import type { Logger } from "./log.js";

export const REPORT_EVERY_MS = 5_000;
export const STALE_MS = 30_000;

/** What the filter must offer; health() is optional so that any filter fits. */
export interface ReportingFilter { health?(): unknown }

/** One scanner as one process reported it (the fields of the filter's ScannerStatus that we use). */
export interface ReportedScanner {
  name: string; address?: string; state?: string; since?: number; lastLatencyMs?: number | null; lastError?: string | null;
  inFlight?: number; waiting?: number; saturated?: boolean;
}

export interface ScannerReport { at: number; process: string; health: { status?: string; scanners?: ReportedScanner[] } | null }

/** The key written here (named by src/redis/keyspace.ts, which sits above observability). */
interface ScannerKeys { scanners(): string }

export class ScannerReporter {
  private timer?: NodeJS.Timeout;
  private readonly field = `${os.hostname()}:${process.pid}`;

  constructor(private readonly redis: Redis, private readonly keys: ScannerKeys, private readonly filter: ReportingFilter, private readonly log: Logger) {}

  start(): this {
    const report = () => {
      const body: ScannerReport = { at: Date.now(), process: this.field, health: (this.filter.health?.() as ScannerReport["health"]) ?? null };
      this.redis.hset(this.keys.scanners(), this.field, JSON.stringify(body))
        .catch((err) => this.log.debug({ event: "SCANNER_REPORT_FAILED", err: (err as Error).message }, "could not report scanner health"));
    };
    report();
    this.timer = setInterval(report, REPORT_EVERY_MS);
    this.timer.unref();
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.hdel(this.keys.scanners(), this.field).catch(() => undefined);
  }
}

/** The fresh reports of every process; stale ones are deleted on the way. */
export async function readScannerReports(redis: Redis, keys: ScannerKeys, now = Date.now()): Promise<ScannerReport[]> {
  const all = await redis.hgetall(keys.scanners());
  const fresh: ScannerReport[] = [];
  const stale: string[] = [];
  for (const [field, text] of Object.entries(all)) {
    try {
      const r = JSON.parse(text) as ScannerReport;
      if (now - r.at > STALE_MS) stale.push(field);
      else fresh.push(r);
    } catch { stale.push(field); }
  }
  if (stale.length) await redis.hdel(keys.scanners(), ...stale);
  return fresh;
}

/**
 * The virus-scanner interface the filter session talks to. A scan is a stream: chunks are
 * handed over as the SMTP client sends them, the outcome comes after end(). Engines never
 * throw: every failure is an outcome value. ClamAV (clamd-client.ts) implements it.
 */
import type { ScanFailure, VirusOutcome } from "../../policies/scan-outcome.js";

export interface VirusScan {
  write(chunk: Buffer): void;
  /** The message is complete: its outcome, within the engine's timeout. */
  end(): Promise<VirusOutcome>;
  abort(): void;
}

export interface VirusEngine {
  readonly name: string;
  readonly address: string;
  open(): VirusScan;
  /** Cheap liveness check: null when the scanner answers, the failure otherwise. */
  ping(): Promise<ScanFailure | null>;
}

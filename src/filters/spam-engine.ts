/**
 * The spam-engine interface: one complete message in, a score and the rules that fired out.
 * SpamAssassin (spamd-client.ts) implements it; a faster engine (rspamd's HTTP /checkv2)
 * would be one more implementation, chosen in create-filter.ts, with no change to the SMTP
 * session, the filter session or the threshold policy. Engines never throw.
 */
import type { ScanFailure, SpamOutcome } from "../../policies/scan-outcome.js";

export interface SpamEngine {
  readonly name: string;
  readonly address: string;
  check(message: Buffer): Promise<SpamOutcome>;
  /** Cheap liveness check: null when the engine answers, the failure otherwise. */
  ping(): Promise<ScanFailure | null>;
}

/**
 * What one scanner says about one message, as plain values: the engines produce them, the
 * threshold policy (policies/content-thresholds.ts) turns them into the SMTP verdict.
 * Failures are values too: "down" (no connection), "timeout" (no answer in time), "failed"
 * (the connection broke or the answer was an error or unreadable). "busy" means no scan slot
 * came free within queueTimeout: that is load, not a scanner fault.
 */
export type ScanFailure = { status: "error"; error: "down" | "timeout" | "failed"; detail: string };

export type Skipped = { status: "skipped"; reason: "too-big" };
export type Busy = { status: "busy" };

export type VirusOutcome = { status: "clean" } | { status: "infected"; signature: string } | Skipped | Busy | ScanFailure;

export interface SpamRule { name: string; score: number; description: string }

export type SpamOutcome = { status: "scored"; score: number; threshold?: number; rules: SpamRule[] } | Skipped | Busy | ScanFailure;

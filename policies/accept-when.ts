/**
 * Backup-only acceptance (`domains.<d>.acceptWhen`): whether a recipient of a domain may be
 * accepted at RCPT, given what the primary monitor last said of that domain's primary.
 * A pure function from facts to a refusal (null = go on with the other recipient checks):
 *   acceptWhen: always                              accept
 *   acceptWhen: primaryDown, primary down           accept (that is what a backup MX is for)
 *   acceptWhen: primaryDown, primary up (fresh)     450 4.7.1 — deliver to the primary MX
 *   acceptWhen: primaryDown, state unknown or stale accept
 *
 * Why 450 at RCPT and not 421 at connect: one session may carry recipients of several
 * domains, some `always`; at connect the domain is not known yet. 450 (not 451: nothing
 * failed here) with 4.7.1 "delivery not authorized" is a policy deferral, the code Postfix's
 * access maps give for `defer_if_permit`; the sender keeps the message and tries its MX list
 * again, where the primary answers.
 *
 * Why an unknown state accepts: mxspool defers only when it positively knows the primary is
 * up. Just after start (no probe yet), or when the monitor's last probe is older than
 * `staleAfterMs` (the monitor stopped, Redis lost the hash), a deferral could turn away mail
 * during a real outage; accepting costs at most some mail that could have gone to the
 * primary directly, and is what a plain backup MX does anyway.
 */
import type { Refusal } from "./verdict.js";

export type AcceptWhen = "always" | "primaryDown";

export interface AcceptWhenFacts {
  acceptWhen: AcceptWhen;
  domain: string;
  address: string;
  /** The monitor's last verdict on the domain's primary ("unknown": none yet). */
  primary: "up" | "down" | "unknown";
  /** Time since the monitor's last probe of it, ms (undefined: never probed). */
  probeAgeMs: number | undefined;
  /** A probe older than this says nothing any more (a few monitor intervals). */
  staleAfterMs: number;
}

export const BACKUP_DEFERRED_REASON = "backup-deferred";

export function acceptWhen(f: AcceptWhenFacts): Refusal | null {
  if (f.acceptWhen === "always") return null;
  if (f.primary !== "up") return null;
  if (f.probeAgeMs === undefined || f.probeAgeMs > f.staleAfterMs) return null;
  return {
    code: 450, enhanced: "4.7.1", reason: BACKUP_DEFERRED_REASON,
    text: `<${f.address}>: Recipient address rejected: backup MX only while the primary MX of ${f.domain} is up; deliver to the primary, try again later`,
  };
}

/**
 * Backup traffic worth an alert: deliveries tried at this (higher-numbered) MX while the
 * primary is healthy. `count` is the deferrals for the domain in the current window; the
 * event is opened when the count reaches the threshold (once per window; the event store
 * keeps only one open per domain anyway).
 */
export function backupTrafficCrossed(count: number, threshold: number): boolean {
  return threshold > 0 && count === threshold;
}

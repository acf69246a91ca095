/**
 * Whether a MAIL FROM may open a transaction: a pure function from what the session knows to
 * a refusal, checked in this order (Haraka's hook_mail; Postfix's smtpd_sender_restrictions):
 *   shutting down                       421 4.3.2
 *   HELO/EHLO name not a valid name     501 5.5.2  (RFC 5321 §4.1.1.1)
 *   STARTTLS required from this client  530 5.7.0
 *   transactions per session exceeded   421 4.7.0
 *   content scanners saturated          451 4.3.2
 *   queue storage (Redis) unavailable   451 4.3.0  (a failover, a restart: retry, do not hang)
 * The first three are about the session: a MAIL they refuse does not count as a transaction.
 * The last three come after the count: the MAIL refused by them was one.
 */
import { ipInList, validHeloName } from "./client-checks.js";
import type { Refusal } from "./verdict.js";

export interface MailPhaseFacts {
  hostname: string;
  shuttingDown: boolean;
  helo: string | undefined;
  clientIp: string;
  secure: boolean;
  requireTlsFrom: string[];
  /** Transactions this session opened before this MAIL. */
  transactions: number;
  maxTransactions: number;
  /** Asked last, and only when every other rule passed: asking counts a saturation refusal. */
  scannersSaturated: () => boolean;
  /** Redis is not connected (reconnecting, failing over): nothing could be stored now. */
  storageDown?: boolean;
}

export interface MailPhaseVerdict {
  refusal: Refusal | null;
  /** Whether this MAIL counts toward maxTransactions (it got past the session checks). */
  counted: boolean;
}

/** The answer to every command while the listener stops (at connect too). */
export const shuttingDown = (hostname: string): Refusal => ({ code: 421, enhanced: "4.3.2", text: `${hostname} Service shutting down, try again later`, reason: "shutting-down" });

/** Redis is reconnecting or failing over: the answer at MAIL and at the end of DATA. */
export const STORAGE_DOWN: Refusal = { code: 451, enhanced: "4.3.0", text: "Queue storage unavailable, try again later", reason: "storage-down" };

export function mailPhase(f: MailPhaseFacts): MailPhaseVerdict {
  const session = (r: Refusal): MailPhaseVerdict => ({ refusal: r, counted: false });
  if (f.shuttingDown) return session(shuttingDown(f.hostname));
  if (!validHeloName(f.helo)) return session({ code: 501, enhanced: "5.5.2", text: `<${f.helo}>: Helo command rejected: Invalid name`, reason: "invalid-helo" });
  if (!f.secure && ipInList(f.clientIp, f.requireTlsFrom)) return session({ code: 530, enhanced: "5.7.0", text: "Must issue a STARTTLS command first", reason: "tls-required" });
  if (f.transactions + 1 > f.maxTransactions) {
    return { refusal: { code: 421, enhanced: "4.7.0", text: `${f.hostname} Too many transactions in this session, closing connection`, reason: "too-many-transactions" }, counted: true };
  }
  if (f.scannersSaturated()) return { refusal: { code: 451, enhanced: "4.3.2", text: "Content scanners busy, try again later", reason: "filters-saturated" }, counted: true };
  if (f.storageDown) return { refusal: STORAGE_DOWN, counted: true };
  return { refusal: null, counted: true };
}

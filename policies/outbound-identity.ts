/**
 * Who may send as whom (outbound mail, src/outbound/submit.ts): the envelope sender and every
 * address in the From header must be the logged-in user's own address or one of the aliases
 * configured for that user (`outbound.aliases`). Anything else is 553 5.7.1: mxspool must never
 * let one user speak for another, nor become a relay for forged senders. Pure: facts in, verdict out.
 * The envelope half alone (envelopeSenderVerdict) is what SMTP submission asks at MAIL FROM, so a
 * client hears the refusal there; the door asks the whole senderVerdict again at DATA.
 */
import type { Refusal } from "./verdict.js";

export interface SenderFacts {
  /** The authenticated user (webmail login or SMTP AUTH). */
  user: string;
  /** MAIL FROM. */
  envelopeFrom: string;
  /** Every address of every From header of the message. */
  headerFrom: string[];
  /** Addresses configured as this user's aliases. */
  aliases: string[];
}

const refuse = (text: string, reason: string): Refusal => ({ code: 553, enhanced: "5.7.1", text, reason });

const owned = (f: Pick<SenderFacts, "user" | "aliases">) => new Set([f.user, ...f.aliases].map((a) => a.toLowerCase()));

/** null when the user may use this envelope sender (MAIL FROM); the From header is not known yet. */
export function envelopeSenderVerdict(f: Omit<SenderFacts, "headerFrom">): Refusal | null {
  if (owned(f).has(f.envelopeFrom.toLowerCase())) return null;
  return refuse(`Sender address <${f.envelopeFrom}> is not yours (logged in as ${f.user})`, "sender-not-owned");
}

/** null when the user may send this message as it is addressed. */
export function senderVerdict(f: SenderFacts): Refusal | null {
  const envelope = envelopeSenderVerdict(f);
  if (envelope) return envelope;
  const own = owned(f);
  if (f.headerFrom.length === 0) return refuse("The message has no From address", "from-missing");
  const foreign = f.headerFrom.find((a) => !own.has(a.toLowerCase()));
  if (foreign !== undefined) return refuse(`From address <${foreign}> is not yours (logged in as ${f.user})`, "from-not-owned");
  return null;
}

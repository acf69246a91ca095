/**
 * How much one user, and everyone together, may send (outbound mail): recipients per message,
 * message size, messages per hour per user and for the whole server. The counts include the
 * message being decided (the caller counts it first and takes it back when refused). Pure.
 */
import type { Refusal } from "./verdict.js";

export interface OutboundLimits {
  messagesPerHour: number;
  recipientsPerMessage: number;
  globalMessagesPerHour: number;
  maxMessageSize: number;
}

export interface SubmissionFacts {
  recipients: number;
  size: number;
  /** Messages this user sent in the current hour, this one included. */
  userThisHour: number;
  /** Messages everyone sent in the current hour, this one included. */
  globalThisHour: number;
}

/** The refusal for a message over a size or recipient limit (checked before any counting), or null. */
export function shapeVerdict(f: Pick<SubmissionFacts, "recipients" | "size">, l: OutboundLimits): Refusal | null {
  if (f.recipients === 0) return { code: 554, enhanced: "5.5.1", text: "No valid recipients", reason: "no-recipients" };
  if (f.recipients > l.recipientsPerMessage) return { code: 452, enhanced: "4.5.3", text: `Too many recipients: at most ${l.recipientsPerMessage} per message`, reason: "too-many-recipients" };
  if (f.size > l.maxMessageSize) return { code: 552, enhanced: "5.3.4", text: `Message too big: at most ${l.maxMessageSize} bytes`, reason: "message-too-big" };
  return null;
}

/** The refusal for a sender over an hourly rate, or null. */
export function rateVerdict(f: Pick<SubmissionFacts, "userThisHour" | "globalThisHour">, l: OutboundLimits): Refusal | null {
  if (f.userThisHour > l.messagesPerHour) return { code: 450, enhanced: "4.7.1", text: `Sending limit reached: at most ${l.messagesPerHour} messages per hour, try again later`, reason: "user-rate" };
  if (f.globalThisHour > l.globalMessagesPerHour) return { code: 450, enhanced: "4.7.1", text: "This server's sending limit is reached for this hour, try again later", reason: "global-rate" };
  return null;
}

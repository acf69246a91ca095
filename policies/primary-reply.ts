/**
 * What a reply or error from the primary means for a recipient: delivered, a temporary
 * failure (retry later), a permanent one (bounce), or "primary unreachable" (wait for the
 * monitor without spending an attempt). Pure: a function of the code and error kind.
 */
export type Outcome = "delivered" | "temporary" | "permanent" | "unreachable";

const NETWORK_CODES = new Set(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENOTFOUND", "ETLS", "EPROTOCOL"]);

/**
 * 5xx is permanent, except the codes that mean the two MTAs disagree about the protocol
 * (500-504: syntax, not implemented, bad sequence): that is no verdict on the recipient,
 * so it is retried rather than bounced.
 */
export function classifyReplyCode(code: number | undefined): Outcome {
  if (code === undefined) return "temporary";
  if (code >= 200 && code < 300) return "delivered";
  if (code >= 500 && code <= 504) return "temporary";
  if (code >= 500 && code < 600) return "permanent";
  return "temporary";
}

/**
 * A failure before any recipient got an answer. Network errors and a 421 greeting mean the
 * primary is not taking mail right now: no attempt is spent on them.
 */
export function classifyConnectionError(err: { code?: string; responseCode?: number; command?: string }): Outcome {
  if (err.code && NETWORK_CODES.has(err.code) && !err.responseCode) return "unreachable";
  if (err.responseCode === 421 && (err.command === "CONN" || err.command === "EHLO" || err.command === "HELO" || !err.command)) return "unreachable";
  return classifyReplyCode(err.responseCode);
}

/** What the primary's answer taught us about a recipient: it exists, or it does not. */
export type RecipientFact = "ok" | "bad";

/**
 * What a reply says about the recipient's existence, for the recipient cache of `verify`
 * domains: a 2xx means it exists; 550, 551 and 553 (mailbox unavailable, not local,
 * mailbox name not allowed) that it does not — the code decides, whatever the text. Anything
 * else (a full mailbox 452/552, a transaction refusal 554, a temporary failure, no reply)
 * says nothing.
 */
export function recipientFact(code: number | undefined): RecipientFact | null {
  if (code === undefined) return null;
  if (code >= 200 && code < 300) return "ok";
  return code === 550 || code === 551 || code === 553 ? "bad" : null;
}

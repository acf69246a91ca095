/**
 * Which RCPT TO addresses mxspool accepts: a pure function from an address and the
 * configured domains to a verdict. Only configured domains, only plain user@domain forms:
 * the old relay tricks (%-hack, bang paths, source routes, quoted or doubled @, IP
 * literals) are refused as relaying, never guessed at.
 */
import type { Refusal } from "./verdict.js";
export type RecipientVerdict =
  | { action: "accept"; domain: string; address: string }
  | { action: "verify"; domain: string; address: string }
  | ({ action: "reject" } & Refusal);

export interface RecipientDirectory {
  /** Configured domain names, lower case, no trailing dot. */
  hasDomain(domain: string): boolean;
  /** Whether a local recipient exists (for "*", always), or "verify": ask the primary. */
  knows(address: string, domain: string): boolean | "verify";
}

const relayDenied = (reason: string): RecipientVerdict => ({ action: "reject", code: 550, enhanced: "5.7.1", text: "Relay access denied", reason });

export function normaliseDomain(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, "");
}

export function classifyRecipient(address: string, dir: RecipientDirectory): RecipientVerdict {
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1) {
    return { action: "reject", code: 501, enhanced: "5.1.3", text: "Bad recipient address syntax", reason: "syntax" };
  }
  const local = address.slice(0, at);
  const domain = normaliseDomain(address.slice(at + 1));
  if (domain.startsWith("[")) return relayDenied("ip-literal");
  if (!dir.hasDomain(domain)) return relayDenied("relay-domain");
  // %, !, @ and : in the local part are the relay tricks: never route on them
  if (/[%!@:]/.test(local) || local.startsWith('"')) return relayDenied("relay-trick");
  const normalised = `${local}@${domain}`;
  const known = dir.knows(normalised, domain);
  if (known === "verify") return { action: "verify", domain, address: normalised };
  if (!known) {
    return { action: "reject", code: 550, enhanced: "5.1.1", text: "Recipient address rejected: user unknown", reason: "unknown-recipient" };
  }
  return { action: "accept", domain, address: normalised };
}

/** `recipients: { verify: true, ... }`: ask the primary (RCPT callout) and cache its answers. */
export type VerifyConfig = { verify: true; whenUnknown: "accept" | "defer"; positiveTtl: number; negativeTtl: number; calloutTimeout: number };
export const isVerify = (r: unknown): r is VerifyConfig => typeof r === "object" && r !== null && (r as { verify?: unknown }).verify === true;

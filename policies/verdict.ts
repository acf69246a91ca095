/**
 * The one shape of a refusal, whichever step decides it (a recipient, a limit, a scanner, the
 * end of DATA): the SMTP code, its RFC 3463 enhanced code, the text, and a short reason that
 * names the rule in logs and counters. src/mail/reply.ts turns it into the reply on the wire.
 */
export interface Refusal { code: number; enhanced: string; text: string; reason: string }

/** What the content scanners say at the end of DATA: keep it (maybe with headers), or refuse it. */
export type FilterVerdict =
  | { action: "accept"; headers?: string; flags?: string[] }
  | ({ action: "reject" | "tempfail" } & Refusal);

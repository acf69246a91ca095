/**
 * Whether a delivery status notification may be sent, and with which status code.
 * Pure. Never a DSN to the null sender <> (that is what bounces and DSNs are sent from),
 * hence never a DSN about a DSN; and never one about a message that itself is a delivery
 * report, whatever its envelope says (RFC 3461 §6.2, RFC 5321 §4.5.5).
 */
export function mayNotify(sender: string, originalHeaders: string): boolean {
  if (!sender || sender === "<>") return false;
  if (/^content-type:\s*multipart\/report\s*;[^\r\n]*(\r?\n[ \t][^\r\n]*)*report-type\s*=\s*"?delivery-status/im.test(originalHeaders)) return false;
  return true;
}

/** The RFC 3463 status of a reply: the enhanced code it carries, else one derived from its class. */
export function statusOf(code: number | undefined, text: string): string {
  const m = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(text);
  if (m) return m[1];
  if (code && code >= 500) return "5.0.0";
  return "4.0.0";
}

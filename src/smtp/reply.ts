/**
 * SMTP replies as values. An SmtpReply thrown or passed to a smtp-server callback *is* the
 * reply the client gets: code, enhanced status code (RFC 3463) and text.
 *
 * smtp-server derives the enhanced code from the basic code alone (every 550 becomes 5.1.1,
 * so "relay denied" would read "mailbox unknown"). installEnhancedCodeSupport() makes a
 * reply text that starts with its own enhanced code keep it; all other replies are as before.
 */
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";

export class SmtpReply extends Error {
  constructor(readonly responseCode: number, readonly enhanced: string, readonly text: string, readonly reason = "") {
    super(`${enhanced} ${text}`);
    this.name = "SmtpReply";
  }
}

export const reply = (code: number, enhanced: string, text: string, reason = "") => new SmtpReply(code, enhanced, text, reason);

let installed = false;
export function installEnhancedCodeSupport(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as Record<string, unknown>;
  const send = proto.send as (this: unknown, code: number, data: unknown, context?: unknown) => void;
  proto.send = function (this: unknown, code: number, data: unknown, context?: unknown) {
    if (typeof data === "string" && /^[245]\.\d{1,3}\.\d{1,3} /.test(data)) return send.call(this, code, data, false);
    return send.call(this, code, data, context);
  };
}

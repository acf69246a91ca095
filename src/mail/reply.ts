/**
 * SMTP replies as values. An SmtpReply thrown or passed to a smtp-server callback *is* the
 * reply the client gets: code, enhanced status code (RFC 3463) and text (the enhanced code
 * is kept thanks to src/smtp/smtp-server-patches.ts).
 */
export class SmtpReply extends Error {
  constructor(readonly responseCode: number, readonly enhanced: string, readonly text: string, readonly reason = "") {
    super(`${enhanced} ${text}`);
    this.name = "SmtpReply";
  }
}

export const reply = (code: number, enhanced: string, text: string, reason = "") => new SmtpReply(code, enhanced, text, reason);

/**
 * Builds a delivery status notification (RFC 3464 multipart/report; report-type=
 * delivery-status): a human-readable part, the machine-readable per-recipient status, and
 * the original message's headers (text/rfc822-headers). Pure: bytes out, no I/O.
 */
import { randomBytes } from "node:crypto";
import { rfc5322Date } from "../mail/received-header.js";

export interface DsnRecipient { rcpt: string; status: string; diagnostic: string; remoteMta?: string }

export interface DsnFacts {
  kind: "failed" | "delayed";
  hostname: string;
  queueId: string;
  sender: string;
  arrival: Date;
  recipients: DsnRecipient[];
  originalHeaders: string;
  willRetryUntil?: Date;
  now?: Date;
}

const line = (s: string) => s.replace(/[\r\n]+/g, " ");
/** The text without its trailing CRLFs (a loop: `/(\r\n)+$/` is quadratic on runs of CRLF). */
function withoutTrailingCrlf(s: string): string {
  let end = s.length;
  while (end >= 2 && s[end - 2] === "\r" && s[end - 1] === "\n") end -= 2;
  return s.slice(0, end);
}

export function composeDsn(f: DsnFacts): Buffer {
  const now = f.now ?? new Date();
  const boundary = `${f.queueId}.${randomBytes(6).toString("hex")}/${f.hostname}`;
  const failed = f.kind === "failed";
  const subject = failed ? "Undelivered Mail Returned to Sender" : "Delayed Mail (still being retried)";
  const human = failed
    ? [`This is the mail system at host ${f.hostname}.`, "",
      "I'm sorry to have to inform you that your message could not be delivered to one or more",
      "recipients. It's attached below.", "",
      ...f.recipients.map((r) => `<${r.rcpt}>: ${line(r.diagnostic)}`)]
    : [`This is the mail system at host ${f.hostname}.`, "",
      "####################################################################",
      "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #",
      "####################################################################", "",
      "Your message could not be delivered yet: the destination mail server is not taking mail.",
      f.willRetryUntil ? `It will be retried until ${rfc5322Date(f.willRetryUntil)}.` : "It will be retried.", "",
      ...f.recipients.map((r) => `<${r.rcpt}>: ${line(r.diagnostic)}`)];
  const perRecipient = f.recipients.map((r) => [
    `Final-Recipient: rfc822; ${r.rcpt}`,
    `Original-Recipient: rfc822;${r.rcpt}`,
    `Action: ${failed ? "failed" : "delayed"}`,
    `Status: ${r.status}`,
    ...(r.remoteMta ? [`Remote-MTA: dns; ${line(r.remoteMta)}`] : []),
    `Diagnostic-Code: smtp; ${line(r.diagnostic)}`,
    ...(!failed && f.willRetryUntil ? [`Will-Retry-Until: ${rfc5322Date(f.willRetryUntil)}`] : []),
  ].join("\r\n"));
  const parts = [
    `From: Mail Delivery System <MAILER-DAEMON@${f.hostname}>`,
    `To: <${f.sender}>`,
    `Subject: ${subject}`,
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: <${f.queueId}.${failed ? "bounce" : "delay"}.${now.getTime()}@${f.hostname}>`,
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"`,
    "",
    "This is a MIME-encapsulated message.",
    "",
    `--${boundary}`,
    "Content-Description: Notification",
    "Content-Type: text/plain; charset=utf-8",
    "",
    ...human,
    "",
    `--${boundary}`,
    "Content-Description: Delivery report",
    "Content-Type: message/delivery-status",
    "",
    `Reporting-MTA: dns; ${f.hostname}`,
    `X-Mxspool-Queue-ID: ${f.queueId}`,
    `Arrival-Date: ${rfc5322Date(f.arrival)}`,
    "",
    perRecipient.join("\r\n\r\n"),
    "",
    `--${boundary}`,
    `Content-Description: ${failed ? "Undelivered" : "Delayed"} Message Headers`,
    "Content-Type: text/rfc822-headers",
    "",
    withoutTrailingCrlf(f.originalHeaders.replace(/\r?\n/g, "\r\n")),
    "",
    `--${boundary}--`,
    "",
  ];
  return Buffer.from(parts.join("\r\n"), "utf8");
}

/**
 * The message a webmail user sends, built with nodemailer's MailComposer: From (the user's
 * own address or a configured alias: the caller decides), To, Cc, Subject, the text (and an
 * optional simple HTML version of it), In-Reply-To/References, attachments, a fresh
 * Message-ID at the sender's domain and the Date. Bcc recipients are envelope recipients only:
 * they are never written into the headers. Returns the bytes with CRLF line ends, as SMTP
 * carries them.
 */
import crypto from "node:crypto";
import MailComposer from "nodemailer/lib/mail-composer";
import type { Recipient } from "./recipients.js";

export interface OutgoingAttachment { filename: string; contentType: string; content: Buffer }

export interface Outgoing {
  from: string;
  to: Recipient[];
  cc: Recipient[];
  subject: string;
  text: string;
  html?: string;
  inReplyTo?: string;
  references?: string[];
  attachments: OutgoingAttachment[];
  date?: Date;
}

const addr = (r: Recipient) => (r.name ? { name: r.name, address: r.address } : r.address);

export function newMessageId(from: string): string {
  return `<${crypto.randomBytes(12).toString("base64url")}.${Date.now().toString(36)}@${from.slice(from.lastIndexOf("@") + 1)}>`;
}

/** The simple HTML version of a plain text: escaped, paragraphs and line breaks kept, quotes set off. */
export function simpleHtml(text: string): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
  const paras = text.replace(/\r\n/g, "\n").split(/\n{2,}/).map((p) => {
    const quoted = p.split("\n").every((l) => l.startsWith(">"));
    const inner = p.split("\n").map((l) => esc(quoted ? l.replace(/^> ?/, "") : l)).join("<br>");
    return quoted ? `<blockquote style="margin:0 0 0 .8ex;border-left:2px solid #ccc;padding-left:1ex">${inner}</blockquote>` : `<p>${inner}</p>`;
  });
  return `<!doctype html><html><body>${paras.join("\n")}</body></html>`;
}

export async function buildMessage(m: Outgoing): Promise<{ raw: Buffer; messageId: string }> {
  const messageId = newMessageId(m.from);
  const composer = new MailComposer({
    from: m.from,
    to: m.to.map(addr),
    cc: m.cc.length ? m.cc.map(addr) : undefined,
    subject: m.subject,
    text: m.text,
    html: m.html,
    inReplyTo: m.inReplyTo,
    references: m.references,
    messageId,
    date: m.date ?? new Date(),
    attachments: m.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
  });
  const built = await composer.compile().build();
  return { raw: Buffer.from(built.toString("latin1").replace(/\r?\n/g, "\r\n"), "latin1"), messageId };
}

/**
 * The facts of a received message that a reply or a forward needs (compose/draft.ts), taken
 * from mailparser's ParsedMail: addresses, subject, date, ids and a plain text (the text part,
 * else the HTML part reduced to text), plus the attachments a forward can carry along.
 */
import type { AddressObject, ParsedMail } from "mailparser";
import type { Addr, Original } from "./draft.js";

function addrs(v: AddressObject | AddressObject[] | undefined): Addr[] {
  return [v ?? []].flat().flatMap((x) => x.value).flatMap((a) => (a.group ? a.group : [a]))
    .filter((a) => a.address).map((a) => ({ name: a.name ?? "", address: a.address! }));
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", nbsp: " " };

/** A readable text from HTML for quoting (not for display: nothing of it is rendered as HTML). */
export function textOfHtml(h: string): string {
  return h.replace(/<(style|script|head)[\s\S]*?<\/\1>/gi, "")
    .replace(/<br\s*\/?>|<\/(p|div|tr|h[1-6]|li|table)>/gi, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e: string) => ENTITIES[e])
    .replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim();
}

export function originalOf(mail: ParsedMail): Original {
  const refs = mail.references === undefined ? [] : [mail.references].flat();
  const text = typeof mail.text === "string" && mail.text ? mail.text : typeof mail.html === "string" ? textOfHtml(mail.html) : "";
  return {
    from: addrs(mail.from), replyTo: addrs(mail.replyTo), to: addrs(mail.to), cc: addrs(mail.cc),
    subject: mail.subject ?? "", date: mail.date, messageId: mail.messageId, inReplyTo: mail.inReplyTo,
    references: refs.flatMap((r) => r.split(/\s+/)).filter(Boolean), text,
  };
}

/**
 * What the compose form starts with for a reply, a reply to all or a forward, from the facts
 * of the original (its addresses, subject, date, ids and text). Pure, tested from a table.
 * Reply: to the Reply-To (else the From). Reply to all: that, plus the original To and Cc,
 * without the user's own address and without duplicates. Subjects get one "Re: " / "Fwd: ".
 * Threading (RFC 5322 §3.6.4): In-Reply-To is the original's Message-ID; References are the
 * original's References (else its In-Reply-To) followed by its Message-ID, at most 20 ids.
 */
export type DraftKind = "new" | "reply" | "reply-all" | "forward";
export interface Addr { name: string; address: string }

export interface Original {
  from: Addr[];
  replyTo: Addr[];
  to: Addr[];
  cc: Addr[];
  subject: string;
  date?: Date;
  messageId?: string;
  inReplyTo?: string;
  references: string[];
  text: string;
}

export interface Draft { to: string; cc: string; subject: string; body: string; inReplyTo?: string; references?: string[] }

const MAX_REFERENCES = 20;
const MAX_QUOTED = 200_000;

export function formatAddr(a: Addr): string {
  if (!a.name) return a.address;
  return /^[\w .'-]*$/.test(a.name) ? `${a.name} <${a.address}>` : `"${a.name.replace(/["\\]/g, "\\$&")}" <${a.address}>`;
}

function list(addrs: Addr[]): string {
  return addrs.map(formatAddr).join(", ");
}

function prefixed(marker: "Re" | "Fwd", subject: string): string {
  const s = subject.trim();
  const already = marker === "Re" ? /^re:/i : /^(fwd?|fw):/i;
  return already.test(s) ? s : `${marker}: ${s}`.trim();
}

function dedupe(addrs: Addr[], exclude: string[]): Addr[] {
  const seen = new Set(exclude.map((e) => e.toLowerCase()));
  return addrs.filter((a) => {
    const k = a.address.toLowerCase();
    if (!a.address || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function threading(o: Original): { inReplyTo?: string; references?: string[] } {
  if (!o.messageId) return {};
  const base = o.references.length ? o.references : o.inReplyTo ? [o.inReplyTo] : [];
  return { inReplyTo: o.messageId, references: [...base.filter((r) => r !== o.messageId), o.messageId].slice(-MAX_REFERENCES) };
}

function quote(o: Original): string {
  const who = o.from[0] ? formatAddr(o.from[0]) : "the sender";
  const when = o.date ? `On ${o.date.toUTCString()}, ` : "";
  const text = o.text.slice(0, MAX_QUOTED).replace(/\r\n/g, "\n").replace(/\n+$/, "");
  return `\n\n${when}${who} wrote:\n${text.split("\n").map((l) => (l.startsWith(">") ? `>${l}` : `> ${l}`)).join("\n")}\n`;
}

function forwarded(o: Original): string {
  const lines = ["", "", "---------- Forwarded message ----------", `From: ${list(o.from)}`];
  if (o.date) lines.push(`Date: ${o.date.toUTCString()}`);
  lines.push(`Subject: ${o.subject}`);
  if (o.to.length) lines.push(`To: ${list(o.to)}`);
  if (o.cc.length) lines.push(`Cc: ${list(o.cc)}`);
  return `${lines.join("\n")}\n\n${o.text.slice(0, MAX_QUOTED).replace(/\r\n/g, "\n")}`;
}

export function draftFor(kind: DraftKind, o: Original | undefined, user: string): Draft {
  if (kind === "new" || !o) return { to: "", cc: "", subject: "", body: "" };
  if (kind === "forward") return { to: "", cc: "", subject: prefixed("Fwd", o.subject), body: forwarded(o) };
  const primary = o.replyTo.length ? o.replyTo : o.from;
  const to = dedupe(primary, kind === "reply-all" ? [user] : []);
  const cc = kind === "reply-all" ? dedupe([...o.to, ...o.cc], [user, ...to.map((a) => a.address)]) : [];
  return { to: list(to.length ? to : primary), cc: list(cc), subject: prefixed("Re", o.subject), body: quote(o), ...threading(o) };
}

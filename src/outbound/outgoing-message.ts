/**
 * The header work on a message a user sends (src/outbound/submit.ts): reads its From and
 * Subject, adds Date and Message-ID when the client left them out, and removes Bcc, which
 * must never leave (recipients learn nothing of each other). The bytes are handled as latin1
 * so that 8-bit and UTF-8 headers pass through unchanged. Pure: bytes in, bytes out.
 */
import { randomBytes } from "node:crypto";
import addressparser from "nodemailer/lib/addressparser";
import { findHeaderEnd } from "../mail/header-end.js";
import { rfc5322Date } from "../mail/received-header.js";

export interface HeaderField { name: string; lines: string }

/** The header block split into fields (each with its continuation lines, line ends kept). */
export function headerFields(raw: Buffer): { fields: HeaderField[]; body: Buffer } {
  const end = findHeaderEnd(raw);
  const head = raw.subarray(0, end ? end.headerEnd : raw.length).toString("latin1");
  const body = end ? raw.subarray(end.headerEnd) : Buffer.alloc(0);
  const fields: HeaderField[] = [];
  for (const line of head.split(/(?<=\n)/)) {
    if (/^[ \t]/.test(line) && fields.length) { fields[fields.length - 1].lines += line; continue; }
    const colon = line.indexOf(":");
    fields.push({ name: colon > 0 ? line.slice(0, colon).trim().toLowerCase() : "", lines: line });
  }
  return { fields, body };
}

const valueOf = (f: HeaderField) => f.lines.slice(f.lines.indexOf(":") + 1).replace(/\r?\n[ \t]/g, " ").trim();

/** Every mailbox address of every field named `name` (groups flattened), lower-cased. */
export function addressesIn(fields: HeaderField[], name: string): string[] {
  return fields.filter((f) => f.name === name)
    .flatMap((f) => addressparser(Buffer.from(valueOf(f), "latin1").toString("utf8"), { flatten: true }))
    .map((a) => ("address" in a && a.address ? a.address.toLowerCase() : ""))
    .filter(Boolean);
}

export function subjectOf(fields: HeaderField[]): string {
  const f = fields.find((x) => x.name === "subject");
  return f ? Buffer.from(valueOf(f), "latin1").toString("utf8") : "";
}

export interface Prepared {
  /** The bytes as the recipients get them: no Bcc, Date and Message-ID present. */
  outgoing: Buffer;
  /** The same with the Bcc kept: the sender's own copy. */
  ownCopy: Buffer;
  from: string[];
  subject: string;
  messageId: string;
}

export function prepareOutgoing(raw: Buffer, hostname: string, now = new Date()): Prepared {
  const { fields, body } = headerFields(raw);
  const added: string[] = [];
  if (!fields.some((f) => f.name === "date")) added.push(`Date: ${rfc5322Date(now)}\r\n`);
  let messageId = fields.find((f) => f.name === "message-id");
  if (!messageId) {
    messageId = { name: "message-id", lines: `Message-ID: <${now.getTime().toString(36)}.${randomBytes(8).toString("hex")}@${hostname}>\r\n` };
    added.push(messageId.lines);
  }
  const join = (fs: HeaderField[]) => Buffer.concat([Buffer.from(added.join("") + fs.map((f) => f.lines).join(""), "latin1"), body]);
  return {
    outgoing: join(fields.filter((f) => f.name !== "bcc" && f.name !== "x-mxspool-sent-copy")),
    ownCopy: join(fields),
    from: addressesIn(fields, "from"),
    subject: subjectOf(fields),
    messageId: valueOf(messageId),
  };
}

/**
 * The message URLs, every one behind Mailbox.open (the user must be an envelope recipient):
 *   GET /m/:id                    the message page (?view=text, ?images=1)
 *   GET /m/:id/body               the sanitised HTML document for the sandboxed iframe (?images=1)
 *   GET /m/:id/attachments/:n     one attachment, always as a download
 *   GET /m/:id/raw                the original message (.eml)
 * Anything not the user's — another user's id, an unknown id, a malformed one — is the same 404.
 */
import type { AddressObject, ParsedMail } from "mailparser";
import type { MessageRecord } from "../../store/message-records.js";
import type { Badge } from "../mailbox.js";
import { contentDisposition, safeContentType, safeFilename } from "../content-disposition.js";
import { frameCsp, frameDocument } from "../frame-document.js";
import { decodeMimeWords } from "../mime-words.js";
import { errorPage } from "../pages/error-page.js";
import { formatDate, formatSize } from "../pages/format.js";
import { messagePage, type MessageView } from "../pages/message-page.js";
import { sendBytes, sendPage } from "../respond.js";
import type { Ctx, Deps } from "./context.js";

const MAX_TEXT = 1024 * 1024;
const MAX_HEADERS = 64 * 1024;

export const MESSAGE_PATH = /^\/m\/([0-9A-Z]{20}(?:\.\d{1,3})?)(?:\/(body|raw|attachments\/(\d{1,4})))?$/;

export function notFound(ctx: Ctx): void {
  sendPage(ctx.res, 404, errorPage("Not found", "There is no such page or message here.", ctx.viewer));
}

function visibleAttachments(mail: ParsedMail): { index: number; name: string; type: string; size: number }[] {
  return mail.attachments.map((a, index) => ({ a, index })).filter(({ a }) => !a.related).map(({ a, index }) => ({
    index, name: safeFilename(a.filename, `attachment-${index + 1}`), type: safeContentType(a.contentType), size: a.size ?? a.content.length,
  }));
}

function unavailable(record: MessageRecord, reason: string): string {
  if (reason === "too-large") return `This message is too large to show here (${formatSize(record.size)}).`;
  if (reason === "gone") return "This message is no longer stored here.";
  return "This message could not be read.";
}

async function messageView(deps: Deps, ctx: Ctx, record: MessageRecord, badge: Badge): Promise<MessageView> {
  const remoteImages = ctx.url.searchParams.get("images") === "1";
  const loaded = await deps.loader.load(record);
  const base = {
    id: record.id, badge, receivedAt: record.receivedAt, finalAt: badge === "delivered" ? record.finalAt : undefined,
    retainedUntil: badge === "delivered" && record.finalAt ? record.finalAt + deps.config.retention.delivered : undefined,
    size: record.size + record.addedHeaders.length, remoteImages,
  };
  if (!loaded.ok) {
    return { ...base, subject: decodeMimeWords(record.subject), headers: [{ label: "From", value: record.from || "<>" }], allHeaders: "", view: "text",
      hasHtml: false, text: null, textTruncated: false, blockedImages: 0, attachments: [], unavailable: unavailable(record, loaded.reason) };
  }
  const mail = loaded.mail;
  const hasHtml = typeof mail.html === "string" && mail.html.length > 0;
  const view = ctx.url.searchParams.get("view") === "text" || !hasHtml ? "text" : "html";
  const text = typeof mail.text === "string" ? mail.text : null;
  const addr = (v: AddressObject | AddressObject[] | undefined) => [v ?? []].flat().flatMap((x) => x.value)
    .map((a) => (a.name && a.address ? `${a.name} <${a.address}>` : a.address || a.name)).filter(Boolean).join(", ");
  const headers = [
    { label: "From", value: addr(mail.from) || record.from || "<>" },
    { label: "To", value: addr(mail.to) },
    { label: "Cc", value: addr(mail.cc) },
    { label: "Reply-To", value: addr(mail.replyTo) },
    { label: "Date", value: mail.date ? formatDate(mail.date.getTime()) : "", datetime: mail.date?.toISOString() },
  ].filter((h) => h.value);
  return {
    ...base, subject: mail.subject ?? decodeMimeWords(record.subject), headers,
    allHeaders: mail.headerLines.map((h) => h.line).join("\n").slice(0, MAX_HEADERS),
    view, hasHtml, text: text === null ? null : text.slice(0, MAX_TEXT), textTruncated: (text?.length ?? 0) > MAX_TEXT,
    blockedImages: view === "html" && hasHtml && !remoteImages ? frameDocument(mail.html as string, false).blockedImages : 0,
    attachments: visibleAttachments(mail),
  };
}

export async function message(deps: Deps, ctx: Ctx, id: string, part: string | undefined, attachment: string | undefined): Promise<void> {
  const address = ctx.session!.address;
  const open = await deps.mailbox.open(address, id);
  if (!open) return notFound(ctx);
  const { record, badge } = open;
  if (!part) return sendPage(ctx.res, 200, messagePage(ctx.viewer!, await messageView(deps, ctx, record, badge)));

  if (part === "raw") {
    const raw = await deps.loader.raw(record);
    if (!raw) return notFound(ctx);
    deps.log.info({ event: "WEBMAIL_DOWNLOAD", id, address, what: "raw" }, "original message downloaded");
    return sendBytes(ctx.res, 200, raw, { "content-type": "message/rfc822", "content-disposition": contentDisposition(`${id}.eml`) });
  }

  const loaded = await deps.loader.load(record);
  if (!loaded.ok) return notFound(ctx);
  const mail = loaded.mail;
  if (part === "body") {
    if (typeof mail.html !== "string" || !mail.html) return notFound(ctx);
    const remote = ctx.url.searchParams.get("images") === "1";
    const doc = frameDocument(mail.html, remote);
    return sendBytes(ctx.res, 200, Buffer.from(doc.body, "utf8"), {
      "content-type": "text/html; charset=utf-8", "content-security-policy": frameCsp(remote), "x-frame-options": "SAMEORIGIN",
    });
  }
  const n = Number(attachment);
  const att = mail.attachments[n];
  if (!att || att.related) return notFound(ctx);
  deps.log.info({ event: "WEBMAIL_DOWNLOAD", id, address, what: "attachment", index: n }, "attachment downloaded");
  return sendBytes(ctx.res, 200, att.content, {
    "content-type": safeContentType(att.contentType), "content-disposition": contentDisposition(safeFilename(att.filename, `attachment-${n + 1}`)),
  });
}

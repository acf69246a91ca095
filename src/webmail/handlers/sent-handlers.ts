/**
 * GET /sent (?before= older page, ?sent=ID just after sending) and GET /sent/:id — the user's
 * sent messages, read through the outbound submitter's listSent/loadSent, which return only
 * the user's own (another user's id is the same 404 as an unknown one). A sent message is
 * parsed with mailparser only for its headers, text and attachment names: nothing of it is
 * rendered as HTML.
 */
import { simpleParser } from "mailparser";
import { QUEUE_ID_PATTERN } from "../../mail/queue-id.js";
import { safeFilename } from "../content-disposition.js";
import { errorPage } from "../pages/error-page.js";
import { sentMessagePage, sentPage } from "../pages/sent-page.js";
import { sendPage } from "../respond.js";
import { textOfHtml } from "../compose/original.js";
import type { Ctx, Deps } from "./context.js";
import { notFound } from "./message-handlers.js";

export const SENT_PATH = /^\/sent\/([0-9A-Z]{20})$/;
const MAX_TEXT = 1024 * 1024;

export async function sentList(deps: Deps, ctx: Ctx): Promise<void> {
  if (!deps.submitter) return sendPage(ctx.res, 404, errorPage("Sending is off", "Sending mail is not available here.", ctx.viewer));
  const limit = deps.config.webmail.pageSize;
  const beforeText = ctx.url.searchParams.get("before");
  const before = beforeText && /^\d{1,15}$/.test(beforeText) ? Number(beforeText) : undefined;
  const items = await deps.submitter.listSent(ctx.session!.address, { limit: limit + 1, before });
  const page = items.slice(0, limit);
  const justSent = ctx.url.searchParams.get("sent") ?? undefined;
  sendPage(ctx.res, 200, sentPage(ctx.viewer!, {
    items: page, before, next: items.length > limit ? page[page.length - 1].summary.sentAt : undefined,
    justSent: justSent && QUEUE_ID_PATTERN.test(justSent) ? justSent : undefined,
  }));
}

export async function sentMessage(deps: Deps, ctx: Ctx, id: string): Promise<void> {
  if (!deps.submitter) return notFound(ctx);
  const item = await deps.submitter.loadSent(ctx.session!.address, id);
  if (!item) return notFound(ctx);
  const mail = await simpleParser(item.raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
  const line = (label: string, v: { text: string } | { text: string }[] | undefined) => ({ label, value: [v ?? []].flat().map((x) => x.text).join(", ") });
  const headers = [line("From", mail.from), line("To", mail.to), line("Cc", mail.cc),
    { label: "Bcc", value: item.summary.recipients.filter((r) => !mail.headerLines.some((h) => /^(to|cc):/i.test(h.line) && h.line.toLowerCase().includes(r.toLowerCase()))).join(", ") },
  ].filter((h) => h.value);
  const text = typeof mail.text === "string" ? mail.text : typeof mail.html === "string" ? textOfHtml(mail.html) : "";
  sendPage(ctx.res, 200, sentMessagePage(ctx.viewer!, {
    item, headers, text: text.slice(0, MAX_TEXT),
    attachments: mail.attachments.filter((a) => !a.related).map((a, i) => ({ name: safeFilename(a.filename, `attachment-${i + 1}`), size: a.size ?? a.content.length })),
  }));
}

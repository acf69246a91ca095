/**
 * GET /compose (?reply=ID, ?replyAll=ID, ?forward=ID) shows the form; POST /compose sends.
 * The original of a reply or forward goes through Mailbox.open on both (an id that is not
 * the user's is a 404), and threading headers and forwarded attachments are taken from it on
 * the server, never from the form. A send: the upload is read bounded (compose/multipart.ts;
 * at most `webmail.compose.concurrentUploads` at once, more get 503), the CSRF token and
 * origin are checked, the recipients parsed, the message built (compose/build-message.ts) and
 * handed to the outbound submitter, whose refusal (not your address, rate limit, size) is
 * shown as it is. From is the logged-in user, or one of the aliases configured for them.
 */
import type { ParsedMail } from "mailparser";
import { CSRF_FIELD, tokensMatch } from "../csrf.js";
import { buildMessage, simpleHtml, type OutgoingAttachment } from "../compose/build-message.js";
import { draftFor, type DraftKind } from "../compose/draft.js";
import { readMultipart, type UploadedFile } from "../compose/multipart.js";
import { originalOf } from "../compose/original.js";
import { parseRecipients } from "../compose/recipients.js";
import { safeContentType, safeFilename } from "../content-disposition.js";
import { composePage, type ComposeView } from "../pages/compose-page.js";
import { errorPage } from "../pages/error-page.js";
import { sameOrigin } from "../request-info.js";
import { redirect, sendPage } from "../respond.js";
import { QUEUE_ID_PATTERN } from "../../mail/queue-id.js";
import type { Ctx, Deps } from "./context.js";
import { notFound } from "./message-handlers.js";

const KIND_PARAMS: [string, DraftKind][] = [["reply", "reply"], ["replyAll", "reply-all"], ["forward", "forward"]];
const KINDS = new Set<DraftKind>(["new", "reply", "reply-all", "forward"]);
/** Room for the text fields beside the attachments in one upload. */
const FIELDS_ROOM = 1024 * 1024;

/** The addresses this user may send as: their own first, then the aliases configured for them. */
export function fromChoices(deps: Deps, user: string): string[] {
  const aliases = deps.config.outbound.aliases[user] ?? [];
  return [user, ...aliases.filter((a) => a !== user)];
}

function forwardable(mail: ParsedMail): { index: number; name: string; size: number }[] {
  return mail.attachments.map((a, index) => ({ a, index })).filter(({ a }) => !a.related)
    .map(({ a, index }) => ({ index, name: safeFilename(a.filename, `attachment-${index + 1}`), size: a.size ?? a.content.length }));
}

async function loadOriginal(deps: Deps, ctx: Ctx, id: string | null | undefined): Promise<ParsedMail | null> {
  if (!id || !QUEUE_ID_PATTERN.test(id)) return null;
  const open = await deps.mailbox.open(ctx.session!.address, id);
  if (!open) return null;
  const loaded = await deps.loader.load(open.record);
  return loaded.ok ? loaded.mail : null;
}

function baseView(deps: Deps, ctx: Ctx, kind: DraftKind, ref?: string): ComposeView {
  const user = ctx.session!.address;
  return {
    kind, ref, from: user, fromChoices: fromChoices(deps, user), to: "", cc: "", bcc: "", subject: "", body: "", html: false,
    originalAttachments: [], maxUploadBytes: deps.config.webmail.compose.maxUploadBytes, errors: [],
  };
}

export async function showCompose(deps: Deps, ctx: Ctx): Promise<void> {
  if (!deps.submitter) return sendPage(ctx.res, 404, errorPage("Sending is off", "Sending mail is not available here.", ctx.viewer));
  const found = KIND_PARAMS.find(([p]) => ctx.url.searchParams.has(p));
  if (!found) return sendPage(ctx.res, 200, composePage(ctx.viewer!, baseView(deps, ctx, "new")));
  const [param, kind] = found;
  const id = ctx.url.searchParams.get(param)!;
  const mail = await loadOriginal(deps, ctx, id);
  if (!mail) return notFound(ctx);
  const draft = draftFor(kind, originalOf(mail), ctx.session!.address);
  const atts = kind === "forward" ? forwardable(mail).map((a) => ({ ...a, kept: true })) : [];
  sendPage(ctx.res, 200, composePage(ctx.viewer!, { ...baseView(deps, ctx, kind, id), to: draft.to, cc: draft.cc, subject: draft.subject, body: draft.body, originalAttachments: atts }));
}

/** POST /compose: its own body reading (multipart), CSRF check included. */
export async function sendCompose(deps: Deps, ctx: Ctx): Promise<void> {
  const { res } = ctx;
  const user = ctx.session!.address;
  if (!deps.submitter) return sendPage(res, 404, errorPage("Sending is off", "Sending mail is not available here.", ctx.viewer));
  const c = deps.config.webmail.compose;
  const slot = deps.uploads.acquire(ctx.ip);
  if (!slot.ok) {
    ctx.req.resume();
    return sendPage(res, 503, errorPage("Busy", "Too many messages are being sent right now. Wait a few seconds, go back and send again.", ctx.viewer), { "retry-after": "5", connection: "close" });
  }
  let form;
  try {
    form = await readMultipart(ctx.req, { maxBytes: c.maxUploadBytes + FIELDS_ROOM, maxParts: 64, maxFieldBytes: 600_000 });
  } finally {
    slot.release();
  }
  if (!form.ok) {
    deps.log.warn({ event: "WEBMAIL_SEND_REFUSED", address: user, problem: form.problem }, "compose form refused");
    const sentence = form.status === 413 ? `The message is too large: attachments may add up to ${Math.round(c.maxUploadBytes / 1024 / 1024)} MB. Go back and attach less.` : "The form could not be read. Go back and try again.";
    return sendPage(res, form.status, errorPage("Not sent", sentence, ctx.viewer), { connection: "close" });
  }
  const f = form.fields;
  if (!sameOrigin(ctx.req) || !tokensMatch(f.get(CSRF_FIELD), ctx.session!.csrf)) {
    deps.log.warn({ event: "WEBMAIL_CSRF_REJECTED", address: user, ip: ctx.ip, path: "/compose" }, "state-changing request without a valid CSRF token");
    return sendPage(res, 403, errorPage("Not accepted", "This form has expired. Go back, reload the page and try again.", ctx.viewer));
  }
  const kindText = f.get("kind") ?? "new";
  const kind: DraftKind = KINDS.has(kindText as DraftKind) ? kindText as DraftKind : "new";
  const ref = kind === "new" ? undefined : f.get("ref") ?? undefined;
  const original = ref ? await loadOriginal(deps, ctx, ref) : null;
  if (kind !== "new" && !original) return notFound(ctx);
  const keep = new Set(f.getAll("keep"));
  const view: ComposeView = {
    ...baseView(deps, ctx, kind, ref),
    from: f.get("from") ?? user, to: f.get("to") ?? "", cc: f.get("cc") ?? "", bcc: f.get("bcc") ?? "",
    subject: (f.get("subject") ?? "").replace(/[\r\n]+/g, " ").slice(0, 998), body: f.get("body") ?? "", html: f.get("html") === "1",
    originalAttachments: kind === "forward" && original ? forwardable(original).map((a) => ({ ...a, kept: keep.has(String(a.index)) })) : [],
  };
  const refuse = (errors: string[], status: number, log: Record<string, unknown>) => {
    deps.log.warn({ event: "WEBMAIL_SEND_REFUSED", address: user, ...log }, "webmail send refused");
    sendPage(res, status, composePage(ctx.viewer!, { ...view, errors, filesLost: form.files.length > 0 }));
  };
  if (!view.fromChoices.includes(view.from)) return refuse(["You cannot send from that address."], 400, { problem: "from" });
  const rcpts = parseRecipients({ to: view.to, cc: view.cc, bcc: view.bcc });
  if (!rcpts.ok) return refuse(rcpts.errors, 400, { problem: "recipients" });
  const uploads = form.files.filter((u: UploadedFile) => u.field === "attachments");
  const attachments: OutgoingAttachment[] = uploads.map((u, i) => ({ filename: safeFilename(u.filename, `attachment-${i + 1}`), contentType: safeContentType(u.contentType), content: u.content }));
  if (kind === "forward" && original) {
    for (const a of forwardable(original)) {
      if (!keep.has(String(a.index))) continue;
      const att = original.attachments[a.index];
      attachments.push({ filename: a.name, contentType: safeContentType(att.contentType), content: att.content });
    }
  }
  const total = attachments.reduce((n, a) => n + a.content.length, 0);
  if (total > c.maxUploadBytes) return refuse([`The attachments add up to more than ${Math.round(c.maxUploadBytes / 1024 / 1024)} MB.`], 413, { problem: "attachments" });
  const thread = original && kind !== "forward" ? draftFor(kind, originalOf(original), user) : undefined;
  const { raw } = await buildMessage({
    from: view.from, to: rcpts.to, cc: rcpts.cc, subject: view.subject, text: view.body,
    html: view.html ? simpleHtml(view.body) : undefined, inReplyTo: thread?.inReplyTo, references: thread?.references, attachments,
  });
  const r = await deps.submitter.submit({ user, envelopeFrom: view.from, recipients: rcpts.all, raw, via: "webmail" });
  if (!r.ok) {
    const status = r.enhanced === "4.7.1" ? 429 : r.code >= 500 ? 400 : 503;
    return refuse([`${r.message} (${r.code} ${r.enhanced})`], status, { code: r.code, enhanced: r.enhanced });
  }
  deps.log.info({ event: "WEBMAIL_SEND", address: user, id: r.queueId, rcpts: rcpts.all.length, kind, attachments: attachments.length }, "webmail message sent");
  redirect(res, `/sent?sent=${encodeURIComponent(r.queueId)}`);
}

/**
 * The compose form (new message, reply, reply to all, forward): From (the user's address, or
 * a choice of the aliases configured for them), To/Cc/Bcc, subject, the text, attachments to
 * upload (with the size limit said up front), and for a forward the original's attachments,
 * each kept unless unticked. Errors are listed at the top (role=alert) and what was typed is
 * kept. The form carries the session's CSRF token; it works without the page script.
 */
import { CSRF_FIELD } from "../csrf.js";
import type { DraftKind } from "../compose/draft.js";
import { formatSize } from "./format.js";
import { html, type SafeHtml } from "./html.js";
import { layout, type Viewer } from "./layout.js";

export interface ComposeView {
  kind: DraftKind;
  ref?: string;
  from: string;
  fromChoices: string[];
  to: string;
  cc: string;
  bcc: string;
  subject: string;
  body: string;
  html: boolean;
  originalAttachments: { index: number; name: string; size: number; kept: boolean }[];
  maxUploadBytes: number;
  errors: string[];
  /** Files were chosen but the form came back: they must be chosen again. */
  filesLost?: boolean;
}

const TITLES: Record<DraftKind, string> = { new: "New message", reply: "Reply", "reply-all": "Reply to all", forward: "Forward" };

function field(id: string, label: string, value: string, opts: { hint?: string; autofocus?: boolean } = {}): SafeHtml {
  return html`<div class="row">
    <label for="${id}">${label}</label>
    <input id="${id}" name="${id}" type="text" value="${value}" autocomplete="off" spellcheck="false" autocapitalize="off" inputmode="email" maxlength="8000"${opts.autofocus ? html` autofocus` : ""}${opts.hint ? html` aria-describedby="${id}-hint"` : ""}>
    ${opts.hint ? html`<span class="hint" id="${id}-hint">${opts.hint}</span>` : ""}
  </div>`;
}

export function composePage(viewer: Viewer, v: ComposeView): SafeHtml {
  const title = TITLES[v.kind];
  return layout(title, html`
<nav class="crumbs"><a href="${v.ref ? `/m/${v.ref}` : "/"}" id="back">← ${v.ref ? "Back to the message" : "Inbox"}</a></nav>
<section class="card compose" aria-labelledby="compose-title">
  <h1 id="compose-title">${title}</h1>
  ${v.errors.length ? html`<div class="alert" role="alert" id="compose-errors"><p><strong>The message was not sent.</strong></p><ul>${v.errors.map((e) => html`<li>${e}</li>`)}</ul></div>` : ""}
  ${v.filesLost ? html`<p class="notice" role="status">Choose the files to attach again: the browser does not keep them when a form comes back.</p>` : ""}
  <form method="post" action="/compose" enctype="multipart/form-data" class="compose-form"${v.errors.length ? html` aria-describedby="compose-errors"` : ""}>
    <input type="hidden" name="${CSRF_FIELD}" value="${viewer.csrf}">
    <input type="hidden" name="kind" value="${v.kind}">
    ${v.ref ? html`<input type="hidden" name="ref" value="${v.ref}">` : ""}
    <div class="row">
      <label for="from">From</label>
      ${v.fromChoices.length > 1
        ? html`<select id="from" name="from">${v.fromChoices.map((a) => html`<option value="${a}"${a === v.from ? html` selected` : ""}>${a}</option>`)}</select>`
        : html`<output id="from" class="from-fixed">${v.from}</output>`}
    </div>
    ${field("to", "To", v.to, { hint: "Separate addresses with commas.", autofocus: v.kind === "new" || v.kind === "forward" })}
    ${field("cc", "Cc", v.cc)}
    ${field("bcc", "Bcc", v.bcc, { hint: "Bcc recipients get the message; the others do not see them." })}
    <div class="row">
      <label for="subject">Subject</label>
      <input id="subject" name="subject" type="text" value="${v.subject}" maxlength="998">
    </div>
    <div class="row body-row">
      <label for="body" class="sr">Message</label>
      <textarea id="body" name="body" rows="16" maxlength="500000"${v.kind === "reply" || v.kind === "reply-all" ? html` autofocus` : ""}>${v.body}</textarea>
    </div>
    <div class="row">
      <span class="label">Format</span>
      <label class="check"><input type="checkbox" name="html" value="1"${v.html ? html` checked` : ""}> Also send a formatted (HTML) version</label>
    </div>
    ${v.originalAttachments.length ? html`<fieldset class="row kept">
      <legend>Attachments of the original</legend>
      ${v.originalAttachments.map((a) => html`<label class="check"><input type="checkbox" name="keep" value="${String(a.index)}"${a.kept ? html` checked` : ""}> ${a.name} <span class="muted">${formatSize(a.size)}</span></label>`)}
    </fieldset>` : ""}
    <div class="row">
      <label for="attachments">Attach files</label>
      <input id="attachments" name="attachments" type="file" multiple aria-describedby="attachments-hint">
      <span class="hint" id="attachments-hint">Up to ${formatSize(v.maxUploadBytes)} in all.</span>
    </div>
    <div class="actions">
      <button type="submit" class="button primary" id="send">Send</button>
      <a class="link-button" href="${v.ref ? `/m/${v.ref}` : "/"}">Discard</a>
    </div>
  </form>
</section>`, viewer);
}

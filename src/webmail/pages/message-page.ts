/**
 * One message: subject, badge with what it means, the main headers (all of them behind a
 * disclosure), the body — HTML in a sandboxed iframe (frame-document.ts), or the text part —
 * a "show remote images" link when images were blocked, the attachments with download links,
 * and the original .eml download.
 */
import type { Badge } from "../mailbox.js";
import { FRAME_SANDBOX } from "../frame-document.js";
import { badge } from "./inbox-page.js";
import { formatDate, formatSize } from "./format.js";
import { html, type SafeHtml } from "./html.js";
import { layout, type Viewer } from "./layout.js";

export interface MessageView {
  id: string;
  subject: string;
  badge: Badge;
  receivedAt: number;
  finalAt?: number;
  retainedUntil?: number;
  headers: { label: string; value: string; datetime?: string }[];
  allHeaders: string;
  view: "html" | "text";
  hasHtml: boolean;
  text: string | null;
  textTruncated: boolean;
  remoteImages: boolean;
  blockedImages: number;
  attachments: { index: number; name: string; type: string; size: number }[];
  size: number;
  unavailable?: string;
}

function explain(v: MessageView): SafeHtml {
  if (v.badge === "waiting") return html`<p class="explain">This message arrived on <time datetime="${new Date(v.receivedAt).toISOString()}">${formatDate(v.receivedAt)}</time>. It is kept here and passed on to your mail server as soon as that server is back.</p>`;
  return html`<p class="explain">Your mail server has this message${v.finalAt ? html` since <time datetime="${new Date(v.finalAt).toISOString()}">${formatDate(v.finalAt)}</time>` : ""}: you will also find it in your usual mailbox.${v.retainedUntil ? html` This copy stays readable here until <time datetime="${new Date(v.retainedUntil).toISOString()}">${formatDate(v.retainedUntil)}</time>.` : ""}</p>`;
}

function body(v: MessageView): SafeHtml {
  if (v.unavailable) return html`<p class="notice">${v.unavailable} <a href="/m/${v.id}/raw">Download the original</a> to open it in a mail program.</p>`;
  const tabs = v.hasHtml && v.text !== null ? html`<nav class="tabs" aria-label="Message format">
    <a href="/m/${v.id}${v.remoteImages ? "?images=1" : ""}" ${v.view === "html" ? html`aria-current="page"` : ""}>Formatted</a>
    <a href="/m/${v.id}?view=text" ${v.view === "text" ? html`aria-current="page"` : ""}>Plain text</a>
  </nav>` : "";
  if (v.view === "html" && v.hasHtml) {
    return html`${tabs}
  ${v.blockedImages > 0 ? html`<p class="notice images">Remote images in this message are blocked, so the sender cannot see that you opened it. <a class="button small" href="/m/${v.id}?images=1" id="show-images">Show remote images</a></p>` : ""}
  <iframe class="mail-frame" src="/m/${v.id}/body${v.remoteImages ? "?images=1" : ""}" sandbox="${FRAME_SANDBOX}" referrerpolicy="no-referrer" title="Message content"></iframe>`;
  }
  return html`${tabs}<pre class="mail-text" tabindex="0">${v.text ?? "(this message has no text)"}</pre>${v.textTruncated ? html`<p class="notice">The text is cut short here; download the original for all of it.</p>` : ""}`;
}

export function messagePage(viewer: Viewer, v: MessageView): SafeHtml {
  return layout(v.subject || "(no subject)", html`
<nav class="crumbs"><a href="/" id="back">← Inbox</a></nav>
${viewer.canSend ? html`<nav class="actions-bar" aria-label="Answer">
  <a class="button" href="/compose?reply=${v.id}">Reply</a>
  <a class="button" href="/compose?replyAll=${v.id}">Reply to all</a>
  <a class="button" href="/compose?forward=${v.id}">Forward</a>
</nav>` : ""}
<article class="message" aria-labelledby="subject">
  <header class="message-head">
    <h1 id="subject">${v.subject || "(no subject)"}</h1>
    ${badge(v.badge)}
    ${explain(v)}
    <dl class="headers">${v.headers.map((h) => html`<dt>${h.label}</dt><dd>${h.datetime ? html`<time datetime="${h.datetime}">${h.value}</time>` : h.value}</dd>`)}</dl>
    <details class="all-headers"><summary>All headers</summary><pre>${v.allHeaders}</pre></details>
  </header>
  <section class="body" aria-label="Message">${body(v)}</section>
  ${v.attachments.length ? html`<section class="attachments" aria-labelledby="att-title">
    <h2 id="att-title">Attachments (${v.attachments.length})</h2>
    <ul>${v.attachments.map((a) => html`<li><a href="/m/${v.id}/attachments/${a.index}" download>${a.name}</a> <span class="muted">${a.type}, ${formatSize(a.size)}</span></li>`)}</ul>
  </section>` : ""}
  <p class="download"><a class="button" href="/m/${v.id}/raw" download>Download original (.eml, ${formatSize(v.size)})</a></p>
</article>`, viewer);
}

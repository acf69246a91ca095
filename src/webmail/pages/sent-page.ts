/**
 * The "Sent" view: what the user sent from here (webmail and their own mail program), newest
 * first, with where each message stands — recipients at our own domains have it in their
 * mailbox here at once; outside recipients are waiting, delivered or failed. One sent
 * message: its headers, its text and the names of its attachments. (Subjects are kept as
 * sent, MIME-encoded: decoded here.)
 */
import type { SentItem } from "../../outbound/sent-messages.js";
import { decodeMimeWords } from "../mime-words.js";
import { formatDate, formatSize } from "./format.js";
import { html, type SafeHtml } from "./html.js";
import { layout, type Viewer } from "./layout.js";

export interface SentRow { item: SentItem }
export interface SentMessageView {
  item: SentItem;
  headers: { label: string; value: string }[];
  text: string;
  attachments: { name: string; size: number }[];
}

const STATE_TEXT = { pending: "Waiting", delivered: "Delivered", failed: "Failed" } as const;

/** One line per message: "Delivered to 2 · waiting for 1" etc. */
export function sentStatus(item: SentItem): { text: string; tone: "waiting" | "delivered" | "failed" } {
  const outside = Object.values(item.outcomes);
  const count = (s: string) => outside.filter((o) => o.state === s).length;
  const delivered = count("delivered") + item.summary.local.length;
  const parts = [delivered ? `delivered to ${delivered}` : "", count("pending") ? `waiting for ${count("pending")}` : "", count("failed") ? `failed for ${count("failed")}` : ""].filter(Boolean);
  const tone = count("failed") ? "failed" : count("pending") ? "waiting" : "delivered";
  const text = parts.join(" · ");
  return { text: text.charAt(0).toUpperCase() + text.slice(1), tone };
}

function recipientsLine(item: SentItem): string {
  const r = item.summary.recipients;
  return r.length <= 3 ? r.join(", ") : `${r.slice(0, 3).join(", ")} and ${r.length - 3} more`;
}

export function sentPage(viewer: Viewer, opts: { items: SentItem[]; justSent?: string; next?: number; before?: number }): SafeHtml {
  return layout("Sent", html`
${opts.justSent ? html`<p class="banner up" role="status" id="sent-notice"><strong>Your message was sent.</strong> Recipients at your own organisation have it now; others get it as soon as their mail server answers.</p>` : ""}
<div class="inbox-head"><h1>Sent</h1></div>
${opts.items.length ? html`<ul class="messages sent" aria-label="Sent messages">${opts.items.map((it) => {
    const st = sentStatus(it);
    return html`<li><a class="msg" href="/sent/${it.summary.id}" data-id="${it.summary.id}">
  <span class="from" title="${it.summary.recipients.join(", ")}">To ${recipientsLine(it)}</span>
  <span class="subject">${decodeMimeWords(it.summary.subject) || "(no subject)"}</span>
  <span class="badge ${st.tone === "failed" ? "failed" : st.tone}"><span class="dot" aria-hidden="true"></span>${st.text}</span>
  <span class="meta"><span class="size">${formatSize(it.summary.size)}</span></span>
  <time class="date" datetime="${new Date(it.summary.sentAt).toISOString()}">${formatDate(it.summary.sentAt)}</time>
</a></li>`;
  })}</ul>` : html`<p class="empty">${opts.before ? "No older messages." : "You have not sent anything from here yet."}</p>`}
<nav class="pager" aria-label="Pages">
  ${opts.before ? html`<a class="button" href="/sent">← Newest</a>` : html`<span></span>`}
  ${opts.next ? html`<a class="button" href="/sent?before=${String(opts.next)}" rel="next">Older →</a>` : ""}
</nav>`, viewer);
}

export function sentMessagePage(viewer: Viewer, v: SentMessageView): SafeHtml {
  const s = v.item.summary;
  const subject = decodeMimeWords(s.subject) || "(no subject)";
  const outside = Object.entries(v.item.outcomes);
  return layout(subject, html`
<nav class="crumbs"><a href="/sent" id="back">← Sent</a></nav>
<article class="message" aria-labelledby="subject">
  <header class="message-head">
    <h1 id="subject">${subject}</h1>
    <p class="explain">Sent on <time datetime="${new Date(s.sentAt).toISOString()}">${formatDate(s.sentAt)}</time> ${s.via === "webmail" ? "from the webmail" : "from your mail program"}.</p>
    <dl class="headers">${v.headers.map((h) => html`<dt>${h.label}</dt><dd>${h.value}</dd>`)}</dl>
  </header>
  <section class="delivery" aria-labelledby="delivery-title">
    <h2 id="delivery-title">Delivery</h2>
    <ul class="outcomes">
      ${s.local.map((r) => html`<li><span class="badge delivered"><span class="dot" aria-hidden="true"></span>In their mailbox here</span> ${r}</li>`)}
      ${outside.map(([r, o]) => html`<li><span class="badge ${o.state === "pending" ? "waiting" : o.state}"><span class="dot" aria-hidden="true"></span>${STATE_TEXT[o.state]}</span> ${r}${o.response ? html` <span class="muted">${o.response}</span>` : ""}</li>`)}
    </ul>
  </section>
  <section class="body" aria-label="Message"><pre class="mail-text" tabindex="0">${v.text || "(this message has no text)"}</pre></section>
  ${v.attachments.length ? html`<section class="attachments" aria-labelledby="att-title">
    <h2 id="att-title">Attachments (${v.attachments.length})</h2>
    <ul>${v.attachments.map((a) => html`<li>${a.name} <span class="muted">${formatSize(a.size)}</span></li>`)}</ul>
  </section>` : ""}
</article>`, viewer);
}

/**
 * The inbox: a search box (sender and subject), the user's messages newest first (sender,
 * subject, badge, attachment mark, size, date — each row one link, so Tab and Enter work),
 * and "newer/older" paging by cursor. A banner says when the user's mail server is down.
 */
import type { Badge } from "../mailbox.js";
import type { MessageSummary } from "../message-summary.js";
import { formatDate, formatSize } from "./format.js";
import { html, type SafeHtml } from "./html.js";
import { layout, type Viewer } from "./layout.js";

export interface InboxRow { id: string; badge: Badge; subject: string; envelopeFrom: string; summary: MessageSummary; size: number; receivedAt: number }

export const BADGE_TEXT: Record<Badge, string> = { waiting: "Waiting for your mail server", delivered: "Delivered to your mail server" };

const CLIP = html`<svg class="clip" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false"><path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg>`;

export function badge(b: Badge): SafeHtml {
  return html`<span class="badge ${b}"><span class="dot" aria-hidden="true"></span>${BADGE_TEXT[b]}</span>`;
}

export function serverBanner(state: string, domain: string): SafeHtml {
  if (state === "down") {
    return html`<p class="banner down" role="status"><strong>Your mail server for ${domain} is not reachable right now.</strong> Mail for you is kept safely here and is passed on as soon as it is back.</p>`;
  }
  if (state === "up") return html`<p class="banner up" role="status">Your mail server for ${domain} is reachable: waiting mail is being passed on to it.</p>`;
  return html``;
}

function row(r: InboxRow): SafeHtml {
  const sender = r.summary.fromName || r.summary.fromAddress || r.envelopeFrom || "(unknown sender)";
  const senderTitle = r.summary.fromAddress || r.envelopeFrom;
  return html`<li><a class="msg" href="/m/${r.id}" data-id="${r.id}">
  <span class="from" title="${senderTitle}">${sender}</span>
  <span class="subject">${r.summary.subject || r.subject || "(no subject)"}</span>
  ${badge(r.badge)}
  <span class="meta">${r.summary.hasAttachments ? html`<span class="att" title="Has attachments">${CLIP}<span class="sr">Has attachments</span></span>` : ""}<span class="size">${formatSize(r.size)}</span></span>
  <time class="date" datetime="${new Date(r.receivedAt).toISOString()}">${formatDate(r.receivedAt)}</time>
</a></li>`;
}

export function inboxPage(viewer: Viewer, opts: { rows: InboxRow[]; q: string; after?: string; next?: string; serverState: string; domain: string }): SafeHtml {
  const qs = (extra: Record<string, string>) => "/?" + new URLSearchParams({ ...(opts.q ? { q: opts.q } : {}), ...extra }).toString();
  return layout(opts.q ? `Search: ${opts.q}` : "Inbox", html`
${serverBanner(opts.serverState, opts.domain)}
<div class="inbox-head">
  <h1>${opts.q ? html`Results for “${opts.q}”` : "Inbox"}</h1>
  <form method="get" action="/" role="search" class="search">
    <label for="q" class="sr">Search sender or subject</label>
    <input id="q" name="q" type="search" value="${opts.q}" placeholder="Search sender or subject" autocomplete="off" maxlength="200">
    <button type="submit" class="button">Search</button>
    ${opts.q ? html`<a class="link-button" href="/">Clear</a>` : ""}
  </form>
</div>
${opts.rows.length
    ? html`<ul class="messages" aria-label="Messages">${opts.rows.map(row)}</ul>`
    : html`<p class="empty">${opts.q ? "No message matches your search." : opts.after ? "No older messages." : "No mail is waiting for you here. Mail that arrives while your mail server is away will appear on this page."}</p>`}
<nav class="pager" aria-label="Pages">
  ${opts.after ? html`<a class="button" href="${opts.q ? qs({}) : "/"}">← Newest</a>` : html`<span></span>`}
  ${opts.next ? html`<a class="button" href="${qs({ after: opts.next })}" rel="next">Older →</a>` : ""}
</nav>`, viewer);
}

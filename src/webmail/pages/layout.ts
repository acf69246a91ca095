/**
 * The frame of every webmail page: head (our one stylesheet and one small script, both
 * same-origin as the CSP demands), the top bar with the user's address and the logout form
 * (CSRF token inside), a skip link, and the main region. When sending is on: the folders
 * (Inbox, Sent) and "New message".
 */
import { assetUrl } from "../static/assets.js";
import { CSRF_FIELD } from "../csrf.js";
import { html, type SafeHtml } from "./html.js";

export interface Viewer { address: string; csrf: string; canSend?: boolean }

export function layout(title: string, main: SafeHtml, viewer?: Viewer): SafeHtml {
  return frame({ title: `${title} · mxspool mail`, css: assetUrl("css"), js: assetUrl("js"), home: "/", brandSub: "mail", main,
    nav: viewer?.canSend ? html`<nav class="folders" aria-label="Folders"><a href="/">Inbox</a><a href="/sent">Sent</a><a class="button primary small" href="/compose" id="new-message">New message</a></nav>` : undefined,
    topRight: viewer ? html`<div class="who">
    <span class="address" title="${viewer.address}">${viewer.address}</span>
    <a class="link-button" href="/password">Password</a>
    <form method="post" action="/logout" class="logout"><input type="hidden" name="${CSRF_FIELD}" value="${viewer.csrf}"><button type="submit" class="button ghost">Log out</button></form>
  </div>` : undefined });
}

/** The page frame the webmail and the admin console share (one look): head, top bar, skip link, main. */
export function frame(p: { title: string; css: string; js: string; home: string; brandSub: string; main: SafeHtml; topRight?: SafeHtml; head?: SafeHtml; nav?: SafeHtml }): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${p.title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${p.css}">
<script src="${p.js}" defer></script>
${p.head ?? ""}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
  <a class="brand" href="${p.home}"><span class="logo" aria-hidden="true">✉</span> mxspool <span class="brand-sub">${p.brandSub}</span></a>
  ${p.topRight ?? ""}
</header>
${p.nav ?? ""}
<main id="main" tabindex="-1">
${p.main}
</main>
</body>
</html>`;
}

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
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title} · mxspool mail</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl("css")}">
<script src="${assetUrl("js")}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
  <a class="brand" href="/"><span class="logo" aria-hidden="true">✉</span> mxspool <span class="brand-sub">mail</span></a>
  ${viewer ? html`<div class="who">
    <span class="address" title="${viewer.address}">${viewer.address}</span>
    <a class="link-button" href="/password">Password</a>
    <form method="post" action="/logout" class="logout"><input type="hidden" name="${CSRF_FIELD}" value="${viewer.csrf}"><button type="submit" class="button ghost">Log out</button></form>
  </div>` : ""}
</header>
${viewer?.canSend ? html`<nav class="folders" aria-label="Folders"><a href="/">Inbox</a><a href="/sent">Sent</a><a class="button primary small" href="/compose" id="new-message">New message</a></nav>` : ""}
<main id="main" tabindex="-1">
${main}
</main>
</body>
</html>`;
}

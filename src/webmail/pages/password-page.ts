/** Change password; the forced version after a login with a one-time password says why. */
import { CSRF_FIELD } from "../csrf.js";
import { html, type SafeHtml } from "./html.js";
import { layout, type Viewer } from "./layout.js";

export function passwordPage(viewer: Viewer, opts: { forced: boolean; minLength: number; error?: string }): SafeHtml {
  return layout("Change password", html`<section class="card narrow">
  <h1>${opts.forced ? "Choose your password" : "Change password"}</h1>
  ${opts.forced ? html`<p class="lead">You logged in with a one-time password. Choose your own password to continue.</p>` : ""}
  ${opts.error ? html`<p class="alert" role="alert" id="password-error">${opts.error}</p>` : ""}
  <form method="post" action="/password" class="stack">
    <input type="hidden" name="${CSRF_FIELD}" value="${viewer.csrf}">
    <input type="email" name="address" autocomplete="username" value="${viewer.address}" hidden readonly>
    <label for="current">${opts.forced ? "One-time password" : "Current password"}</label>
    <input id="current" name="current" type="password" autocomplete="current-password" required>
    <label for="new">New password <span class="hint">(at least ${opts.minLength} characters)</span></label>
    <input id="new" name="new" type="password" autocomplete="new-password" required minlength="${opts.minLength}">
    <label for="confirm">New password again</label>
    <input id="confirm" name="confirm" type="password" autocomplete="new-password" required minlength="${opts.minLength}">
    <button type="submit" class="button primary">Save password</button>
  </form>
  ${opts.forced ? "" : html`<p><a href="/">Back to the inbox</a></p>`}
</section>`, viewer);
}

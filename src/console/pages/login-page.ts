/** The console's login form: the admin token, a login CSRF token, one generic error line; and the error page. */
import { CSRF_FIELD } from "../../webmail/csrf.js";
import { html, type SafeHtml } from "../../webmail/pages/html.js";
import { layout, type Admin } from "./layout.js";

export function loginPage(opts: { csrf: string; error?: string }): SafeHtml {
  return layout("Log in", html`<section class="card narrow login">
  <h1>Admin console</h1>
  <p class="lead">Log in with the admin token (<code>http.adminToken</code> or <code>MXSPOOL_ADMIN_TOKEN</code>).</p>
  ${opts.error ? html`<p class="alert" role="alert" id="login-error">${opts.error}</p>` : ""}
  <form method="post" action="/admin/login" class="stack"${opts.error ? html` aria-describedby="login-error"` : ""}>
    <input type="hidden" name="${CSRF_FIELD}" value="${opts.csrf}">
    <label for="secret">Admin token</label>
    <input id="secret" name="secret" type="password" autocomplete="current-password" required autofocus>
    <button type="submit" class="button primary">Log in</button>
  </form>
</section>`);
}

export function errorPage(title: string, sentence: string, admin?: Admin): SafeHtml {
  return layout(title, html`<section class="card narrow error">
  <h1>${title}</h1>
  <p>${sentence}</p>
  <p><a href="/admin">Back to the overview</a></p>
</section>`, admin);
}

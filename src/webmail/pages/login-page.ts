/** The login form: address and password, a login CSRF token, and one generic error line. */
import { CSRF_FIELD } from "../csrf.js";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";

export function loginPage(opts: { csrf: string; address?: string; error?: string }): SafeHtml {
  return layout("Log in", html`<section class="card narrow login">
  <h1>Read your mail</h1>
  <p class="lead">Your mail server is being looked after. Meanwhile, mail that arrives for you is kept here and you can read it.</p>
  ${opts.error ? html`<p class="alert" role="alert" id="login-error">${opts.error}</p>` : ""}
  <form method="post" action="/login" class="stack"${opts.error ? html` aria-describedby="login-error"` : ""}>
    <input type="hidden" name="${CSRF_FIELD}" value="${opts.csrf}">
    <label for="address">E-mail address</label>
    <input id="address" name="address" type="email" autocomplete="username" required autofocus value="${opts.address ?? ""}" inputmode="email" spellcheck="false" autocapitalize="off">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit" class="button primary">Log in</button>
  </form>
</section>`);
}

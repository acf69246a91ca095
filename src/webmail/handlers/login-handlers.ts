/**
 * GET/POST /login and POST /logout. Login answers one generic error for a wrong address or
 * password (the same work is done for unknown addresses: a dummy scrypt check), refuses
 * while the account or the IP is locked out (429 with Retry-After) or while too many password
 * checks are under way (429 for one IP, 503 in total: see password-check.ts), and on success
 * starts a fresh session (a new token: no fixation) and sends a one-time-password user to
 * /password.
 */
import { setCookie } from "../cookies.js";
import { CSRF_FIELD, LOGIN_COOKIE, newToken, tokensMatch } from "../csrf.js";
import { normalizeAddress } from "../address.js";
import { UserDirectory } from "../user-directory.js";
import { errorPage } from "../pages/error-page.js";
import { loginPage } from "../pages/login-page.js";
import { readForm, sameOrigin } from "../request-info.js";
import { redirect, sendPage } from "../respond.js";
import { SESSION_COOKIE, type Ctx, type Deps } from "./context.js";
import { checkPassword } from "./password-check.js";

const WRONG = "Wrong address or password.";
const LOCKED = "Too many failed attempts. Wait a few minutes, then try again.";
const BUSY = "Too many logins are being checked right now. Wait a few seconds, then try again.";

function loginToken(ctx: Ctx): { token: string; cookie?: string } {
  const cur = ctx.cookies.get(LOGIN_COOKIE);
  if (cur && /^[A-Za-z0-9_-]{32}$/.test(cur)) return { token: cur };
  const token = newToken();
  return { token, cookie: setCookie(LOGIN_COOKIE, token, { secure: ctx.secure }) };
}

export function showLogin(deps: Deps, ctx: Ctx, status = 200, error?: string, address?: string): void {
  const t = loginToken(ctx);
  sendPage(ctx.res, status, loginPage({ csrf: t.token, error, address }), t.cookie ? { "set-cookie": t.cookie } : {});
}

export async function login(deps: Deps, ctx: Ctx): Promise<void> {
  const form = await readForm(ctx.req);
  if (!form.ok) return sendPage(ctx.res, form.status, errorPage("Cannot log in", "The form could not be read. Reload the page and try again."));
  const f = form.form;
  if (!sameOrigin(ctx.req) || !tokensMatch(f.get(CSRF_FIELD), ctx.cookies.get(LOGIN_COOKIE))) {
    deps.log.warn({ event: "WEBMAIL_CSRF_REJECTED", ip: ctx.ip, path: "/login" }, "login form without a valid token");
    return showLogin(deps, ctx, 403, "This form has expired. Please try again.");
  }
  const typed = (f.get("address") ?? "").trim().slice(0, 254);
  const address = normalizeAddress(typed);
  const password = (f.get("password") ?? "").slice(0, 1024);
  const subject = address ?? typed.toLowerCase();
  // what was typed is logged only when it is an address: a password typed into the wrong field must not reach the log
  const logged = address ?? "(not an address)";
  const user = address ? deps.users.get(address) : undefined;
  const check = await checkPassword(deps, ctx.ip, subject, password, user?.hash);
  if (check.outcome === "busy") {
    deps.log.warn({ event: "WEBMAIL_LOGIN_BUSY", address: logged, ip: ctx.ip, scope: check.scope }, "login refused: too many password checks under way");
    ctx.res.setHeader("retry-after", String(Math.ceil(check.retryAfterMs / 1000)));
    return showLogin(deps, ctx, check.status, BUSY, typed);
  }
  if (check.outcome === "locked") {
    deps.log.warn({ event: "WEBMAIL_LOGIN_LOCKED", address: logged, ip: ctx.ip, scope: check.scope }, "login refused: locked out");
    ctx.res.setHeader("retry-after", String(Math.ceil(check.retryAfterMs / 1000)));
    return showLogin(deps, ctx, 429, LOCKED, typed);
  }
  if (check.outcome === "wrong" || !user) {
    const locked = check.outcome === "wrong" ? { lockedAccount: check.lockedAccount, lockedIp: check.lockedIp } : {};
    deps.log.warn({ event: "WEBMAIL_LOGIN_FAILED", address: logged, ip: ctx.ip, ...locked }, "webmail login failed");
    return showLogin(deps, ctx, 401, WRONG, typed);
  }
  const { token } = await deps.sessions.create(user.address, UserDirectory.credentialStamp(user), user.mustChangePassword);
  deps.log.info({ event: "WEBMAIL_LOGIN", address: user.address, ip: ctx.ip }, "webmail login");
  redirect(ctx.res, user.mustChangePassword ? "/password" : "/", {
    "set-cookie": [setCookie(SESSION_COOKIE, token, { secure: ctx.secure }), setCookie(LOGIN_COOKIE, "", { secure: ctx.secure, maxAgeSeconds: 0 })],
  });
}

/** The CSRF check has been done by the router. */
export async function logout(deps: Deps, ctx: Ctx): Promise<void> {
  await deps.sessions.destroy(ctx.session?.token);
  deps.log.info({ event: "WEBMAIL_LOGOUT", address: ctx.session?.address, ip: ctx.ip }, "webmail logout");
  redirect(ctx.res, "/login", { "set-cookie": setCookie(SESSION_COOKIE, "", { secure: ctx.secure, maxAgeSeconds: 0 }) });
}

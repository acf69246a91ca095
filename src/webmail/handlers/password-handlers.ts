/**
 * GET/POST /password: a logged-in user changes their password (forced after a one-time
 * password). The current password is checked (wrong ones count towards the lock-out like
 * failed logins); the new one is hashed into the users file; the old session ends and a new
 * one starts (sessions of the old password die with its credential stamp).
 */
import { setPassword } from "../accounts.js";
import { setCookie } from "../cookies.js";
import { UserDirectory } from "../user-directory.js";
import { passwordPage } from "../pages/password-page.js";
import { errorPage } from "../pages/error-page.js";
import { redirect, sendPage } from "../respond.js";
import { SESSION_COOKIE, type Ctx, type Deps } from "./context.js";
import { checkPassword } from "./password-check.js";

export function showPassword(deps: Deps, ctx: Ctx, status = 200, error?: string): void {
  sendPage(ctx.res, status, passwordPage(ctx.viewer!, { forced: ctx.session!.mustChangePassword, minLength: deps.config.webmail.minPasswordLength, error }));
}

/** `form` has passed the router's CSRF check. */
export async function changePassword(deps: Deps, ctx: Ctx, form: URLSearchParams): Promise<void> {
  const session = ctx.session!;
  const current = (form.get("current") ?? "").slice(0, 1024);
  const next = form.get("new") ?? "";
  const confirm = form.get("confirm") ?? "";
  const user = deps.users.get(session.address);
  const check = await checkPassword(deps, ctx.ip, session.address, current, user?.hash);
  if (check.outcome === "locked" || check.outcome === "busy") {
    ctx.res.setHeader("retry-after", String(Math.ceil(check.retryAfterMs / 1000)));
    return showPassword(deps, ctx, check.outcome === "busy" ? check.status : 429, check.outcome === "busy"
      ? "Too many password checks are under way. Wait a few seconds, then try again."
      : "Too many failed attempts. Wait a few minutes, then try again.");
  }
  if (check.outcome === "wrong" || !user) {
    deps.log.warn({ event: "WEBMAIL_PASSWORD_CHANGE_FAILED", address: session.address, ip: ctx.ip }, "wrong current password");
    return showPassword(deps, ctx, 400, session.mustChangePassword ? "The one-time password is wrong." : "The current password is wrong.");
  }
  if (next !== confirm) return showPassword(deps, ctx, 400, "The two new passwords differ.");
  if (next === current) return showPassword(deps, ctx, 400, "Choose a password different from the current one.");
  const res = await setPassword(deps.users.file, deps.config, session.address, next, { mustChangePassword: false });
  deps.users.invalidate();
  if (!res.ok) {
    if (res.code === "WEAK_PASSWORD") return showPassword(deps, ctx, 400, res.message);
    deps.log.error({ event: "WEBMAIL_ERROR", address: session.address, problem: res.message }, "could not save a new password");
    return sendPage(ctx.res, 500, errorPage("Not saved", "The new password could not be saved. Please try again later.", ctx.viewer));
  }
  await deps.sessions.destroy(session.token);
  const { token } = await deps.sessions.create(session.address, UserDirectory.credentialStamp(res.value), false);
  deps.log.info({ event: "WEBMAIL_PASSWORD_CHANGED", address: session.address, ip: ctx.ip }, "webmail password changed");
  redirect(ctx.res, "/", { "set-cookie": setCookie(SESSION_COOKIE, token, { secure: ctx.secure }) });
}

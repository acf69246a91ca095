/**
 * CSRF tokens. Logged in: the session's token, in a hidden `_csrf` field of every form that
 * changes state. Before login: a double-submit pair (a random `mxspool_login` cookie and the
 * same value in the login form), so a foreign site cannot log a browser into its account.
 */
import crypto from "node:crypto";

export const CSRF_FIELD = "_csrf";
export const LOGIN_COOKIE = "mxspool_login";

export function newToken(): string {
  return crypto.randomBytes(24).toString("base64url");
}

/** Constant-time equality of two tokens; false when either is missing. */
export function tokensMatch(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/**
 * The admin API's "create a webmail user with a one-time password", as a function the API
 * routes to (it owns authentication and the HTTP server):
 *   POST /api/webmail/users  {"address": "alice@example.com", "reset": false}
 *   201 {"address", "oneTimePassword", "mustChangePassword": true}   created
 *   200 (same body)                                                 reset: true, existing account
 *   400 INVALID_ADDRESS | UNKNOWN_DOMAIN | BAD_REQUEST,  409 USER_EXISTS,  500 USERS_FILE
 * Errors use the API's one shape { "error": { "code", "message" } }. The one-time password is
 * in the response only: it is never logged.
 */
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { createUserWithOneTimePassword, usersFilePath } from "./accounts.js";
import { UsersFile } from "./users-file.js";

export async function adminCreateWebmailUser(config: Config, body: unknown, log?: Logger): Promise<{ status: number; body: unknown }> {
  const b = (body ?? {}) as { address?: unknown; reset?: unknown };
  if (typeof body !== "object" || body === null || typeof b.address !== "string" || (b.reset !== undefined && typeof b.reset !== "boolean")) {
    return { status: 400, body: { error: { code: "BAD_REQUEST", message: 'expected {"address": "user@domain", "reset"?: boolean}' } } };
  }
  const res = await createUserWithOneTimePassword(new UsersFile(usersFilePath(config)), config, b.address, { reset: b.reset === true });
  if (!res.ok) {
    const status = res.code === "USER_EXISTS" ? 409 : res.code === "USERS_FILE" ? 500 : 400;
    return { status, body: { error: { code: res.code, message: res.message } } };
  }
  log?.info({ event: "WEBMAIL_USER_CREATED", address: res.value.address, reset: !res.value.created }, "webmail user given a one-time password");
  return { status: res.value.created ? 201 : 200, body: { address: res.value.address, oneTimePassword: res.value.oneTimePassword, mustChangePassword: true } };
}

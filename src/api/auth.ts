/**
 * Bearer-token check for every route but /api/health (there only when a token is presented,
 * which unlocks its details): `Authorization: Bearer <token>`
 * against http.adminToken (or MXSPOOL_ADMIN_TOKEN), compared in constant time (both sides
 * hashed first, so neither the length nor a prefix leaks). No token configured: every
 * authenticated route answers 401.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { apiError, type Reply } from "./reply.js";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

export const WWW_AUTHENTICATE = { "www-authenticate": 'Bearer realm="mxspool"' };

export function checkBearer(req: IncomingMessage, token: string | undefined): Reply | null {
  if (!token) return apiError(401, "UNAUTHORIZED", "no admin token is configured (http.adminToken or MXSPOOL_ADMIN_TOKEN): the API refuses every request but /api/health (without an Authorization header)", WWW_AUTHENTICATE);
  const header = req.headers.authorization;
  const m = header ? /^Bearer +(\S+) *$/i.exec(header) : null;
  if (!m) return apiError(401, "UNAUTHORIZED", "missing bearer token: send Authorization: Bearer <http.adminToken>", WWW_AUTHENTICATE);
  if (!timingSafeEqual(digest(m[1]), digest(token))) return apiError(401, "UNAUTHORIZED", "invalid bearer token", WWW_AUTHENTICATE);
  return null;
}

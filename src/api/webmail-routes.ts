/**
 * POST /api/webmail/users: create (or, with reset, re-issue) a webmail account with a
 * one-time password. The work and its answers are src/webmail/admin-create-user.ts; the API
 * only authenticates and routes. The password is in the response only, never logged.
 */
import { adminCreateWebmailUser } from "../webmail/admin-create-user.js";
import type { Handler } from "./api-deps.js";
import { json } from "./reply.js";

export const createWebmailUser: Handler = async (req, d) => {
  const r = await adminCreateWebmailUser(d.config, req.body, d.log);
  return json(r.status, r.body);
};

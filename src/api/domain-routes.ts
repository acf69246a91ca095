/**
 * Handlers of /api/domains/{domain}/pause|resume|flush and /api/primaries[/{domain}/probe|history]:
 * validation here, the work in src/admin/domain-actions.ts.
 */
import type { Handler } from "./api-deps.js";
import { apiError, fromFailure, json } from "./reply.js";
import { parseDomain } from "./validate.js";
import { fingerprintHistory } from "../monitor/fingerprint-recorder.js";

const domainAction = (name: "pause" | "resume" | "flush"): Handler => async (req, d) => {
  const domain = parseDomain(req.params.domain, d.queues.domains());
  if (!domain.ok) return fromFailure(domain);
  const done = await d.domains[name](domain.value, req.actor);
  return done.ok ? json(200, done.value) : fromFailure(done);
};

export const pauseDomain = domainAction("pause");
export const resumeDomain = domainAction("resume");
export const flushDomain = domainAction("flush");

export const listPrimaries: Handler = async (_req, d) => json(200, { primaries: await d.domains.primaries() });

export const probePrimary: Handler = async (req, d) => {
  const domain = parseDomain(req.params.domain, d.queues.domains());
  if (!domain.ok) return fromFailure(domain);
  const done = await d.domains.probe(domain.value, req.actor);
  if (!done.ok) return fromFailure(done);
  return json(done.value.probed ? 200 : 202, done.value);
};

/** The primary's fingerprints, newest first, each with the changes it brought (`limit`, default 50). */
export const primaryHistory: Handler = async (req, d) => {
  const domain = parseDomain(req.params.domain, d.queues.domains());
  if (!domain.ok) return fromFailure(domain);
  const text = req.query.get("limit");
  const limit = text === null ? 50 : Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return apiError(400, "INVALID_LIMIT", "limit must be an integer from 1 to 1000");
  return json(200, { domain: domain.value, items: await fingerprintHistory(d.redis, d.keys, domain.value, limit) });
};

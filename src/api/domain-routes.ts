/**
 * Handlers of /api/domains/{domain}/pause|resume|flush and /api/primaries[/{domain}/probe]:
 * validation here, the work in src/admin/domain-actions.ts.
 */
import type { Handler } from "./api-deps.js";
import { fromFailure, json } from "./reply.js";
import { parseDomain } from "./validate.js";

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

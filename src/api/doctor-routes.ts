/**
 * POST /api/doctor and POST /api/drill/{domain}: validation here, the work in src/doctor/.
 * Both run in the mxspool that answers, so the CLI needs no access to Redis, the scanners or
 * the certificate key.
 */
import type { Handler } from "./api-deps.js";
import { apiError, fromFailure, json } from "./reply.js";
import { parseDomain } from "./validate.js";
import { runDoctor } from "../doctor/doctor.js";
import { drillRunning, startDrill } from "../doctor/drill.js";

export const doctor: Handler = async (_req, d) => {
  const alerts = (d.alerts?.destinations ?? 0) > 0 ? { configured: true as const, sent: null } : { configured: false as const };
  return json(200, await runDoctor(d.config, d.redis, d.keys, alerts));
};

/** Starts a drill: 202 with its id at once (a drill takes up to drills.timeout); the result is read with GET. */
export const drill: Handler = async (req, d) => {
  const domain = parseDomain(req.params.domain, d.queues.domains());
  if (!domain.ok) return fromFailure(domain);
  const id = startDrill(d, domain.value);
  if (!id) return apiError(409, "DRILL_RUNNING", `a drill of ${domain.value} is already running`);
  return json(202, { id, domain: domain.value, running: true });
};

/** The last drill of a domain (null if never drilled) and whether one is running now. */
export const lastDrill: Handler = async (req, d) => {
  const domain = parseDomain(req.params.domain, d.queues.domains());
  if (!domain.ok) return fromFailure(domain);
  const last = await d.redis.get(d.keys.drillLast(domain.value));
  return json(200, { domain: domain.value, running: drillRunning(domain.value), last: last ? JSON.parse(last) : null });
};

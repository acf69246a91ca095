/**
 * POST /api/doctor and POST /api/drill/{domain}: validation here, the work in src/doctor/.
 * Both run in the mxspool that answers, so the CLI needs no access to Redis, the scanners or
 * the certificate key.
 */
import type { Handler } from "./api-deps.js";
import { fromFailure, json } from "./reply.js";
import { parseDomain } from "./validate.js";
import { runDoctor } from "../doctor/doctor.js";
import { runDrill } from "../doctor/drill.js";

export const doctor: Handler = async (_req, d) => {
  const alerts = (d.config as { alerts?: unknown }).alerts ? { configured: true as const, sent: null } : { configured: false as const };
  return json(200, await runDoctor(d.config, d.redis, d.keys, alerts));
};

export const drill: Handler = async (req, d) => {
  const domain = parseDomain(req.params.domain, d.queues.domains());
  if (!domain.ok) return fromFailure(domain);
  return json(200, await runDrill(d, domain.value));
};

/**
 * POST /api/alerts/test: queues one `test` alert to every destination (what `mxspool doctor
 * --send-test-alert` calls). 202 once it is queued — sending and retrying is the alert
 * worker's; 409 when no destination is configured.
 */
import type { Handler } from "./api-deps.js";
import { apiError, json } from "./reply.js";

export const sendTestAlert: Handler = async (_req, d) => {
  if (!d.alerts) return apiError(503, "NO_ALERT_QUEUE", "no alert queue in this process");
  if (d.alerts.destinations === 0) return apiError(409, "NO_ALERT_DESTINATION", "no alerts.webhooks or alerts.email configured");
  return json(202, await d.alerts.sendTestAlert());
};

/**
 * POSTs one alert body to one webhook: JSON, signed with HMAC-SHA256 of the exact bytes
 * (X-Mxspool-Signature: sha256=<hex>), bounded by a timeout. Resolves on a 2xx; throws
 * otherwise (the worker retries). Never follows the primary: it talks only to the URL given.
 */
import { signature } from "./alert-job.js";

export async function postWebhook(url: string, secret: string, body: string, timeoutMs: number): Promise<number> {
  const res = await fetch(url, {
    method: "POST",
    body,
    redirect: "error",
    signal: AbortSignal.timeout(timeoutMs),
    headers: { "content-type": "application/json", "user-agent": "mxspool-alerts", "x-mxspool-signature": signature(secret, body) },
  });
  await res.arrayBuffer().catch(() => undefined); // drain it: the connection can be reused
  if (res.status < 200 || res.status > 299) throw new Error(`webhook answered HTTP ${res.status}`);
  return res.status;
}

/**
 * `mxspool traffic DOMAIN [--since 24h] [--step 1h] [--json]`: a domain's traffic series
 * (GET /api/traffic) as a small table, one row per step: accepted messages, recipients,
 * bytes, refusals (all reasons, and unknown recipients apart), delivered, bounced, deferred
 * and the queue's largest sample. DOMAIN "*" shows the refusals made before a domain was known.
 */
import { parseArgs } from "node:util";
import type { ApiClient } from "./api-client.js";
import { size, table, time } from "./format.js";
import type { TrafficSeriesResult } from "../observability/traffic-series.js";

const options = { json: { type: "boolean" }, since: { type: "string" }, step: { type: "string" } } as const;
const USAGE = "usage: mxspool traffic DOMAIN [--since 24h] [--step 1h] [--json]\n";
const COLUMNS = ["accepted", "recipients", "bytes", "rejected", "rejected.unknown-recipient", "delivered", "bounced", "deferred", "queue"] as const;
const HEADERS = ["FROM", "ACCEPTED", "RCPTS", "BYTES", "REFUSED", "UNKNOWN RCPT", "DELIVERED", "BOUNCED", "DEFERRED", "QUEUE"];

export async function trafficCommand(args: string[], client: ApiClient): Promise<number> {
  const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
  if (positionals.length !== 1) { process.stderr.write(USAGE); return 2; }
  const q = new URLSearchParams({ domain: positionals[0]!, from: values.since ?? "24h", step: values.step ?? "1h", metrics: COLUMNS.join(",") });
  const r = await client.call<TrafficSeriesResult>("GET", `/api/traffic?${q}`);
  if (values.json) { process.stdout.write(JSON.stringify(r, null, 2) + "\n"); return 0; }
  const sum = (m: (typeof COLUMNS)[number]) => r.points.reduce((a, p) => (m === "queue" ? Math.max(a, p[m] ?? 0) : a + (p[m] ?? 0)), 0);
  const cells = (get: (m: (typeof COLUMNS)[number]) => number) => COLUMNS.map((m) => (m === "bytes" ? size(get(m)) : String(get(m))));
  const rows = r.points.map((p) => [time(p.t), ...cells((m) => p[m] ?? 0)]);
  process.stdout.write(table(HEADERS, [...rows, ["total", ...cells(sum)]]));
  return 0;
}

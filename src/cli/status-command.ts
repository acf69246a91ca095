/**
 * `mxspool status [--json]`: GET /api/status as a short human report — each domain's
 * primary and queue, messages per state, totals, rates, the drain pace, what the spool costs
 * in Redis (bytes per queued message, hours of outage that still fit) and the scanners.
 */
import { parseArgs } from "node:util";
import type { ApiClient } from "./api-client.js";
import { ago, duration, table } from "./format.js";

interface Status {
  hostname: string;
  domains: Record<string, { primary: { state: string; since: number | null; lastProbe: number | null; lastError: string | null }; queuePaused: boolean; adminPaused: boolean; jobs: Record<string, number> }>;
  queue: Record<string, number>;
  totals: Record<string, number>;
  rates: { windowSeconds: number; acceptedPerSecond: number; deliveredPerSecond: number; bouncedPerSecond: number; rejectedPerSecond: number } | null;
  drain: { inQueue: number; pacePerSecond: number | null; etaSeconds: number | null };
  redis?: { usedMemory: number; limitBytes: number; limitFrom: string; bytesPerQueuedMessage: number | null; messagesLeft: number | null };
  outageHoursLeft?: number | null;
  acceptedPerHour?: number;
  scanners: { status: string; warning?: string; scanners: { name: string; state: string; lastLatencyMs: number | null; lastError: string | null; mailRefused: boolean }[] };
}

export async function statusCommand(args: string[], client: ApiClient): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: "boolean" } }, strict: true, allowPositionals: false });
  const s = await client.call<Status>("GET", "/api/status");
  if (values.json) { process.stdout.write(JSON.stringify(s, null, 2) + "\n"); return 0; }
  const rows = Object.entries(s.domains).map(([d, x]) => [
    d, x.primary.state, x.primary.since ? ago(x.primary.since) : "-", ago(x.primary.lastProbe),
    x.adminPaused ? "paused (admin)" : x.queuePaused ? "paused" : "delivering", x.primary.lastError ?? "",
  ]);
  let out = `mxspool on ${s.hostname}\n\n` + table(["DOMAIN", "PRIMARY", "SINCE", "LAST PROBE", "QUEUE", "LAST ERROR"], rows) + "\n";
  const q = s.queue;
  out += `queue:    ${q.queued} queued, ${q.deferred} deferred, ${q.active} active, ${q.held} held` +
    ` (retained: ${q.delivered} delivered, ${q.bounced} bounced, ${q.deleted} deleted)\n`;
  out += `totals:   ${s.totals.accepted} accepted, ${s.totals.delivered} delivered, ${s.totals.bounced} bounced, ${s.totals.deleted} deleted, ${s.totals.rejected} rejected\n`;
  out += s.rates
    ? `rates:    ${s.rates.acceptedPerSecond}/s accepted, ${s.rates.deliveredPerSecond}/s delivered, ${s.rates.bouncedPerSecond}/s bounced, ${s.rates.rejectedPerSecond}/s rejected (last ${s.rates.windowSeconds}s)\n`
    : "rates:    (not enough history yet)\n";
  out += `drain:    ${s.drain.inQueue} to deliver, ${s.drain.pacePerSecond ?? 0}/s` + (s.drain.etaSeconds !== null ? `, empty in about ${duration(s.drain.etaSeconds * 1000)}` : "") + "\n";
  if (s.redis) {
    const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
    out += `memory:   Redis ${mib(s.redis.usedMemory)} of ${mib(s.redis.limitBytes)} (${s.redis.limitFrom === "maxmemory" ? "maxmemory" : "no maxmemory: the machine's memory"})`
      + (s.redis.bytesPerQueuedMessage !== null ? `, ${s.redis.bytesPerQueuedMessage} bytes per queued message, room for ~${s.redis.messagesLeft} more` : "")
      + (s.outageHoursLeft != null ? `: about ${s.outageHoursLeft} h of outage at ${s.acceptedPerHour}/h` : "") + "\n";
  }
  if (s.scanners.status === "disabled") out += `scanners: disabled — ${s.scanners.warning ?? "none configured"}\n`;
  else {
    out += `scanners: ${s.scanners.status}\n`;
    for (const x of s.scanners.scanners) {
      out += `  ${x.name}: ${x.state}${x.lastLatencyMs !== null ? `, last scan ${x.lastLatencyMs} ms` : ""}${x.lastError && x.state === "down" ? ` (${x.lastError})` : ""}${x.mailRefused ? " — MAIL IS BEING DEFERRED" : ""}\n`;
    }
  }
  process.stdout.write(out);
  return 0;
}

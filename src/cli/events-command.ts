/**
 * `mxspool events [--kind K] [--domain D] [--limit N] [--json]`: the continuity events, newest
 * first (GET /api/events); `mxspool events show ID [--json]`: one event's report as Markdown
 * (GET /api/events/{id}), or the event and report as JSON.
 */
import { parseArgs } from "node:util";
import type { ApiClient } from "./api-client.js";
import { ago, clip, duration, table } from "./format.js";
import type { ContinuityEvent } from "../continuity/continuity-event.js";
import { renderReport, type Report } from "../continuity/outage-report.js";

const options = { json: { type: "boolean" }, kind: { type: "string" }, domain: { type: "string" }, limit: { type: "string" } } as const;

export async function eventsCommand(args: string[], client: ApiClient): Promise<number> {
  const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
  if (positionals[0] === "show") {
    if (!positionals[1] || positionals.length > 2) { process.stderr.write("usage: mxspool events show ID [--json]\n"); return 2; }
    const r = await client.call<{ event: ContinuityEvent; report: Report }>("GET", `/api/events/${encodeURIComponent(positionals[1])}`);
    process.stdout.write(values.json ? JSON.stringify(r, null, 2) + "\n" : renderReport(r.report));
    return 0;
  }
  if (positionals.length) { process.stderr.write(`unknown events command ${positionals[0]}; expected: mxspool events [--json] | mxspool events show ID\n`); return 2; }
  const q = new URLSearchParams();
  for (const k of ["kind", "domain", "limit"] as const) if (values[k]) q.set(k, values[k]!);
  const page = await client.call<{ items: ContinuityEvent[]; next: string | null }>("GET", `/api/events${q.size ? `?${q}` : ""}`);
  if (values.json) { process.stdout.write(JSON.stringify(page, null, 2) + "\n"); return 0; }
  if (!page.items.length) { process.stdout.write("no continuity events\n"); return 0; }
  const rows = page.items.map((e) => [e.id, e.kind, e.domain ?? "-", e.state, ago(e.startedAt),
    e.recoveredAt ? duration(e.recoveredAt - e.startedAt) : e.closedAt ? duration(e.closedAt - e.startedAt) : "-", clip(e.summary, 70)]);
  process.stdout.write(table(["ID", "KIND", "DOMAIN", "STATE", "STARTED", "LASTED", "SUMMARY"], rows) + "\n");
  return 0;
}

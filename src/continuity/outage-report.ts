/**
 * The report of a continuity event, as data (JSON through the API) and as Markdown (the CLI):
 * a timeline, the figures an operator asks after an outage (time to detect, how long the
 * primary was away, time to the first delivery after its return, drain duration and pace),
 * what the mail did (spooled, delivered, bounced and held with reasons, still waiting and
 * why) and the largest senders and recipients. Pure: built from the event and the facts read
 * by ./outage-facts.ts (stored in the event when it closed, read live while it is open).
 */
import type { ContinuityEvent } from "./continuity-event.js";
import type { Count, OutageFacts } from "./outage-facts.js";

export interface Report {
  id: string;
  kind: string;
  domain?: string;
  state: "open" | "closed";
  summary: string;
  timeline: { at: number; what: string }[];
  figures: {
    timeToDetectMs?: number;
    outageMs?: number;
    timeToFirstDeliveryMs?: number;
    drainMs?: number;
    drainPerMinute?: number;
  };
  mail?: OutageFacts & { rejected?: number };
  data: Record<string, unknown>;
}

const diff = (a?: number, b?: number) => (a !== undefined && b !== undefined ? Math.max(0, b - a) : undefined);

export function buildReport(ev: ContinuityEvent, facts?: OutageFacts): Report {
  const timeline: { at: number; what: string }[] = [{ at: ev.startedAt, what: ev.kind === "outage" ? "started: first failed probe" : "started" }];
  if (ev.detectedAt !== undefined) timeline.push({ at: ev.detectedAt, what: "detected: mxspool declared it" });
  if (ev.recoveredAt !== undefined) timeline.push({ at: ev.recoveredAt, what: "recovered: primary answers again" });
  if (facts?.firstDeliveryAt !== undefined) timeline.push({ at: facts.firstDeliveryAt, what: "first delivery after the return" });
  if (ev.drainedAt !== undefined) timeline.push({ at: ev.drainedAt, what: "drained: queue empty" });
  if (ev.closedAt !== undefined && ev.closedAt !== ev.drainedAt) timeline.push({ at: ev.closedAt, what: "closed" });
  timeline.sort((a, b) => a.at - b.at);
  const drainMs = diff(ev.recoveredAt, ev.drainedAt);
  const figures: Report["figures"] = {
    timeToDetectMs: diff(ev.startedAt, ev.detectedAt),
    outageMs: diff(ev.startedAt, ev.recoveredAt),
    timeToFirstDeliveryMs: diff(ev.recoveredAt, facts?.firstDeliveryAt),
    drainMs,
    drainPerMinute: facts && drainMs !== undefined ? Math.round((facts.messages / Math.max(drainMs, 1000)) * 60_000 * 10) / 10 : undefined,
  };
  const { facts: _stored, ...data } = ev.data;
  const rejected = typeof ev.data.rejected === "number" ? ev.data.rejected : undefined;
  return { id: ev.id, kind: ev.kind, domain: ev.domain, state: ev.state, summary: ev.summary, timeline, figures,
    ...(facts ? { mail: { ...facts, ...(rejected !== undefined ? { rejected } : {}) } } : {}), data };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
const dur = (ms?: number) => (ms === undefined ? "—" : ms < 120_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms / 6000) / 10} min`);
const list = (c: Count[]) => (c.length ? c.map((x) => `${x.name} (${x.count})`).join(", ") : "none");

/** The report as Markdown for people (`mxspool events show ID`). */
export function renderReport(r: Report): string {
  const out = [`# ${r.kind}${r.domain ? ` of ${r.domain}` : ""} — ${r.id} (${r.state})`, "", r.summary, "", "## Timeline", ""];
  for (const t of r.timeline) out.push(`- ${iso(t.at)} — ${t.what}`);
  out.push("", "## Figures", "", "| figure | value |", "| --- | --- |",
    `| time to detect | ${dur(r.figures.timeToDetectMs)} |`, `| primary away | ${dur(r.figures.outageMs)} |`,
    `| time to first delivery after return | ${dur(r.figures.timeToFirstDeliveryMs)} |`, `| drain duration | ${dur(r.figures.drainMs)} |`,
    `| drain pace | ${r.figures.drainPerMinute === undefined ? "—" : `${r.figures.drainPerMinute} messages/min`} |`);
  if (r.mail) {
    const m = r.mail;
    out.push("", "## Mail during the outage", "", "| | count |", "| --- | --- |", `| messages spooled | ${m.messages} |`, `| recipients | ${m.recipients} |`,
      `| bytes | ${m.bytes} |`, `| recipients delivered | ${m.delivered} |`, `| recipients bounced | ${m.bounced} |`, `| messages held | ${m.held} |`,
      `| messages still waiting | ${m.waiting} |`, ...(m.rejected !== undefined ? [`| SMTP refusals meanwhile (all domains) | ${m.rejected} |`] : []),
      "", `- bounces: ${list(m.bounceReasons)}`, `- holds: ${list(m.holdReasons)}`, `- still waiting: ${list(m.waitingReasons)}`,
      `- largest senders: ${list(m.topSenders)}`, `- largest recipients: ${list(m.topRecipients)}`);
    if (m.truncated) out.push("", "(only the first records were read: the counts are a lower bound)");
  }
  const extra = Object.entries(r.data).filter(([k]) => k !== "rejected" && k !== "rejectedBefore");
  if (extra.length) { out.push("", "## Details", ""); for (const [k, v] of extra) out.push(`- ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`); }
  return out.join("\n") + "\n";
}

/**
 * What the alerts queue holds, and the pure rules around it: one job per destination (so a
 * webhook that fails is retried without sending the e-mail again), a job id derived from the
 * transition's dedupeKey and the destination (so a second publish, from any node, adds
 * nothing), the body bytes fixed at publish time (a retry sends the same bytes and the same
 * signature), the backoff table, and the e-mail text. No I/O here.
 */
import crypto from "node:crypto";
import type { AlertPayload } from "../continuity/alert-sink.js";
import type { ContinuityEvent } from "../continuity/continuity-event.js";

export interface WebhookJob { channel: "webhook"; url: string; body: string; dedupeKey: string; createdAt: number }
export interface EmailJob { channel: "email"; subject: string; text: string; dedupeKey: string; createdAt: number }
/** Checks whether `eventId` is still open and, if so, sends reminder `n` and schedules the next. */
export interface RemindJob { channel: "remind"; eventId: string; n: number; createdAt: number }
export type AlertJob = WebhookJob | EmailJob | RemindJob;
export type AlertChannel = "webhook" | "email";

const hash = (s: string) => crypto.createHash("sha256").update(s).digest("hex").slice(0, 40);

/** The BullMQ job id of one alert to one destination (BullMQ forbids ":" in ids, hence the hash). */
export const alertJobId = (dedupeKey: string, destination: string) => `alert.${hash(`${dedupeKey}\n${destination}`)}`;
/** The BullMQ job id of reminder `n` of an event. */
export const remindJobId = (eventId: string, n: number) => `remind.${hash(`${eventId}\n${n}`)}`;

/** The webhook body: the payload as JSON, `text` included for Slack/Mattermost incoming webhooks. */
export const webhookBody = (p: AlertPayload): string =>
  JSON.stringify({ type: p.type, domain: p.domain, at: p.at, text: p.text, event: p.event });

/** `sha256=<hex>` of the exact body bytes under the webhook's secret (header X-Mxspool-Signature). */
export const signature = (secret: string, body: string): string =>
  `sha256=${crypto.createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;

/** An alert that opens an event schedules reminders while it stays open. */
export const opensEvent = (type: string) => /\.(started|opened)$/.test(type);

/** The reminder's payload: `<kind>.update` (outage.update for an outage), the event as it is now. */
export function updatePayload(e: ContinuityEvent, n: number, now: number): AlertPayload {
  const minutes = Math.round((now - e.startedAt) / 60_000);
  return { type: `${e.kind}.update`, domain: e.domain, at: now, event: e, text: `[mxspool] still open after ${minutes} min (reminder ${n}): ${e.summary}` };
}

/**
 * Wait before attempt n+1 (n = attempts made): first · 2^(n-1), capped at max. With the
 * defaults (5s, 5m): 5s, 10s, 20s, 40s, 80s, 160s, 5m, 5m … — cumulative ≈ 5 min after 6
 * failures, then one attempt every 5 min until alerts.maxAge.
 */
export function alertBackoff(attemptsMade: number, retry: { first: number; max: number }): number {
  return Math.min(retry.max, retry.first * 2 ** Math.max(0, Math.min(attemptsMade - 1, 30)));
}

const time = (ms?: number) => (ms ? new Date(ms).toISOString() : undefined);

/** The e-mail alert: a subject line and a plain-text body a person reads on a phone. */
export function emailContent(p: AlertPayload): { subject: string; text: string } {
  const e = p.event;
  const facts: [string, string | undefined][] = [
    ["Alert", p.type], ["Domain", p.domain], ["Event", e.id], ["Kind", e.kind], ["State", e.state],
    ["Started", time(e.startedAt)], ["Detected", time(e.detectedAt)], ["Recovered", time(e.recoveredAt)],
    ["Drained", time(e.drainedAt)], ["Closed", time(e.closedAt)], ["At", time(p.at)],
  ];
  const lines = facts.filter(([, v]) => v !== undefined).map(([k, v]) => `${k.padEnd(10)} ${v}`);
  const data = Object.keys(e.data ?? {}).length ? `\nDetails:\n${JSON.stringify(e.data, null, 2)}\n` : "";
  return {
    subject: `[mxspool] ${p.type}${p.domain ? ` ${p.domain}` : ""}: ${e.summary}`.replace(/[\r\n]+/g, " ").slice(0, 200),
    text: `${p.text}\n\n${lines.join("\n")}\n${data}`,
  };
}

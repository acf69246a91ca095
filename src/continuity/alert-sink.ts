/**
 * Where the events part hands each transition it won, so that people are told: the alerts
 * part (src/alerts/) implements it with a durable queue; `noAlerts` stands in until then and
 * in tests. The shape is the contract between the events and alerts parts.
 */
import type { ContinuityEvent } from "./continuity-event.js";

export interface AlertPayload {
  type: string;               // "outage.started" | "outage.update" | "outage.recovered" | "outage.drained" | "<kind>.opened" | "<kind>.closed" | "drill.passed" | "drill.failed" | "test"
  domain?: string;
  at: number;                 // ms
  event: ContinuityEvent;
  text: string;               // one line for people (Slack/Mattermost-compatible `text`)
}
export interface AlertSink {
  /** Durably queues one alert; `dedupeKey` (e.g. `${event.id}:${transition}`) makes a second publish of the same transition a no-op, whatever node calls it. */
  publish(p: AlertPayload, dedupeKey: string): Promise<void>;
}
export const noAlerts: AlertSink = { publish: async () => undefined };

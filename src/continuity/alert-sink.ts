// src/continuity/alert-sink.ts  (owner: events writes the interface + a no-op; alerts implements it)
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

/**
 * The durable alert sink (the continuity's AlertSink): publish() turns one transition into one
 * BullMQ job per destination — each webhook and the e-mail — plus, for an alert that opens an
 * event, the first reminder, all in one addBulk. Job ids derive from the dedupeKey and the
 * destination, so the same transition published again (a retry, another process, another
 * node) adds nothing while the first job is kept (alerts.maxAge, at least a week). Publishing
 * is a Redis write only: nothing here waits for a receiver, so the mail path never blocks.
 */
import crypto from "node:crypto";
import { Queue, type ConnectionOptions, type JobsOptions } from "bullmq";
import type { Config } from "../config/schema.js";
import { ALERTS_QUEUE, type Keyspace } from "../redis/keyspace.js";
import type { AlertPayload, AlertSink } from "../continuity/alert-sink.js";
import { alertJobId, emailContent, opensEvent, remindJobId, webhookBody, type AlertJob } from "./alert-job.js";

/** Far more than maxAge needs: an alert stops when it is older than alerts.maxAge, not after a count. */
const ATTEMPTS = 1_000_000;
const WEEK_S = 7 * 86_400;

export class AlertQueue implements AlertSink {
  readonly queue: Queue<AlertJob>;

  constructor(private readonly config: Config, connection: ConnectionOptions, keys: Keyspace) {
    this.queue = new Queue<AlertJob>(ALERTS_QUEUE, { connection, prefix: keys.bullPrefixOf(ALERTS_QUEUE) });
  }

  /** How long a finished job (and so its id) is kept: the window in which a re-publish is a no-op. */
  private get keep(): JobsOptions {
    const age = Math.max(WEEK_S, Math.ceil(this.config.alerts.maxAge / 1000));
    return { attempts: ATTEMPTS, backoff: { type: "alerts" }, removeOnComplete: { age }, removeOnFail: { age } };
  }

  /** The destinations configured now: how many jobs one alert becomes. */
  get destinations(): number { return this.config.alerts.webhooks.length + (this.config.alerts.email ? 1 : 0); }

  async publish(p: AlertPayload, dedupeKey: string): Promise<void> {
    const a = this.config.alerts;
    const createdAt = Date.now();
    const jobs: { name: string; data: AlertJob; opts: JobsOptions }[] = [];
    if (a.webhooks.length) {
      const body = webhookBody(p);
      for (const w of a.webhooks) jobs.push({ name: "webhook", data: { channel: "webhook", url: w.url, body, dedupeKey, createdAt }, opts: { ...this.keep, jobId: alertJobId(dedupeKey, w.url) } });
    }
    if (a.email) jobs.push({ name: "email", data: { channel: "email", ...emailContent(p), dedupeKey, createdAt }, opts: { ...this.keep, jobId: alertJobId(dedupeKey, "email") } });
    if (jobs.length && a.repeat > 0 && opensEvent(p.type)) jobs.push(this.reminder(p.event.id, 1));
    if (jobs.length) await this.queue.addBulk(jobs);
  }

  /** Reminder `n` of an event, due alerts.repeat from now. */
  reminder(eventId: string, n: number): { name: string; data: AlertJob; opts: JobsOptions } {
    return { name: "remind", data: { channel: "remind", eventId, n, createdAt: Date.now() }, opts: { ...this.keep, jobId: remindJobId(eventId, n), delay: this.config.alerts.repeat } };
  }

  /** Publishes a reminder's alert and the next reminder together (a retry re-adds neither). */
  async remind(p: AlertPayload, dedupeKey: string, eventId: string, next: number): Promise<void> {
    await this.publish(p, dedupeKey);
    await this.queue.addBulk([this.reminder(eventId, next)]);
  }

  /** `mxspool doctor --send-test-alert` (POST /api/alerts/test): one `test` alert to every destination. */
  async sendTestAlert(): Promise<{ id: string; destinations: number }> {
    const now = Date.now();
    const id = `test_${now.toString(36)}${crypto.randomBytes(4).toString("hex")}`;
    const summary = `mxspool test alert from ${this.config.hostname}`;
    await this.publish({ type: "test", at: now, text: `[mxspool] ${summary}`, event: { id, kind: "drill", state: "closed", startedAt: now, closedAt: now, summary, data: { test: true } } }, `${id}:test`);
    return { id, destinations: this.destinations };
  }

  async close(): Promise<void> { await this.queue.close(); }
}

/**
 * Sends the queued alerts (runs in the supervisor of the `worker` role): each job goes to its
 * one destination; a failure is counted, logged and retried with exponential backoff
 * (alert-job.ts alertBackoff) until the alert is older than alerts.maxAge, then dropped
 * (ALERT_EXPIRED). Reminder jobs read the event back (ContinuityEvents.get) and, while it is
 * still open, publish `<kind>.update` (dedupeKey `${id}:update:${n}`) and the next reminder.
 * BullMQ's job lock makes one process send a job even with several workers; a process killed
 * between the receiver's answer and the job's completion sends it once more (at-least-once:
 * receivers de-duplicate on event.id + type).
 */
import { Worker, type ConnectionOptions, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { repeatedErrors } from "../observability/repeated-errors.js";
import { ALERTS_QUEUE, type Keyspace } from "../redis/keyspace.js";
import type { ContinuityEvents } from "../continuity/continuity-event.js";
import type { AlertQueue } from "./alert-queue.js";
import { alertBackoff, updatePayload, type AlertJob, type EmailJob, type RemindJob, type WebhookJob } from "./alert-job.js";
import { postWebhook } from "./webhook-sender.js";
import { sendAlertEmail } from "./email-sender.js";

export class AlertWorker {
  private worker?: Worker<AlertJob>;

  constructor(private readonly config: Config, private readonly connection: ConnectionOptions, private readonly redis: Redis, private readonly keys: Keyspace,
              private readonly alerts: AlertQueue, private readonly events: Pick<ContinuityEvents, "get"> | undefined, private readonly log: Logger) {}

  start(): void {
    this.worker = new Worker<AlertJob>(ALERTS_QUEUE, (job) => this.process(job), {
      connection: this.connection, prefix: this.keys.bullPrefixOf(ALERTS_QUEUE), concurrency: 4, maxStalledCount: 1_000_000,
      settings: { backoffStrategy: (n: number) => alertBackoff(n, this.config.alerts.retry) },
    });
    this.worker.on("error", (err) => repeatedErrors(this.log).error({ event: "WORKER_ERROR", queue: ALERTS_QUEUE, err: err.message }, "alert worker error"));
  }

  private async process(job: Job<AlertJob>): Promise<void> {
    const d = job.data;
    if (d.channel === "remind") return this.remind(d);
    try {
      const reply = d.channel === "webhook" ? await this.webhook(d) : await this.email(d, job.id ?? d.dedupeKey);
      if (reply === null) return;
      await this.redis.hincrby(this.keys.alertStats(), `sent:${d.channel}`, 1);
      this.log.info({ event: "ALERT_SENT", channel: d.channel, key: d.dedupeKey, attempts: job.attemptsMade + 1, reply }, "alert sent");
    } catch (err) {
      const why = (err as Error).message;
      await this.redis.hincrby(this.keys.alertStats(), `failed:${d.channel}`, 1);
      if (Date.now() - d.createdAt > this.config.alerts.maxAge) {
        this.log.error({ event: "ALERT_EXPIRED", channel: d.channel, key: d.dedupeKey, attempts: job.attemptsMade + 1, err: why }, "alert not sent within alerts.maxAge; dropped");
        return;
      }
      repeatedErrors(this.log).warn({ event: "ALERT_FAILED", channel: d.channel, key: d.dedupeKey, attempts: job.attemptsMade + 1, err: why }, "alert not sent; will retry");
      throw err;
    }
  }

  /** The reply status, or null when the webhook is no longer configured (its secret is not in Redis). */
  private async webhook(d: WebhookJob): Promise<string | null> {
    const hook = this.config.alerts.webhooks.find((w) => w.url === d.url);
    if (!hook) {
      this.log.warn({ event: "ALERT_DESTINATION_GONE", channel: "webhook", key: d.dedupeKey }, "alert for a webhook no longer configured; dropped");
      return null;
    }
    return `HTTP ${await postWebhook(hook.url, hook.secret, d.body, this.config.alerts.timeout)}`;
  }

  private async email(d: EmailJob, jobId: string): Promise<string | null> {
    const cfg = this.config.alerts.email;
    if (!cfg) {
      this.log.warn({ event: "ALERT_DESTINATION_GONE", channel: "email", key: d.dedupeKey }, "alert e-mail no longer configured; dropped");
      return null;
    }
    // the same Message-ID on every attempt: a relay or reader that saw it already can drop the copy
    return sendAlertEmail(cfg, this.config.hostname, this.config.alerts.timeout, { subject: d.subject, text: d.text, messageId: `<${jobId}@${this.config.hostname}>` });
  }

  private async remind(d: RemindJob): Promise<void> {
    if (!this.events) return;
    const e = await this.events.get(d.eventId);
    if (!e || e.state !== "open") return;
    await this.alerts.remind(updatePayload(e, d.n, Date.now()), `${e.id}:update:${d.n}`, e.id, d.n + 1);
  }

  async stop(): Promise<void> { await this.worker?.close(); }
}

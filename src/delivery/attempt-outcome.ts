/**
 * What one delivery attempt leaves behind, once sendMessage has a result: the log line per
 * recipient, the attempt on the message's record, a DSN for the refused and the expired, the
 * recipient cache taught what the primary said — and the recipients still to retry. The
 * BullMQ side (delay, retry, done) stays in delivery-worker.ts; nothing here touches a job.
 * The traffic series count recipients: delivered, bounced (refused or expired: each named in
 * a failure DSN) and deferred, per attempt, in the domain's bucket of the attempt's end.
 */
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { Keyspace } from "../redis/keyspace.js";
import { countAttempt } from "../observability/delivery-stats.js";
import type { SpooledMessage } from "../../queues/delivery-queue.js";
import { isExpired, retryDelay } from "../../queues/retry-schedule.js";
import type { MessageRecord, MessageRecords } from "../store/message-records.js";
import type { RecipientLearner } from "../store/recipient-cache.js";
import type { RecipientResult } from "../transport/send-message.js";
import type { DsnNotifier } from "../dsn/dsn-notifier.js";
import type { TrafficSeries } from "../observability/traffic-series.js";
import { requestProbe } from "../monitor/probe-request.js";
import { statusOf } from "../../policies/dsn-policy.js";
import { recipientFact } from "../../policies/primary-reply.js";

/** Either the attempt settled every recipient, or `retry` names those still owed a delivery. */
export type Fate =
  | { retry?: undefined; delivered: number; bounced: number }
  | { retry: string[]; lastError: string };

export class AttemptOutcomes {
  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly records: MessageRecords,
              private readonly dsn: DsnNotifier, private readonly learner: RecipientLearner, private readonly log: Logger,
              private readonly traffic?: TrafficSeries) {}

  /** No primary endpoint took the connection: the monitor is asked to probe now. */
  async unreachable(m: SpooledMessage, error: string): Promise<void> {
    this.log.info({ event: "PRIMARY_UNREACHABLE", id: m.id, domain: m.domain, error }, "primary unreachable; message waits");
    const multi = this.redis.multi();
    requestProbe(multi, this.keys, m.domain);
    countAttempt(multi, this.keys, "unreachable");
    await multi.exec();
  }

  /** `attemptsMade`: the job's attempts before this one. `record`: as read before the attempt. */
  async settle(m: SpooledMessage, attemptsMade: number, endpoint: string, results: RecipientResult[], record: MessageRecord | null): Promise<Fate> {
    const delivered = results.filter((r) => r.outcome === "delivered");
    const failed = results.filter((r) => r.outcome === "permanent");
    const deferred = results.filter((r) => r.outcome !== "delivered" && r.outcome !== "permanent");
    await this.learn(m.domain, [...delivered, ...failed]);
    for (const r of delivered) this.log.info({ event: "DELIVERED", id: m.id, rcpt: r.rcpt, primary: endpoint, reply: r.response, attempt: attemptsMade + 1 }, "delivered");
    for (const r of failed) this.log.warn({ event: "BOUNCED", id: m.id, rcpt: r.rcpt, primary: endpoint, reply: r.response }, "recipient refused by the primary");
    const d = this.config.delivery;
    const expired = deferred.length > 0 && isExpired(m.receivedAt, d.maxLifetime);
    const lastError = deferred.map((r) => `${r.rcpt}: ${r.response}`).join("; ") || undefined;
    await this.records.completeAttempt(m.id, endpoint, results, {
      retentionMs: this.config.retention.delivered, lastError, expired,
      nextAttempt: deferred.length && !expired ? Date.now() + retryDelay(attemptsMade + 1, d.retry, () => 0.5) : undefined,
    }, record);
    const asDsn = (rs: RecipientResult[], note = "") => rs.map((r) => ({ rcpt: r.rcpt, status: statusOf(r.code, r.response), diagnostic: note + r.response, remoteMta: endpoint }));
    await this.dsn.notify("failed", m, asDsn(failed));
    this.traffic?.record(m.domain, { delivered: delivered.length, bounced: failed.length + (expired ? deferred.length : 0), deferred: expired ? 0 : deferred.length });
    if (!deferred.length) return { delivered: delivered.length, bounced: failed.length };
    if (expired) {
      for (const r of deferred) this.log.warn({ event: "EXPIRED", id: m.id, rcpt: r.rcpt, reply: r.response }, "message too old; giving up");
      await this.dsn.notify("failed", m, asDsn(deferred, "delivery time expired; last reply: "));
      return { delivered: delivered.length, bounced: failed.length + deferred.length };
    }
    for (const r of deferred) this.log.info({ event: "DELIVERY_DEFERRED", id: m.id, rcpt: r.rcpt, reply: r.response }, "deferred");
    return { retry: deferred.map((r) => r.rcpt), lastError: lastError! };
  }

  /** Delivery results keep the recipient cache of `verify` domains fresh for the next outage. */
  private async learn(domain: string, results: RecipientResult[]): Promise<void> {
    const taught = results.flatMap((r) => { const fact = recipientFact(r.code); return fact ? [{ rcpt: r.rcpt, fact }] : []; });
    await Promise.all(taught.map((t) => this.learner.learned(domain, t.rcpt, t.fact)))
      .catch((err) => this.log.warn({ event: "RCPT_CACHE_WRITE_FAILED", err: (err as Error).message }, "could not record recipient results"));
  }
}

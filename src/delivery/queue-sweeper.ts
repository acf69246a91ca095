/**
 * Time-driven duties for messages that are waiting rather than being tried (a paused queue
 * spends no attempts, so the worker never sees them): one "delayed" DSN once a message has
 * waited `delivery.delayWarning`, and the bounce + removal once it reaches
 * `delivery.maxLifetime`; and the purge of final messages past `retention.delivered`.
 * Runs in the supervisor every `sweepEvery`; pages through each
 * domain's waiting and delayed jobs.
 */
import type { Job } from "bullmq";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { MessageRecords } from "../store/message-records.js";
import type { DeliveryQueues, SpooledMessage } from "../../queues/delivery-queue.js";
import { isExpired } from "../../queues/retry-schedule.js";
import { keys } from "../../queues/names.js";
import type { Redis } from "ioredis";
import type { DsnNotifier } from "../dsn/dsn-notifier.js";

const PAGE = 500;

export class QueueSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly config: Config, private readonly redis: Redis, private readonly queues: DeliveryQueues, private readonly records: MessageRecords,
              private readonly dsn: DsnNotifier, private readonly log: Logger, private readonly sweepEvery = Math.min(60_000, config.monitor.interval)) {}

  start(): void {
    const tick = () => { this.timer = setTimeout(async () => { this.running = this.sweep().catch((err) => this.log.error({ event: "SWEEP_FAILED", err: (err as Error).message }, "queue sweep failed")); await this.running; tick(); }, this.sweepEvery); };
    tick();
  }

  async sweep(now = Date.now()): Promise<void> {
    const d = this.config.delivery;
    const purged = await this.records.purgeDue(now);
    if (purged) this.log.info({ event: "RETENTION_PURGED", count: purged }, "purged messages past retention");
    for (const domain of this.queues.domains()) {
      const q = this.queues.get(domain);
      const lastError = async () => (await this.redis.hget(keys.primary(this.config.redis.prefix, domain), "lastError")) || "primary unreachable";
      for (let start = 0; ; start += PAGE) {
        const jobs = (await q.getJobs(["wait", "delayed", "prioritized"], start, start + PAGE - 1)) as (Job<SpooledMessage> | undefined)[];
        for (const job of jobs) {
          if (!job?.data) continue;
          const m = job.data;
          const why = m.lastError || `the primary for ${domain} is not taking mail: ${await lastError()}`;
          if (isExpired(m.receivedAt, d.maxLifetime, now)) {
            try { await job.remove(); } catch { continue; } // being delivered right now: the worker decides
            this.log.warn({ event: "EXPIRED", id: m.id, rcpts: m.rcpts }, "message expired in the queue; bouncing");
            await this.dsn.notify("failed", m, m.rcpts.map((rcpt) => ({ rcpt, status: "4.4.7", diagnostic: `delivery time expired; ${why}` })));
            await this.records.transition(m.id, "bounced", { type: "expired", reason: `delivery time expired; ${why}` }, {}, this.config.retention.delivered);
          } else if (d.delayWarning > 0 && !m.delayWarned && now - m.receivedAt >= d.delayWarning) {
            await job.updateData({ ...m, delayWarned: true });
            await this.dsn.notify("delayed", m, m.rcpts.map((rcpt) => ({ rcpt, status: "4.4.1", diagnostic: why })));
          }
        }
        if (jobs.length < PAGE) break;
      }
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
  }
}

/**
 * Time-driven duties for messages that are waiting rather than being tried (a paused queue
 * spends no attempts, so the worker never sees them): one "delayed" DSN once a message has
 * waited `delivery.delayWarning`, and the bounce once it reaches `delivery.maxLifetime`;
 * the purge of final messages past `retention.delivered`; and the removal of orphans (stored
 * but never queued, see orphan-reconciler.ts). Runs in the supervisor at start and then every
 * `delivery.sweepInterval`. It reads only the messages that are due, through the records'
 * state indexes (sorted by arrival): the queue is never walked whole.
 */
import { zrangeByScoreMerged } from "../redis/sharded-reads.js";
import type { Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { MessageRecords } from "../store/message-records.js";
import type { DeliveryQueues, SpooledMessage } from "../../queues/delivery-queue.js";
import type { Keyspace } from "../redis/keyspace.js";
import type { DsnNotifier } from "../dsn/dsn-notifier.js";
import { OrphanReconciler } from "./orphan-reconciler.js";

const BATCH = 500;

export class QueueSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private readonly orphans: OrphanReconciler;

  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly queues: DeliveryQueues, private readonly records: MessageRecords,
              private readonly dsn: DsnNotifier, private readonly log: Logger) {
    this.orphans = new OrphanReconciler(config, redis, keys, records, log);
  }

  /** The first sweep runs at once (orphans left by a crash are removed at start), then every sweepInterval. */
  start(): void {
    const tick = (delay: number) => {
      this.timer = setTimeout(async () => {
        this.running = this.sweep().catch((err) => this.log.error({ event: "SWEEP_FAILED", err: (err as Error).message }, "queue sweep failed"));
        await this.running;
        if (!this.stopped) tick(this.config.delivery.sweepInterval);
      }, delay);
    };
    tick(0);
  }

  private async job(domain: string, id: string): Promise<Job<SpooledMessage> | undefined> {
    if (!this.queues.domains().includes(domain)) return undefined;
    return (await this.queues.get(domain).getJob(id)) as Job<SpooledMessage> | undefined;
  }

  private async why(m: SpooledMessage): Promise<string> {
    if (m.lastError) return m.lastError;
    const e = await this.redis.hget(this.keys.primary(m.domain), "lastError");
    return `the primary for ${m.domain} is not taking mail: ${e || "unreachable"}`;
  }

  /** The index of one state in every shard (one on a single Redis). */
  private stateIndexes(state: string): string[] { return this.keys.shards().map((n) => this.keys.indexState(n, state)); }

  async sweep(now = Date.now()): Promise<void> {
    const d = this.config.delivery;
    const purged = await this.records.purgeDue(now);
    if (purged) this.log.info({ event: "RETENTION_PURGED", count: purged }, "purged messages past retention");
    await this.orphans.reconcile(now);

    // expiry: everything still waiting that arrived before now - maxLifetime
    for (const state of ["queued", "deferred"]) {
      const due = await zrangeByScoreMerged(this.redis, this.stateIndexes(state), "-inf", String(now - d.maxLifetime), BATCH);
      for (const { id } of due) {
        const r = await this.records.get(id);
        const job = r && (await this.job(r.domain, id));
        if (!job?.data) continue;
        try { await job.remove(); } catch { continue; } // being delivered right now: the worker decides
        const m = job.data;
        this.log.warn({ event: "EXPIRED", id, rcpts: m.rcpts }, "message expired in the queue; bouncing");
        const why = await this.why(m);
        await this.dsn.notify("failed", m, m.rcpts.map((rcpt) => ({ rcpt, status: "4.4.7", diagnostic: `delivery time expired; ${why}` })));
        await this.records.transition(id, "expire", { type: "expired", reason: `delivery time expired; ${why}` }, {}, this.config.retention.delivered);
      }
    }

    // delay warnings: arrivals between the last sweep's mark and now - delayWarning, once
    if (d.delayWarning > 0) {
      const markKey = this.keys.sweepDelayWarned();
      const from = Number(await this.redis.get(markKey)) || 0;
      const to = now - d.delayWarning;
      if (to > from) {
        let mark = to; // how far both states were read completely
        for (const state of ["queued", "deferred"]) {
          const due = await zrangeByScoreMerged(this.redis, this.stateIndexes(state), `(${from}`, String(to), BATCH);
          if (due.length === BATCH) mark = Math.min(mark, due[due.length - 1]!.score - 1); // more next time
          for (const { id } of due) {
            const r = await this.records.get(id);
            const job = r && (await this.job(r.domain, id));
            if (!job?.data || job.data.delayWarned) continue;
            await job.updateData({ ...job.data, delayWarned: true });
            const why = await this.why(job.data);
            await this.dsn.notify("delayed", job.data, job.data.rcpts.map((rcpt) => ({ rcpt, status: "4.4.1", diagnostic: why })));
          }
        }
        await this.redis.set(markKey, String(mark));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

/**
 * Removes orphans: messages whose record, bytes and index entries were written (the accept
 * MULTI) but whose delivery job never was, because the process died between the two. Such a
 * message never got its 250 (the reply waits for the job), so the sender retries it; left
 * alone it would stay "queued" for ever — counted in the queue, shown in the webmail, never
 * delivered nor expired. Run by the queue sweeper, at start and then every sweep. Only Redis
 * Cluster writes the two apart now (one Redis and Sentinel write the jobs in the accept MULTI);
 * a spool written by an older mxspool may hold some too.
 *
 * Each arrival is looked at once, when it is `delivery.orphanAge` old: a mark in Redis says
 * how far the `queued` index has been read (as for delay warnings), so a long queue is not
 * walked every sweep. A crash leaves orphans that arrived just before it, after the mark.
 * The removal re-checks everything in one script (see MessageRecords.removeOrphan), and an
 * accept whose jobs were added later than LATE_ENQUEUE_MS re-reads its records before its 250
 * (accept-message.ts): so a slow accept in a live process is never removed under a sent 250.
 */
import { zrangeByScoreMerged } from "../redis/sharded-reads.js";
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { isRemote, type MessageRecords } from "../store/message-records.js";
import type { Keyspace } from "../redis/keyspace.js";

const BATCH = 500;

export class OrphanReconciler {
  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly records: MessageRecords, private readonly log: Logger) {}

  private get markKey() { return this.keys.sweepOrphansChecked(); }

  /** Checks the arrivals that reached orphanAge since the last run; returns how many orphans were removed. */
  async reconcile(now = Date.now()): Promise<number> {
    const from = Number(await this.redis.get(this.markKey)) || 0;
    const cutoff = now - this.config.delivery.orphanAge;
    if (cutoff <= from) return 0;
    const due = await zrangeByScoreMerged(this.redis, this.keys.shards().map((n) => this.keys.indexState(n, "queued")), `(${from}`, String(cutoff), BATCH);
    const ids = due.map((e) => e.id);
    const recs = await Promise.all(ids.map((id) => this.records.get(id)));
    const jobs = await Promise.all(recs.map((r) => (r ? this.redis.exists(this.keys.deliveryJob(r.domain, r.id)) : 1)));
    let removed = 0;
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i];
      if (!r || jobs[i] === 1 || isRemote(r)) continue; // an outbound job's record: its job is in the outbound queue
      if (!(await this.records.removeOrphan(r, this.keys.deliveryJob(r.domain, r.id), cutoff))) continue;
      removed++;
      this.log.warn({ event: "ORPHAN_REMOVED", id: r.id, domain: r.domain, age: now - r.receivedAt, rcpts: r.rcpts },
        "removed a message stored without its delivery job (never acknowledged: the sender retries it)");
    }
    // how far the index was read completely: all of it, or up to just below the last score read
    const mark = due.length === BATCH ? due[due.length - 1]!.score - 1 : cutoff;
    await this.redis.set(this.markKey, String(Math.max(mark, from)));
    return removed;
  }
}

/**
 * Turns "these recipients failed / are delayed" into a queued DSN for the message's sender:
 * checks the policy (never to <>, never about a DSN), gathers the recipients under the
 * message's base id for DSN_COALESCE_MS (so that the per-domain copies of one message, and
 * failures that come together, give one report naming every recipient), then composes the
 * report with the original headers, stores it and enqueues it. `notify` is used by the
 * delivery worker and the sweeper; `collect` by the DSN worker when the gathering is over.
 */
import type { Redis } from "ioredis";
import { LuaScript } from "../redis/lua-script.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { MessageStore } from "../store/message-store.js";
import type { SpooledMessage } from "../../queues/delivery-queue.js";
import { enqueueDsn, enqueueDsnCollect, type DsnCollectJob, type DsnQueue } from "../../queues/dsn-queue.js";
import type { Keyspace } from "../redis/keyspace.js";
import { mayNotify } from "../../policies/dsn-policy.js";
import { baseId, newQueueId } from "../mail/queue-id.js";
import { composeDsn, type DsnRecipient } from "./compose-dsn.js";

/** What the report says about the message, the same for all its copies. */
interface DsnSubject { from: string; receivedAt: number; headers: string }

/** Pending recipients outlive a lost collect job by this much, then go. */
const PENDING_TTL_MS = 86_400_000;

/**
 * Drops the first ARGV[1] recipients (those one DSN named). If none are left the gathering is
 * over; otherwise the ones that came meanwhile get a collector of their own (ARGV[2]).
 * KEYS: 1 pending hash, 2 pending list.   Returns 1 if a new collect job must be added, else 0.
 */
const TAKE_COLLECTED = new LuaScript(`
redis.call('LTRIM', KEYS[2], tonumber(ARGV[1]), -1)
if redis.call('LLEN', KEYS[2]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) return 0 end
redis.call('HSET', KEYS[1], 'collector', ARGV[2])
return 1
`);

export class DsnNotifier {
  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly store: MessageStore, private readonly queue: DsnQueue,
              private readonly log: Logger) {}

  async notify(kind: "failed" | "delayed", m: SpooledMessage, recipients: DsnRecipient[]): Promise<void> {
    if (!recipients.length) return;
    const original = (m.headers + (await this.store.headers(m.id).catch(() => ""))).replace(/\r\n$/, "");
    if (!mayNotify(m.from, original)) {
      this.log.info({ event: "DSN_SUPPRESSED", id: m.id, kind, from: m.from || "<>" }, "no DSN: null sender or the message is itself a report");
      return;
    }
    const base = baseId(m.id);
    const hash = this.keys.dsnPending(base, kind);
    const list = this.keys.dsnPendingRcpts(base, kind);
    const collector = newQueueId();
    const subject: DsnSubject = { from: m.from, receivedAt: m.receivedAt, headers: original };
    const res = await this.redis.multi()
      .rpush(list, ...recipients.map((r) => JSON.stringify(r)))
      .hsetnx(hash, "subject", JSON.stringify(subject))
      .hsetnx(hash, "collector", collector)
      .pexpire(hash, PENDING_TTL_MS).pexpire(list, PENDING_TTL_MS)
      .exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw failed?.[0] ?? new Error("DSN gathering aborted");
    // the first recipients of a gathering start its collector; later ones join them
    if (res[2][1] === 1) {
      await enqueueDsnCollect(this.queue, { id: collector, base, kind }).catch(async (err) => {
        await this.redis.hdel(hash, "collector").catch(() => undefined); // the next notify starts one
        throw err;
      });
    }
  }

  /** Composes and queues the DSN of what was gathered under `job.base`. Safe to run again after a crash. */
  async collect(job: DsnCollectJob): Promise<void> {
    const hash = this.keys.dsnPending(job.base, job.kind);
    const list = this.keys.dsnPendingRcpts(job.base, job.kind);
    const [subjectText, entries] = await Promise.all([this.redis.hget(hash, "subject"), this.redis.lrange(list, 0, -1)]);
    if (subjectText && entries.length) {
      const subject = JSON.parse(subjectText) as DsnSubject;
      const seen = new Set<string>();
      const recipients = entries.map((e) => JSON.parse(e) as DsnRecipient).filter((r) => !seen.has(r.rcpt) && seen.add(r.rcpt));
      const bytes = composeDsn({
        kind: job.kind, hostname: this.config.hostname, queueId: job.base, sender: subject.from, arrival: new Date(subject.receivedAt), recipients,
        originalHeaders: subject.headers, willRetryUntil: new Date(subject.receivedAt + this.config.delivery.maxLifetime),
      });
      const w = this.store.writer(job.id);
      await w.write(bytes);
      await w.commit();
      await enqueueDsn(this.queue, { id: job.id, about: job.base, kind: job.kind, to: subject.from, createdAt: Date.now() });
      this.log.info({ event: job.kind === "failed" ? "DSN_BOUNCE_QUEUED" : "DSN_DELAY_QUEUED", id: job.base, dsn: job.id, to: subject.from, rcpts: recipients.map((r) => r.rcpt) }, "DSN queued");
    }
    const next = newQueueId();
    if (await TAKE_COLLECTED.run(this.redis, [hash, list], [String(entries.length), next]) === 1) {
      await enqueueDsnCollect(this.queue, { id: next, base: job.base, kind: job.kind });
    }
  }
}

/**
 * What an admin can do to one message, each recorded in its ledger with the actor:
 *   hold      remove the delivery job (record and bytes stay) → held
 *   release   put a held message's job back (the recipients still pending) → queued
 *   retry     deliver now, ignoring the backoff: promote the delayed job (or re-add a lost one)
 *   redeliver send a retained delivered/bounced message again, to every recipient → queued
 *   delete    remove the job and the bytes → deleted (the record stays for retention.delivered)
 * Which action is allowed in which state, and the 409 codes, come from policies/message-state.ts.
 * A message being delivered right now is never touched (409 BEING_DELIVERED): BullMQ refuses
 * to remove a locked job, and that refusal is the check. Talks to BullMQ and Redis only.
 * Mail users sent to outside domains (records flagged "remote") has its job in the outbound
 * queue instead of a domain's delivery queue; the same actions apply, but for redeliver.
 */
import type { Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { isRemote, type MessageRecord, type MessageRecords } from "../store/message-records.js";
import { nextState, type MessageEvent } from "../../policies/message-state.js";
import type { MessageStore } from "../store/message-store.js";
import type { Queue } from "bullmq";
import type { DeliveryQueues, SpooledMessage } from "../../queues/delivery-queue.js";
import { enqueueOutbound, type OutboundJob } from "../../queues/outbound-queue.js";
import type { Keyspace } from "../redis/keyspace.js";
import { failure, ok, type Actor, type Failure, type Outcome } from "./outcome.js";
import { spooledFromRecord } from "./spooled-from-record.js";

export type MessageAction = "hold" | "release" | "retry" | "redeliver" | "delete";

export interface ActionDone { id: string; action: MessageAction; state: MessageRecord["state"]; note?: string; queuePaused?: boolean }

const beingDelivered = (id: string) => failure("conflict", "BEING_DELIVERED", `message ${id} is being delivered right now; try again when the attempt ends`);
/** The state policy's answer to `event` on `r` as it was read: a 409 with its code, or nothing. */
const refusal = (r: MessageRecord, event: MessageEvent): Failure | undefined => {
  const v = nextState(r, event);
  return v.ok ? undefined : failure("conflict", v.code, v.why);
};
type Applied = Awaited<ReturnType<MessageRecords["transition"]>>;

export class MessageActions {
  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly queues: DeliveryQueues,
              private readonly records: MessageRecords, private readonly store: MessageStore, private readonly log: Logger) {}

  run(action: MessageAction, id: string, actor: Actor): Promise<Outcome<ActionDone>> {
    switch (action) {
      case "hold": return this.hold(id, actor);
      case "release": return this.release(id, actor);
      case "retry": return this.retry(id, actor);
      case "redeliver": return this.redeliver(id, actor);
      case "delete": return this.remove(id, actor);
    }
  }

  async hold(id: string, actor: Actor): Promise<Outcome<ActionDone>> {
    const l = await this.load(id);
    if (!l.ok) return l;
    const r = l.value;
    const no = refusal(r, "hold");
    if (no) return no;
    const job = await this.removeJob(r);
    if (!job.ok) return job;
    const after = await this.records.transition(id, "hold", this.event("held", actor), job.value ? { heldJob: JSON.stringify(job.value) } : {});
    return this.done("hold", id, actor, after);
  }

  async release(id: string, actor: Actor): Promise<Outcome<ActionDone>> {
    const l = await this.load(id);
    if (!l.ok) return l;
    const r = l.value;
    const no = refusal(r, "release");
    if (no) return no;
    const savedText = await this.redis.hget(this.keys.messageMeta(id), "heldJob");
    const pending = Object.entries(r.outcomes).filter(([, o]) => o.state === "pending").map(([rcpt]) => rcpt);
    const rcpts = pending.length ? pending : r.rcpts;
    let enqueue: () => Promise<void>;
    if (isRemote(r)) {
      const saved = savedText ? JSON.parse(savedText) as OutboundJob : undefined;
      const job: OutboundJob = { id, message: id.replace(/\.\d+$/, ""), user: r.from, from: r.from, domain: r.domain, createdAt: r.receivedAt, ...saved, rcpts };
      if (!(await this.redis.hexists(this.keys.outboundMessage(job.message), "raw"))) return failure("conflict", "BYTES_GONE", `the bytes of message ${id} are no longer stored`);
      enqueue = () => enqueueOutbound(this.queues.outbound(), job);
    } else {
      if (!(await this.bytesStored(id))) return failure("conflict", "BYTES_GONE", `the bytes of message ${id} are no longer stored`);
      const data = await spooledFromRecord(r, rcpts, this.store, { saved: savedText ? JSON.parse(savedText) as SpooledMessage : undefined });
      enqueue = () => this.queues.enqueue(data);
    }
    const after = await this.records.transition(id, "release", this.event("released", actor));
    if (!after || after.refused) return this.done("release", id, actor, after);
    await this.redis.hdel(this.keys.messageMeta(id), "heldJob");
    await enqueue();
    return this.done("release", id, actor, after, { queuePaused: await this.queueOf(r).isPaused() });
  }

  async retry(id: string, actor: Actor): Promise<Outcome<ActionDone>> {
    const l = await this.load(id);
    if (!l.ok) return l;
    const r = l.value;
    const no = refusal(r, "retry");
    if (no) return no;
    const job = await this.queueOf(r).getJob(id) as Job<SpooledMessage> | undefined;
    let note: string;
    if (!job && isRemote(r)) return failure("conflict", "NO_JOB", `message ${id} has no job in the outbound queue`);
    if (!job) {
      // queued in the records but without a job (lost): put it back
      const pending = Object.entries(r.outcomes).filter(([, o]) => o.state === "pending").map(([rcpt]) => rcpt);
      await this.queues.enqueue(await spooledFromRecord(r, pending.length ? pending : r.rcpts, this.store));
      note = "job re-added";
    } else {
      const state = await job.getState();
      if (state === "active") return beingDelivered(id);
      if (state === "delayed") {
        try { await job.promote(); note = "promoted from delayed"; } catch { note = "already waiting"; }
      } else if (state === "failed") {
        await job.retry("failed");
        note = "failed job retried";
      } else note = "already waiting";
    }
    const after = await this.records.transition(id, "retry", this.event("retry", actor, { note }));
    return this.done("retry", id, actor, after, { note, queuePaused: await this.queueOf(r).isPaused() });
  }

  async redeliver(id: string, actor: Actor): Promise<Outcome<ActionDone>> {
    const l = await this.load(id);
    if (!l.ok) return l;
    const r = l.value;
    const no = refusal(r, "redeliver");
    if (no) return no;
    if (isRemote(r)) return failure("conflict", "NOT_REDELIVERABLE", `message ${id} was sent to an outside domain: the user sends it again`);
    if (!(await this.bytesStored(id))) return failure("conflict", "BYTES_GONE", `the bytes of message ${id} are no longer stored`);
    const job = await this.removeJob(r); // a kept failed job with this id would swallow the new one
    if (!job.ok) return job;
    const after = await this.records.transition(id, "redeliver", this.event("redeliver", actor));
    if (!after || after.refused) return this.done("redeliver", id, actor, after);
    // a new life in the queue: the bytes live as long as a newly accepted message's
    await this.redis.pexpire(this.keys.messageRaw(id), this.config.delivery.maxLifetime + 2 * 86_400_000);
    await this.queues.enqueue(await spooledFromRecord(r, r.rcpts, this.store, { receivedAt: Date.now() }));
    return this.done("redeliver", id, actor, after, { queuePaused: await this.queues.get(r.domain).isPaused() });
  }

  async remove(id: string, actor: Actor): Promise<Outcome<ActionDone>> {
    const l = await this.load(id);
    if (!l.ok) return l;
    const r = l.value;
    const no = refusal(r, "delete");
    if (no) return no;
    const job = await this.removeJob(r);
    if (!job.ok) return job;
    await this.store.remove(id);
    const after = await this.records.transition(id, "delete", this.event("deleted", actor, { reason: `deleted by ${actor.name}` }), {}, this.config.retention.delivered);
    return this.done("delete", id, actor, after);
  }

  private async load(id: string): Promise<Outcome<MessageRecord>> {
    const r = await this.records.get(id);
    if (!r) return failure("not-found", "NOT_FOUND", `no message ${id}`);
    if (!isRemote(r) && !this.queues.domains().includes(r.domain)) return failure("conflict", "DOMAIN_NOT_CONFIGURED", `${r.domain} is no longer a configured domain`);
    return ok(r);
  }

  /** Removes the message's job unless it is being delivered; returns its data (undefined: no job). */
  private async removeJob(r: MessageRecord): Promise<Outcome<SpooledMessage | undefined>> {
    const q = this.queueOf(r);
    const job = await q.getJob(r.id) as Job<SpooledMessage> | undefined;
    if (!job) return ok(undefined);
    if ((await job.getState()) === "active") return beingDelivered(r.id);
    // 0: locked — a worker took it between the two calls
    if (!(await q.remove(r.id))) return beingDelivered(r.id);
    return ok(job.data);
  }

  private queueOf(r: MessageRecord): Queue {
    return isRemote(r) ? this.queues.outbound() : this.queues.get(r.domain);
  }

  private async bytesStored(id: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.messageRaw(id))) === 1;
  }

  private event(type: string, actor: Actor, extra: Record<string, unknown> = {}) {
    return { type, actor: actor.name, ...(actor.ip ? { ip: actor.ip } : {}), ...extra };
  }

  /** The action's result: the state it reached, or a conflict if the message moved on meanwhile. */
  private done(action: MessageAction, id: string, actor: Actor, after: Applied, extra: { note?: string; queuePaused?: boolean } = {}): Outcome<ActionDone> | Failure {
    if (!after) return failure("not-found", "NOT_FOUND", `no message ${id} (purged meanwhile)`);
    if (after.refused) return failure("conflict", "STATE_CHANGED", `message ${id} became ${after.record.state} meanwhile`);
    this.log.info({ event: "ADMIN_ACTION", action, id, actor: actor.name, ip: actor.ip, ...extra }, `admin ${action}`);
    return ok({ id, action, state: after.record.state, ...extra });
  }
}

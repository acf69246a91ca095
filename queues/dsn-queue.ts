/**
 * The queue of delivery status notifications mxspool sends (bounces and delay warnings).
 * Each DSN is a message of its own: bytes in the message store, envelope <> → sender.
 * Before a DSN is composed, the recipients to name wait DSN_COALESCE_MS in Redis under the
 * message's base id (its per-domain copies `<id>.2`, ... share it), so that failures that
 * happen together — one sweep's expiries, one attempt's refusals, each copy's delay — give
 * the sender one report naming them all, as Postfix sends one per message.
 */
import { Queue, type ConnectionOptions } from "bullmq";
import { DSN_QUEUE, type Keyspace } from "../src/redis/keyspace.js";
import { MAX_ATTEMPTS } from "./delivery-queue.js";

export interface DsnJob { id: string; about: string; kind: "failed" | "delayed"; to: string; createdAt: number }

/** Compose the DSN of one message (`base`) from the recipients gathered under it; `id` becomes the DSN's id. */
export interface DsnCollectJob { id: string; base: string; kind: "failed" | "delayed" }

/** Job names in the DSN queue: send a composed DSN, or compose one from the gathered recipients. */
export const DSN_SEND = "dsn";
export const DSN_COLLECT = "collect";

/** How long failures of one message are gathered before its DSN is composed. */
export const DSN_COALESCE_MS = 3000;

export type DsnQueue = Queue<DsnJob | DsnCollectJob>;

export function createDsnQueue(connection: ConnectionOptions, keys: Keyspace): DsnQueue {
  return new Queue<DsnJob | DsnCollectJob>(DSN_QUEUE, { connection, prefix: keys.bullPrefixOf(DSN_QUEUE) });
}

export async function enqueueDsn(queue: DsnQueue, job: DsnJob): Promise<void> {
  await queue.add(DSN_SEND, job, { jobId: job.id, attempts: MAX_ATTEMPTS, backoff: { type: "mxspool" }, removeOnComplete: true, removeOnFail: 1000 });
}

export async function enqueueDsnCollect(queue: DsnQueue, job: DsnCollectJob): Promise<void> {
  await queue.add(DSN_COLLECT, job, { jobId: `collect.${job.id}`, delay: DSN_COALESCE_MS, attempts: MAX_ATTEMPTS, backoff: { type: "mxspool" }, removeOnComplete: true, removeOnFail: 1000 });
}

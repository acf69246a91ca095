/**
 * The queue of delivery status notifications mxspool sends (bounces and delay warnings).
 * Each DSN is a message of its own: bytes in the message store, envelope <> → sender.
 */
import { Queue, type ConnectionOptions } from "bullmq";
import { bullPrefix, DSN_QUEUE } from "./names.js";
import { MAX_ATTEMPTS } from "./delivery-queue.js";

export interface DsnJob { id: string; about: string; kind: "failed" | "delayed"; to: string; createdAt: number }

export function createDsnQueue(connection: ConnectionOptions, prefix: string): Queue<DsnJob> {
  return new Queue<DsnJob>(DSN_QUEUE, { connection, prefix: bullPrefix(prefix) });
}

export async function enqueueDsn(queue: Queue<DsnJob>, job: DsnJob): Promise<void> {
  await queue.add("dsn", job, { jobId: job.id, attempts: MAX_ATTEMPTS, backoff: { type: "mxspool" }, removeOnComplete: true, removeOnFail: 1000 });
}

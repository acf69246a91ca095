/**
 * The BullMQ queue of outbound mail: messages authenticated users send to addresses outside
 * the configured domains (mail to configured domains goes into the ordinary spool instead).
 * One job per recipient domain; the bytes (signed, without Bcc) live in the sent message's
 * hash (Keyspace.outboundMessage), read by the outbound worker (src/outbound/outbound-worker.ts).
 */
import { Queue, type ConnectionOptions } from "bullmq";
import { OUTBOUND_QUEUE, type Keyspace } from "../src/redis/keyspace.js";
import { MAX_ATTEMPTS } from "./delivery-queue.js";

export interface OutboundJob {
  /** The job's id: `<message id>.<n>`. */
  id: string;
  /** The sent message's id (its bytes and summary). */
  message: string;
  user: string;
  from: string;
  domain: string;
  /** Recipients still to deliver (shrinks as they are delivered or refused). */
  rcpts: string[];
  createdAt: number;
  lastError?: string;
}

export type OutboundQueue = Queue<OutboundJob>;

export function createOutboundQueue(connection: ConnectionOptions, keys: Keyspace): OutboundQueue {
  return new Queue<OutboundJob>(OUTBOUND_QUEUE, { connection, prefix: keys.bullPrefixOf(OUTBOUND_QUEUE) });
}

export async function enqueueOutbound(queue: OutboundQueue, job: OutboundJob): Promise<void> {
  await queue.add("send", job, { jobId: job.id, attempts: MAX_ATTEMPTS, backoff: { type: "mxspool" }, removeOnComplete: true, removeOnFail: 1000 });
}

/**
 * The BullMQ delivery queues (one per configured domain) and the job that describes a
 * spooled message. The job holds the envelope and the accept-time facts; the bytes live in
 * the message store under the same queue id. outbound() is the queue of mail users send to
 * outside domains (queues/outbound-queue.ts), for the admin's hold/release/delete of it.
 */
import { Queue, type ConnectionOptions } from "bullmq";
import { deliveryQueueName, OUTBOUND_QUEUE, type Keyspace } from "../src/redis/keyspace.js";
import type { OutboundJob } from "./outbound-queue.js";

export interface SpooledMessage {
  id: string;
  domain: string;
  from: string;
  /** Recipients still to deliver (shrinks as the primary accepts them). */
  rcpts: string[];
  /** Every recipient accepted at RCPT time. */
  allRcpts: string[];
  /** Header lines mxspool adds (Received, filter results), CRLF-terminated, prepended on delivery. */
  headers: string;
  /** Size of the client's bytes (without `headers`). */
  size: number;
  receivedAt: number;
  client: { ip: string; hostname?: string; helo?: string };
  tls?: { protocol?: string; cipher?: string };
  smtputf8: boolean;
  body8bit: boolean;
  /** Markers such as "unscanned" (a filter was down and onError: accept). */
  flags: string[];
  /** Set once the delay-warning DSN went out. */
  delayWarned?: boolean;
  /** The last temporary failure, for DSNs and the admin. */
  lastError?: string;
}

/** Jobs never run out of attempts by count: expiry by age (maxLifetime) ends them. */
export const MAX_ATTEMPTS = 1_000_000;

export class DeliveryQueues {
  private readonly queues = new Map<string, Queue<SpooledMessage>>();
  private outboundQueue?: Queue<OutboundJob>;

  constructor(private readonly connection: ConnectionOptions, private readonly keys: Keyspace, domains: string[]) {
    for (const d of domains) this.queues.set(d, new Queue<SpooledMessage>(deliveryQueueName(d), { connection, prefix: keys.bullPrefixOf(deliveryQueueName(d)) }));
  }

  get(domain: string): Queue<SpooledMessage> {
    const q = this.queues.get(domain);
    if (!q) throw new Error(`no delivery queue for domain ${domain}`);
    return q;
  }

  domains(): string[] { return [...this.queues.keys()]; }

  /** The outbound queue (one job per remote recipient domain of a sent message), opened on first use. */
  outbound(): Queue<OutboundJob> {
    this.outboundQueue ??= new Queue<OutboundJob>(OUTBOUND_QUEUE, { connection: this.connection, prefix: this.keys.bullPrefixOf(OUTBOUND_QUEUE) });
    return this.outboundQueue;
  }

  async enqueue(msg: SpooledMessage): Promise<void> {
    await this.get(msg.domain).add("deliver", msg, {
      jobId: msg.id,
      attempts: MAX_ATTEMPTS,
      backoff: { type: "mxspool" },
      removeOnComplete: true,
      removeOnFail: false,
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values(), ...(this.outboundQueue ? [this.outboundQueue] : [])].map((q) => q.close()));
  }
}

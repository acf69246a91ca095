/**
 * The BullMQ delivery queues (one per configured domain) and the job that describes a
 * spooled message. The job holds the envelope and the accept-time facts; the bytes live in
 * the message store under the same queue id. outbound() is the queue of mail users send to
 * outside domains (queues/outbound-queue.ts), for the admin's hold/release/delete of it.
 */
import { Job, Queue, type ConnectionOptions } from "bullmq";
import type { ChainableCommander, Redis } from "ioredis";
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

/** BullMQ's script that adds a job that is neither delayed nor prioritized (its commands are "<name>:<version>"). */
const ADD_SCRIPT = "addStandardJob";
const JOB_OPTIONS = { attempts: MAX_ATTEMPTS, backoff: { type: "mxspool" }, removeOnComplete: true, removeOnFail: false };

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
    await this.get(msg.domain).add("deliver", msg, { ...JOB_OPTIONS, jobId: msg.id });
  }

  /** The connection whose MULTIs may hold jobs (joinJobsTo), and the text of BullMQ's add script. */
  private joined?: { redis: Redis; lua: string };

  /**
   * Lets a MULTI of `redis` hold this queue set's jobs (addInto), so that a message's bytes,
   * records and jobs are written in one round trip: `redis` learns BullMQ's add script
   * (ioredis sends it by SHA1, and its text again on a new connection or NOSCRIPT). Only on one
   * Redis or Sentinel: on Cluster a queue's keys have their own slot, not the message's, and
   * this does nothing (joinsRecords stays false).
   * BullMQ's own connection is not used for that MULTI: ioredis copies every script defined on
   * a connection (BullMQ's ~50) onto each of its MULTIs, ~70 µs a message.
   */
  async joinJobsTo(redis: Redis): Promise<void> {
    if (this.keys.cluster) return;
    const bull = (await this.get(this.domains()[0]!).getBackend().client) as unknown as Redis;
    const scripts = bull.scriptsSet as Record<string, { lua: string; numberOfKeys: number | null }>;
    const found = Object.entries(scripts).find(([name]) => name.startsWith(`${ADD_SCRIPT}:`));
    if (!found) throw new Error(`BullMQ defines no ${ADD_SCRIPT} script`);
    const [name, { lua, numberOfKeys }] = found;
    if (!(name in (redis.scriptsSet as object))) redis.defineCommand(name, { lua, numberOfKeys: numberOfKeys ?? undefined });
    this.joined = { redis, lua };
  }

  /** Whether transaction() and addInto() may be used (joinJobsTo() succeeded). */
  get joinsRecords(): boolean { return this.joined !== undefined; }

  /** A MULTI that may hold jobs (addInto): of the connection given to joinJobsTo(). */
  transaction(): ChainableCommander {
    if (!this.joined) throw new Error("transaction() before joinJobsTo()");
    return this.joined.redis.multi();
  }

  /**
   * Whether a transaction()'s failures are all NOSCRIPT: Redis no longer held BullMQ's add
   * script (SCRIPT FLUSH; a restart or failover comes with a new connection, on which ioredis
   * sends the text first), so the jobs alone were not added, and everything else was written.
   * ioredis resends a script on NOSCRIPT, but not one inside a MULTI.
   */
  lostScript(results: [Error | null, unknown][]): boolean {
    const errors = results.filter(([err]) => err);
    return errors.length > 0 && errors.every(([err]) => String(err!.message).startsWith("NOSCRIPT"));
  }

  /** Loads BullMQ's add script into Redis again, after lostScript(): the next transaction()s find it. */
  async reloadScript(): Promise<void> {
    if (this.joined) await this.joined.redis.script("LOAD", this.joined.lua);
  }

  /**
   * Adds `msg`'s job to `m`, a transaction(). BullMQ queues its
   * script on a transaction at once (runCommand); the job exists when `m` has been executed.
   */
  async addInto(m: ChainableCommander, msg: SpooledMessage): Promise<void> {
    const t = m as ChainableCommander & { runCommand?: (name: string, args: unknown[]) => unknown };
    t.runCommand ??= (name, args) => { (t as unknown as Record<string, (a: unknown[]) => unknown>)[name]!(args); return t; };
    await new Job<SpooledMessage>(this.get(msg.domain), "deliver", msg, { ...JOB_OPTIONS, jobId: msg.id }, msg.id).addJob(t as never);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values(), ...(this.outboundQueue ? [this.outboundQueue] : [])].map((q) => q.close()));
  }
}

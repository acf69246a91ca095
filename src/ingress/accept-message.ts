/**
 * The end of DATA: turns the client's byte stream into a durable, queued message.
 * Prepends the Received header, streams the bytes into the store, then enqueues one
 * delivery job per recipient domain. Only when every write has returned from Redis does
 * the caller answer 250 — "250" means durable. On any failure nothing is left queued and
 * the client gets a 451 to retry.
 */
import type { Readable } from "node:stream";
import type { MessageStore } from "../store/message-store.js";
import type { DeliveryQueues, SpooledMessage } from "../../queues/delivery-queue.js";
import { receivedHeader } from "../smtp/received-header.js";

export interface Envelope {
  id: string;
  from: string;
  /** Accepted recipients grouped by domain, in RCPT order. */
  byDomain: Map<string, string[]>;
  clientIp: string;
  clientHostname?: string;
  helo?: string;
  tls?: { protocol?: string; cipher?: string };
  smtputf8: boolean;
  body8bit: boolean;
}

export type AcceptResult = { ok: true; id: string; size: number } | { ok: false; reason: "too-big" | "stream"; size: number };

export class MessageAcceptor {
  constructor(private readonly store: MessageStore, private readonly queues: DeliveryQueues, private readonly hostname: string) {}

  async accept(stream: Readable & { sizeExceeded?: boolean }, env: Envelope): Promise<AcceptResult> {
    const all = [...env.byDomain.values()].flat();
    const header = Buffer.from(receivedHeader({
      helo: env.helo, clientHostname: env.clientHostname, clientIp: env.clientIp, hostname: this.hostname,
      id: env.id, tls: env.tls, smtputf8: env.smtputf8, rcpts: all, date: new Date(),
    }), "latin1");
    const writer = this.store.writer(env.id);
    try {
      await writer.write(header);
      for await (const chunk of stream) await writer.write(chunk as Buffer);
      if (stream.sizeExceeded) {
        await writer.abort();
        return { ok: false, reason: "too-big", size: writer.size };
      }
      await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    const receivedAt = Date.now();
    const domains = [...env.byDomain.keys()];
    const jobs: SpooledMessage[] = domains.map((domain, i) => ({
      id: i === 0 ? env.id : `${env.id}.${i + 1}`,
      domain,
      from: env.from,
      rcpts: env.byDomain.get(domain)!,
      allRcpts: env.byDomain.get(domain)!,
      size: writer.size,
      receivedAt,
      client: { ip: env.clientIp, hostname: env.clientHostname, helo: env.helo },
      tls: env.tls,
      smtputf8: env.smtputf8,
      body8bit: env.body8bit,
    }));
    try {
      // a message for several domains gets one copy per domain: each drains on its own
      for (const job of jobs.slice(1)) await this.store.copy(env.id, job.id);
      for (const job of jobs) await this.queues.enqueue(job);
    } catch (err) {
      // not queued means not accepted: remove what was written so nothing half-queued remains
      await Promise.all(jobs.map(async (j) => {
        await this.queues.get(j.domain).remove(j.id).catch(() => undefined);
        await this.store.remove(j.id).catch(() => undefined);
      }));
      throw err;
    }
    return { ok: true, id: env.id, size: writer.size };
  }
}

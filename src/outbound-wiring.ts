/**
 * Composition of outbound mail (src/outbound/): builds the submitter the webmail and the SMTP
 * submission listener call, and the outbound worker of the `worker` role. The local spool is
 * the ingress's MessageAcceptor (store, records, delivery jobs, content filters), adapted to
 * src/outbound's LocalSpool so that outbound depends on no step before it.
 */
import { Readable } from "node:stream";
import type { ConnectionOptions } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "./config/schema.js";
import type { Logger } from "./observability/log.js";
import type { Keyspace } from "./redis/keyspace.js";
import { newQueueId } from "./mail/queue-id.js";
import { MessageAcceptor } from "./ingress/accept-message.js";
import { MessageStore } from "./store/message-store.js";
import { MessageRecords } from "./store/message-records.js";
import { DeliveryQueues } from "../queues/delivery-queue.js";
import { createOutboundQueue } from "../queues/outbound-queue.js";
import type { ContentFilter } from "./filters/content-filter.js";
import { createOutboundSubmitter, type LocalSpool, type OutboundSubmitter } from "./outbound/submit.js";
import { DkimSigner } from "./outbound/dkim-signer.js";
import { OutboundWorker } from "./outbound/outbound-worker.js";
import { SentMessages } from "./outbound/sent-messages.js";
import type { PrimaryEndpoints } from "./transport/primary-endpoints.js";

const storeTtl = (c: Config) => c.delivery.maxLifetime + 2 * 86_400_000;

/** The ordinary spool behind LocalSpool: one accepted message per call, recipients grouped by domain. */
export function acceptorSpool(acceptor: MessageAcceptor, hostname: string): LocalSpool {
  return {
    async spool(raw, env) {
      const byDomain = new Map<string, string[]>();
      for (const r of env.rcpts) {
        const d = r.slice(r.lastIndexOf("@") + 1).toLowerCase();
        byDomain.set(d, [...(byDomain.get(d) ?? []), r]);
      }
      const res = await acceptor.accept(Readable.from([raw]), {
        id: newQueueId(), from: env.from, byDomain, clientIp: env.clientIp ?? "127.0.0.1", clientHostname: hostname, helo: `mxspool-${env.via}`,
        smtputf8: raw.some((b) => b > 127), body8bit: raw.some((b) => b > 127), flags: env.flags,
      });
      return res.ok ? { ok: true, id: res.id } : { ok: false, code: res.code, enhanced: res.enhanced, text: res.text };
    },
  };
}

export interface OutboundParts { submitter: OutboundSubmitter; local: LocalSpool; close(): Promise<void> }

/** Everything the submitter needs, on one Redis connection and one BullMQ connection. */
export function createOutbound(config: Config, redis: Redis, keys: Keyspace, conn: ConnectionOptions, log: Logger, filter?: ContentFilter): OutboundParts {
  const queues = new DeliveryQueues(conn, keys, Object.keys(config.domains));
  const acceptor = new MessageAcceptor(new MessageStore(redis, keys, storeTtl(config)), queues, new MessageRecords(redis, keys), config.hostname, {
    maxMessageSize: config.outbound.maxMessageSize + 65_536,
    maxHeaderSize: config.smtp.maxHeaderSize, maxLineLength: config.smtp.maxLineLength, maxReceivedHeaders: config.smtp.maxReceivedHeaders,
  }, filter);
  const local = acceptorSpool(acceptor, config.hostname);
  const queue = createOutboundQueue(conn, keys);
  const submitter = createOutboundSubmitter({ config, redis, keys, local, queue, dkim: new DkimSigner(config), log });
  return { submitter, local, close: async () => { await Promise.all([queues.close(), queue.close()]); } };
}

/** The outbound worker of the `worker` role (only with outbound.enabled). */
export function startOutboundWorker(config: Config, redis: Redis, keys: Keyspace, conn: ConnectionOptions, endpoints: PrimaryEndpoints, log: Logger): { stop(): Promise<void> } {
  const parts = createOutbound(config, redis, keys, conn, log);
  const worker = new OutboundWorker(config, conn, keys, new SentMessages(redis, keys, config.outbound.keepSent), endpoints, parts.local, new MessageRecords(redis, keys), log);
  worker.start();
  return { stop: async () => { await worker.stop(); await parts.close(); } };
}

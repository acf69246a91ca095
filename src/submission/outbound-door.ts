/**
 * Builds the outbound submitter for the processes that take mail from users (the http role's
 * webmail, the smtp role's submission listener): the LocalSpool (the ingress's
 * MessageAcceptor, so mail to our own domains is stored, indexed and drained exactly like
 * inbound mail), the outbound queue and the DKIM signer. With `outbound.enabled: false` the
 * submitter refuses every message (550 5.7.1); the webmail does not open it at all then.
 * `close` closes the outbound queue's connection.
 */
import { Readable } from "node:stream";
import type { ConnectionOptions } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { Keyspace } from "../redis/keyspace.js";
import { newQueueId } from "../mail/queue-id.js";
import type { DeliveryQueues } from "../../queues/delivery-queue.js";
import { createOutboundQueue } from "../../queues/outbound-queue.js";
import { MessageAcceptor } from "../ingress/accept-message.js";
import type { MessageStore } from "../store/message-store.js";
import type { MessageRecords } from "../store/message-records.js";
import { DkimSigner } from "../outbound/dkim-signer.js";
import { createOutboundSubmitter, type LocalSpool, type OutboundSubmitter } from "../outbound/submit.js";

export interface OutboundDoor { submitter: OutboundSubmitter; close(): Promise<void> }

export function openOutboundDoor(config: Config, parts: { redis: Redis; keys: Keyspace; connection: ConnectionOptions; store: MessageStore; records: MessageRecords; queues: DeliveryQueues; log: Logger }): OutboundDoor {
  const { redis, keys, log } = parts;
  const s = config.smtp;
  const acceptor = new MessageAcceptor(parts.store, parts.queues, parts.records, config.hostname, {
    maxMessageSize: Math.max(s.maxMessageSize, config.outbound.maxMessageSize + 65_536), maxHeaderSize: s.maxHeaderSize, maxLineLength: s.maxLineLength, maxReceivedHeaders: s.maxReceivedHeaders,
  });
  const local: LocalSpool = {
    async spool(raw, env) {
      const byDomain = new Map<string, string[]>();
      for (const r of env.rcpts) {
        const d = r.slice(r.lastIndexOf("@") + 1).toLowerCase();
        byDomain.set(d, [...(byDomain.get(d) ?? []), r]);
      }
      const r = await acceptor.accept(Readable.from([raw]), {
        id: newQueueId(), from: env.from, byDomain, clientIp: env.clientIp ?? "127.0.0.1", helo: `${env.via}.${config.hostname}`, smtputf8: true, body8bit: true,
      });
      return r.ok ? { ok: true, id: r.id } : { ok: false, code: r.code, enhanced: r.enhanced, text: r.text };
    },
  };
  const queue = createOutboundQueue(parts.connection, keys);
  queue.on("error", (err) => log.error({ event: "QUEUE_ERROR", queue: "outbound", err: err.message }, "outbound queue error"));
  const submitter = createOutboundSubmitter({ config, redis, keys, local, queue, dkim: new DkimSigner(config), log });
  return { submitter, close: () => queue.close() };
}

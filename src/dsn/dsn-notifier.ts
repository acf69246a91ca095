/**
 * Turns "these recipients failed / are delayed" into a queued DSN for the message's sender:
 * checks the policy (never to <>, never about a DSN), composes the report with the original
 * headers, stores it and enqueues it. Used by the delivery worker and the sweeper.
 */
import type { Queue } from "bullmq";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { MessageStore } from "../store/message-store.js";
import type { SpooledMessage } from "../../queues/delivery-queue.js";
import { enqueueDsn, type DsnJob } from "../../queues/dsn-queue.js";
import { mayNotify } from "../../policies/dsn-policy.js";
import { newQueueId } from "../smtp/queue-id.js";
import { composeDsn, type DsnRecipient } from "./compose-dsn.js";

export class DsnNotifier {
  constructor(private readonly config: Config, private readonly store: MessageStore, private readonly queue: Queue<DsnJob>, private readonly log: Logger) {}

  async notify(kind: "failed" | "delayed", m: SpooledMessage, recipients: DsnRecipient[]): Promise<void> {
    if (!recipients.length) return;
    const original = (m.headers + (await this.store.headers(m.id).catch(() => ""))).replace(/\r\n$/, "");
    if (!mayNotify(m.from, original)) {
      this.log.info({ event: "DSN_SUPPRESSED", id: m.id, kind, from: m.from || "<>" }, "no DSN: null sender or the message is itself a report");
      return;
    }
    const id = newQueueId();
    const bytes = composeDsn({
      kind, hostname: this.config.hostname, queueId: m.id, sender: m.from, arrival: new Date(m.receivedAt), recipients,
      originalHeaders: original, willRetryUntil: new Date(m.receivedAt + this.config.delivery.maxLifetime),
    });
    const w = this.store.writer(id);
    await w.write(bytes);
    await w.commit();
    await enqueueDsn(this.queue, { id, about: m.id, kind, to: m.from, createdAt: Date.now() });
    this.log.info({ event: kind === "failed" ? "DSN_BOUNCE_QUEUED" : "DSN_DELAY_QUEUED", id: m.id, dsn: id, to: m.from, rcpts: recipients.map((r) => r.rcpt) }, "DSN queued");
  }
}

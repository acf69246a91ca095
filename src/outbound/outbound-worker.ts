/**
 * Delivers outbound mail (src/outbound/submit.ts queued it): one job per recipient domain,
 * sent through `outbound.relay` when set, otherwise to the domain's mail hosts by DNS (MX
 * above our own preference, else the domain itself, port `outbound.mxPort`), with the drain's
 * SMTP client (src/transport/send-message.ts) and outcome per recipient. Delivered and refused
 * recipients leave the job; the others are retried on the delivery retry table until
 * `outbound.maxLifetime`. Refused and expired recipients get a failure DSN delivered into the
 * sender's own spool (LocalSpool), so it shows in their webmail and later at their primary.
 * Each outcome is written to the sent message's record for the "Sent" view, and each attempt
 * (reply per recipient) to the job's message record and ledger (src/store/message-records.ts),
 * which the admin API shows like an inbound message's.
 */
import { Worker, type ConnectionOptions, type Job } from "bullmq";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { repeatedErrors } from "../observability/repeated-errors.js";
import { OUTBOUND_QUEUE, type Keyspace } from "../redis/keyspace.js";
import type { OutboundJob } from "../../queues/outbound-queue.js";
import { retryDelay } from "../../queues/retry-schedule.js";
import { statusOf } from "../../policies/dsn-policy.js";
import { ConnectionPools, type Endpoint } from "../transport/connection-pool.js";
import { sendMessage, type RecipientResult } from "../transport/send-message.js";
import type { PrimaryEndpoints } from "../transport/primary-endpoints.js";
import { parseHostPort } from "../config/host-port.js";
import { composeDsn } from "../dsn/compose-dsn.js";
import { headerBlock } from "../mail/header-end.js";
import type { SentMessages } from "./sent-messages.js";
import type { LocalSpool } from "./submit.js";
import type { MessageRecords } from "../store/message-records.js";

export class OutboundWorker {
  private worker?: Worker<OutboundJob>;
  private readonly pools: ConnectionPools;

  constructor(private readonly config: Config, private readonly connection: ConnectionOptions, private readonly keys: Keyspace, private readonly sent: SentMessages,
              private readonly endpoints: PrimaryEndpoints, private readonly local: LocalSpool, private readonly records: MessageRecords, private readonly log: Logger) {
    const d = config.delivery;
    const relay = config.outbound.relay;
    this.pools = new ConnectionPools({
      name: config.hostname, connectTimeout: d.connectTimeout, commandTimeout: d.commandTimeout, idleMs: d.connectionIdle, maxMessages: 100,
      relay: relay && { tls: relay.tls, auth: relay.username ? { user: relay.username, pass: relay.password! } : undefined },
    });
  }

  start(): void {
    this.worker = new Worker<OutboundJob>(OUTBOUND_QUEUE, (job) => this.process(job), {
      connection: this.connection, prefix: this.keys.bullPrefixOf(OUTBOUND_QUEUE), concurrency: 5,
      lockDuration: this.config.delivery.lockDuration, maxStalledCount: 1_000_000,
      settings: { backoffStrategy: (n: number) => retryDelay(n, this.config.delivery.retry) },
    });
    this.worker.on("error", (err) => repeatedErrors(this.log).error({ event: "WORKER_ERROR", queue: OUTBOUND_QUEUE, err: err.message }, "outbound worker error"));
  }

  private async destinations(domain: string): Promise<Endpoint[]> {
    const relay = this.config.outbound.relay;
    if (relay) return [parseHostPort(relay.address)];
    return this.endpoints.mailHosts(domain, this.config.outbound.mxPort).catch(() => []); // DNS trouble: unreachable for now, retried
  }

  private async process(job: Job<OutboundJob>): Promise<void> {
    const d = job.data;
    const raw = await this.sent.raw(d.message);
    if (!raw) { this.log.error({ event: "SPOOL_BODY_MISSING", id: d.id }, "outbound message bytes missing"); return; }
    const result = await sendMessage(this.pools.for(await this.destinations(d.domain)), { from: d.from, rcpts: d.rcpts, raw, body8bit: raw.some((b) => b > 127) });
    const endpoint = result.kind === "attempted" ? result.endpoint : undefined;
    const results: RecipientResult[] = result.kind === "attempted" ? result.results : d.rcpts.map((rcpt) => ({ rcpt, outcome: "temporary", response: result.error }));
    const now = Date.now();
    const delivered = results.filter((r) => r.outcome === "delivered");
    const refused = results.filter((r) => r.outcome === "permanent");
    const later = results.filter((r) => r.outcome !== "delivered" && r.outcome !== "permanent");
    const expired = later.length > 0 && now - d.createdAt > this.config.outbound.maxLifetime;
    await this.records.completeAttempt(d.id, endpoint ?? "unreachable", results, {
      retentionMs: this.config.retention.delivered, expired, lastError: later.map((r) => `${r.rcpt}: ${r.response}`).join("; ") || undefined,
      nextAttempt: later.length && !expired ? now + retryDelay(job.attemptsMade + 1, this.config.delivery.retry, () => 0.5) : undefined,
    });
    for (const r of delivered) await this.sent.setOutcome(d.message, r.rcpt, { state: "delivered", response: r.response, at: now });
    if (delivered.length) this.log.info({ event: "OUTBOUND_DELIVERED", id: d.id, message: d.message, domain: d.domain, rcpts: delivered.map((r) => r.rcpt), endpoint, reply: delivered[0].response }, "outbound delivered");
    const failed = [...refused, ...(expired ? later.map((r) => ({ ...r, response: `delivery time expired; last reply: ${r.response}` })) : [])];
    if (failed.length) {
      for (const r of failed) await this.sent.setOutcome(d.message, r.rcpt, { state: "failed", response: r.response, at: now });
      this.log.warn({ event: "OUTBOUND_FAILED", id: d.id, message: d.message, domain: d.domain, rcpts: failed.map((r) => r.rcpt), reply: failed[0].response }, "outbound failed");
      await this.notifySender(d, raw, failed, endpoint);
    }
    if (!later.length || expired) return;
    const lastError = later[0].response;
    this.log.info({ event: "OUTBOUND_DEFERRED", id: d.id, message: d.message, domain: d.domain, rcpts: later.map((r) => r.rcpt), reply: lastError }, "outbound deferred");
    await job.updateData({ ...d, rcpts: later.map((r) => r.rcpt), lastError });
    throw new Error(`outbound deferred: ${lastError}`);
  }

  /** A failure DSN into the sender's own spool: their webmail inbox now, their primary later. */
  private async notifySender(d: OutboundJob, raw: Buffer, failed: RecipientResult[], endpoint?: string): Promise<void> {
    const head = raw.subarray(0, 65_536).toString("latin1");
    const bytes = composeDsn({
      kind: "failed", hostname: this.config.hostname, queueId: d.message, sender: d.from, arrival: new Date(d.createdAt),
      recipients: failed.map((r) => ({ rcpt: r.rcpt, status: statusOf(r.code, r.response), diagnostic: r.response, remoteMta: endpoint })),
      originalHeaders: headerBlock(head, head.length === 65_536).replace(/\r?\n$/, ""),
    });
    const res = await this.local.spool(bytes, { from: "", rcpts: [d.user], via: "dsn", flags: [] }).catch((err: Error) => ({ ok: false as const, code: 451, enhanced: "4.3.0", text: err.message }));
    if (!res.ok) this.log.error({ event: "OUTBOUND_DSN_FAILED", id: d.id, user: d.user, err: res.text }, "failure report not spooled");
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    this.pools.close();
  }
}

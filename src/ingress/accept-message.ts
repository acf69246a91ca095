/**
 * The end of DATA: turns the client's byte stream into a durable, queued message.
 * The bytes stream through the message inspector (size, loops, header size, line length,
 * NUL, bare LF) and the content filter (ClamAV, SpamAssassin) into the store; only when all of
 * them agree are the bytes, the records and one delivery job per recipient domain written, and
 * only once Redis has returned does the caller answer 250 — "250" means durable.
 * The headers mxspool adds (Received, filter results) are kept beside the client's bytes
 * and prepended on delivery: the client's bytes are stored exactly as received.
 * With redis.minReplicasAcked, the 250 also waits until that many replicas hold it all
 * (ReplicaAck); replicas that do not answer in time make it a 451 4.3.0 like any failure.
 * On any failure nothing stays queued and the client gets the reply to retry or give up.
 * A refusal found mid-DATA (the size passed, a NUL...) stops the storing and the scan at
 * once and removes what was stored; the rest of DATA is read and dropped, so Redis never
 * holds more than about one limit's worth per session, and this process one chunk.
 */
import type { Readable } from "node:stream";
import type { MessageStore, SpoolWriter } from "../store/message-store.js";
import type { DeliveryQueues, SpooledMessage } from "../../queues/delivery-queue.js";
import { receivedHeader } from "../mail/received-header.js";
import type { Refusal } from "../../policies/verdict.js";
import { MessageInspector, TOO_BIG, type MessageLimits } from "../../policies/message-limits.js";
import type { ContentFilter, FilterSession } from "../filters/content-filter.js";
import { LATE_ENQUEUE_MS, type MessageRecords } from "../store/message-records.js";
import type { ReplicaAck } from "../redis/replica-ack.js";
import { reply } from "../mail/reply.js";

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
  /** Markers the caller sets on the record beside the filters' (outbound mail: "outbound", "sent-copy"). */
  flags?: string[];
}

export type AcceptResult =
  | { ok: true; id: string; size: number; flags: string[] }
  | ({ ok: false; size: number } & Refusal);

/** Only one machine may hold the message: the sender keeps it and retries. */
const REPLICAS_SILENT = reply(451, "4.3.0", "Not yet replicated, try again later", "replica-ack-timeout");

export class MessageAcceptor {
  constructor(private readonly store: MessageStore, private readonly queues: DeliveryQueues, private readonly records: MessageRecords, private readonly hostname: string,
              private readonly limits: MessageLimits, private readonly filter?: ContentFilter, private readonly replicaAck?: ReplicaAck) {}

  async accept(stream: Readable & { sizeExceeded?: boolean }, env: Envelope): Promise<AcceptResult> {
    const all = [...env.byDomain.values()].flat();
    const writer = this.store.writer(env.id);
    const inspector = new MessageInspector(this.limits);
    let scan: FilterSession | undefined;
    let dataBytes = 0; // bytes of DATA read, stored or not
    const refuse = async (r: Refusal): Promise<AcceptResult> => {
      scan?.abort();
      await writer.abort();
      return { ok: false, ...r, size: Math.max(writer.size, dataBytes) };
    };
    // our Received header goes first to the scanners too: SpamAssassin finds the client's
    // address in it (its relay and DNSBL rules), as it would behind any MTA
    const received = receivedHeader({
      helo: env.helo, clientHostname: env.clientHostname, clientIp: env.clientIp, hostname: this.hostname,
      id: env.id, tls: env.tls, smtputf8: env.smtputf8, rcpts: all, date: new Date(),
    });
    try {
      scan = this.filter?.begin({ id: env.id, from: env.from, rcpts: all, clientIp: env.clientIp });
      scan?.write(Buffer.from(received, "latin1"));
      for await (const chunk of stream) {
        dataBytes += (chunk as Buffer).length;
        if (inspector.verdict) continue; // refused already: read the rest to the end of DATA, store nothing
        const bytes = inspector.push(chunk as Buffer);
        if (inspector.verdict) {
          // refused now (too big, NUL, ...): drop what was stored at once, not after the rest has arrived
          scan?.abort();
          await writer.abort();
          continue;
        }
        await writer.write(bytes);
        scan?.write(bytes);
      }
      if (stream.sizeExceeded) return refuse(TOO_BIG);
      if (inspector.verdict) return refuse(inspector.verdict);
      const verdict = scan ? await scan.end() : { action: "accept" as const };
      if (verdict.action !== "accept") return refuse(verdict);
      const headers = received + (verdict.headers ?? "");
      const flags = [...(env.flags ?? []), ...(verdict.flags ?? [])];
      await this.enqueue(env, writer, headers, flags, inspector.subject, verdict);
      return { ok: true, id: env.id, size: writer.size, flags };
    } catch (err) {
      scan?.abort();
      await writer.abort();
      throw err;
    }
  }

  private async enqueue(env: Envelope, writer: SpoolWriter, headers: string, flags: string[], subject: string, scan: { headers?: string }): Promise<void> {
    const receivedAt = Date.now();
    const size = writer.size;
    const jobs: SpooledMessage[] = [...env.byDomain.keys()].map((domain, i) => ({
      id: i === 0 ? env.id : `${env.id}.${i + 1}`,
      domain,
      from: env.from,
      rcpts: env.byDomain.get(domain)!,
      allRcpts: env.byDomain.get(domain)!,
      headers,
      size,
      receivedAt,
      client: { ip: env.clientIp, hostname: env.clientHostname, helo: env.helo },
      tls: env.tls,
      smtputf8: env.smtputf8,
      body8bit: env.body8bit,
      flags,
    }));
    let written = false;
    // TEST ONLY (test/integration/orphans.test.ts): leave the jobs out and die once the rest is written
    const dieBeforeJobs = process.env.MXSPOOL_FAULT === "after-records-commit";
    // On one Redis or Sentinel one MULTI holds the bytes (a copy per extra domain: each drains
    // on its own), the records, the indexes and the jobs: one round trip, one fsync, and no
    // crash can leave a part of it. On Cluster the jobs' slots are not the message's: they are
    // added once the MULTI has returned, so that no job is ever seen without its bytes, and a
    // crash between the two leaves an orphan (orphan-reconciler.ts). All is done before the
    // 250; a failure of any part removes everything below.
    const jobsInside = this.queues.joinsRecords && !dieBeforeJobs;
    try {
      await writer.seal(); // compressed off this thread, the MULTI below then only frames it
      const m = jobsInside ? this.queues.transaction() : this.records.redisMulti();
      writer.commitInto(m, jobs.slice(1).map((j) => j.id));
      for (const j of jobs) {
        this.records.addAccepted(m, { id: j.id, domain: j.domain, from: j.from, rcpts: j.allRcpts, subject, size, receivedAt, client: j.client, flags, addedHeaders: headers },
          { client: j.client, tls: j.tls?.protocol, size, scan: scan.headers ? scan.headers.trim().split(/\r\n(?![ \t])/) : undefined, flags });
      }
      if (jobsInside) for (const j of jobs) await this.queues.addInto(m, j);
      const res = await m.exec();
      written = Boolean(res);
      writer.committed(res);
      const failed = res!.find(([err]) => err);
      // Redis had lost BullMQ's script: all but the jobs was written; they are added on their own
      const jobsLeftOut = jobsInside && this.queues.lostScript(res!);
      if (failed && !jobsLeftOut) throw failed[0];
      if (dieBeforeJobs) process.kill(process.pid, "SIGKILL");
      if (jobsLeftOut) await this.queues.reloadScript();
      if (!jobsInside || jobsLeftOut) {
        await Promise.all(jobs.map((job) => this.queues.enqueue(job)));
        // jobs added this late may find their records removed as orphans meanwhile (orphan-reconciler.ts): then nothing is queued
        if (Date.now() - receivedAt > LATE_ENQUEUE_MS && !(await this.records.allExist(jobs.map((j) => j.id)))) throw new Error("stored message removed as an orphan before its jobs were added");
      }
      if (this.replicaAck && !(await this.replicaAck.confirmMessage(env.id, jobs.map((j) => j.domain)))) throw REPLICAS_SILENT;
    } catch (err) {
      // not queued means not accepted: remove what was written so nothing half-queued remains
      await Promise.all(jobs.map(async (j) => {
        await this.queues.get(j.domain).remove(j.id).catch(() => undefined);
        await this.store.remove(j.id).catch(() => undefined);
        if (written) await this.records.remove(j.id, j.domain, j.allRcpts).catch(() => undefined);
      }));
      throw err;
    }
  }
}

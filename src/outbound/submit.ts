/**
 * The one door of outbound mail: what the webmail's compose and the SMTP submission
 * listener hand a message to once the user is authenticated. It decides, in this order:
 * outbound enabled at all; the shape (recipients per message, size: policies/outbound-limits.ts);
 * the sender identity (envelope and From are the user's own or a configured alias:
 * policies/outbound-identity.ts); the hourly rates per user and for the server. Then it adds
 * Date/Message-ID if missing, removes Bcc, DKIM-signs for the From domain, and hands on:
 * recipients at configured domains go into the ordinary spool (LocalSpool: they appear in
 * their webmail at once and drain to the primary with the rest), the others into the
 * outbound queue (one job per domain, src/outbound/outbound-worker.ts), and with
 * `outbound.sentCopies: deliver` a copy marked `X-Mxspool-Sent-Copy: yes` goes into the
 * sender's own spool, so it reaches their mailbox at the primary when it returns. Records of
 * what is spooled here carry the flag "outbound" (the sender's copy also "sent-copy", which a
 * webmail inbox may leave out: the Sent view lists it). Each outbound job has a message record
 * of its own too (src/store/message-records.ts, id = the job's, flags "outbound" and "remote"),
 * written before the job like an accepted message's: the admin lists, holds and deletes it and
 * the worker writes each attempt into its ledger.
 * Never reachable without an authenticated user: callers pass the user they authenticated.
 * Refusals are SMTP-style (code + enhanced code); nothing is queued for a refused message.
 */
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { Keyspace } from "../redis/keyspace.js";
import { newQueueId } from "../mail/queue-id.js";
import { senderVerdict } from "../../policies/outbound-identity.js";
import { rateVerdict, shapeVerdict, type OutboundLimits } from "../../policies/outbound-limits.js";
import { enqueueOutbound, type OutboundQueue } from "../../queues/outbound-queue.js";
import { prepareOutgoing } from "./outgoing-message.js";
import type { DkimSigner } from "./dkim-signer.js";
import { SentMessages, type SentItem } from "./sent-messages.js";
import { MessageRecords } from "../store/message-records.js";

export interface OutboundSubmission {
  /** The authenticated user (their own address). */
  user: string;
  envelopeFrom: string;
  recipients: string[];
  /** The whole message as the client composed it (headers and body, CRLF). */
  raw: Buffer;
  via: "webmail" | "submission";
  /** The client's address, for the Received header of locally spooled copies. */
  clientIp?: string;
}

export type SubmitResult =
  | { ok: true; queueId: string; local: string[]; remote: string[] }
  | { ok: false; code: number; enhanced: string; message: string };

export interface OutboundSubmitter {
  submit(s: OutboundSubmission): Promise<SubmitResult>;
  /** The user's sent messages, newest first (for a "Sent" view): `before` is a sentAt (ms) from the previous page. */
  listSent(user: string, opts: { limit: number; before?: number }): Promise<SentItem[]>;
  /** One of the user's sent messages with its bytes as sent; null when not theirs or expired. */
  loadSent(user: string, id: string): Promise<(SentItem & { raw: Buffer }) | null>;
}

/**
 * The ordinary spool for mail to configured domains (the ingress's MessageAcceptor behind an
 * adapter in the composition root: store, records, delivery jobs, content filters).
 */
export interface LocalSpool {
  spool(raw: Buffer, env: { from: string; rcpts: string[]; via: string; clientIp?: string; flags: string[] }): Promise<{ ok: true; id: string } | { ok: false; code: number; enhanced: string; text: string }>;
}

export interface OutboundDeps {
  config: Config;
  redis: Redis;
  keys: Keyspace;
  local: LocalSpool;
  queue: OutboundQueue;
  dkim: DkimSigner;
  log: Logger;
  now?: () => number;
}

const HOUR_MS = 3_600_000;
/** A recipient as an envelope address: local@domain, no spaces, brackets, quotes or line ends. */
const ADDRESS = /^[^@\s<>"]+@[^@\s<>"]+$/;
const domainOf = (a: string) => a.slice(a.lastIndexOf("@") + 1).toLowerCase();

export function createOutboundSubmitter(deps: OutboundDeps): OutboundSubmitter {
  const { config, redis, keys, log } = deps;
  const o = config.outbound;
  const limits: OutboundLimits = { ...o.limits, maxMessageSize: o.maxMessageSize };
  const now = deps.now ?? Date.now;
  const sent = new SentMessages(redis, keys, o.keepSent);
  const records = new MessageRecords(redis, keys);
  const refused = (r: { code: number; enhanced: string; text: string; reason?: string }, s: OutboundSubmission): SubmitResult => {
    log.info({ event: "OUTBOUND_REFUSED", user: s.user, via: s.via, code: r.code, enhanced: r.enhanced, reason: r.reason }, r.text);
    return { ok: false, code: r.code, enhanced: r.enhanced, message: r.text };
  };

  /** Counts this message against both hourly rates; takes it back when one is over. */
  async function countRate(user: string): Promise<ReturnType<typeof rateVerdict>> {
    const hour = Math.floor(now() / HOUR_MS);
    const u = keys.outboundRate(user, hour);
    const g = keys.outboundRate("*", hour);
    const res = await redis.multi().incr(u).pexpire(u, 2 * HOUR_MS).incr(g).pexpire(g, 2 * HOUR_MS).exec();
    const verdict = rateVerdict({ userThisHour: Number(res?.[0]?.[1] ?? Infinity), globalThisHour: Number(res?.[2]?.[1] ?? Infinity) }, limits);
    if (verdict) await redis.multi().decr(u).decr(g).exec();
    return verdict;
  }

  async function submit(s: OutboundSubmission): Promise<SubmitResult> {
    if (!o.enabled) return refused({ code: 550, enhanced: "5.7.1", text: "Sending is not enabled on this server", reason: "outbound-disabled" }, s);
    const user = s.user.toLowerCase();
    const recipients = [...new Set(s.recipients.map((r) => r.trim().toLowerCase()))];
    const bad = recipients.find((r) => !ADDRESS.test(r));
    if (bad !== undefined) return refused({ code: 553, enhanced: "5.1.3", text: `Not a valid address: ${bad}`, reason: "bad-recipient" }, s);
    const shape = shapeVerdict({ recipients: recipients.length, size: s.raw.length }, limits);
    if (shape) return refused(shape, s);
    const prepared = prepareOutgoing(s.raw, config.hostname, new Date(now()));
    const identity = senderVerdict({ user, envelopeFrom: s.envelopeFrom, headerFrom: prepared.from, aliases: o.aliases[user] ?? [] });
    if (identity) return refused(identity, s);
    const rate = await countRate(user);
    if (rate) return refused(rate, s);

    const fromDomain = domainOf(prepared.from[0]);
    const outgoing = await deps.dkim.sign(prepared.outgoing, fromDomain);
    const local = recipients.filter((r) => config.domains[domainOf(r)]);
    const remote = recipients.filter((r) => !config.domains[domainOf(r)]);
    const id = newQueueId(now());
    const summary = { id, user, envelopeFrom: s.envelopeFrom.toLowerCase(), recipients, local, remote, subject: prepared.subject, messageId: prepared.messageId, size: outgoing.length, sentAt: now(), via: s.via };
    const m = redis.multi();
    sent.record(m, summary, outgoing);
    const res = await m.exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw failed?.[0] ?? new Error("sent record aborted");
    try {
      if (local.length) {
        const r = await deps.local.spool(outgoing, { from: s.envelopeFrom, rcpts: local, via: s.via, clientIp: s.clientIp, flags: ["outbound"] });
        if (!r.ok) { await sent.remove(summary); return refused(r, s); }
      }
      const byDomain = new Map<string, string[]>();
      for (const r of remote) byDomain.set(domainOf(r), [...(byDomain.get(domainOf(r)) ?? []), r]);
      let n = 0;
      for (const [domain, rcpts] of byDomain) {
        const jobId = `${id}.${++n}`;
        const rm = redis.multi();
        records.addAccepted(rm, { id: jobId, domain, from: s.envelopeFrom, rcpts, subject: summary.subject, size: outgoing.length, receivedAt: summary.sentAt,
          client: { ip: s.clientIp ?? "127.0.0.1", helo: `mxspool-${s.via}` }, flags: ["outbound", "remote"], addedHeaders: "" }, { user, via: s.via, sent: id });
        if (!(await rm.exec())) throw new Error("outbound record aborted");
        await enqueueOutbound(deps.queue, { id: jobId, message: id, user, from: s.envelopeFrom, domain, rcpts, createdAt: summary.sentAt });
      }
      if (o.sentCopies === "deliver" && config.domains[domainOf(user)]) {
        const copy = Buffer.concat([Buffer.from("X-Mxspool-Sent-Copy: yes\r\nAuto-Submitted: auto-generated (sent copy)\r\n", "latin1"), prepared.ownCopy]);
        const r = await deps.local.spool(copy, { from: s.envelopeFrom, rcpts: [user], via: s.via, clientIp: s.clientIp, flags: ["outbound", "sent-copy"] });
        if (!r.ok) log.warn({ event: "OUTBOUND_SENT_COPY_FAILED", id, user, code: r.code, text: r.text }, "the sender's copy was not spooled");
      }
    } catch (err) {
      // local copies already spooled stay (they are the recipients' mail now); the rest is retried by the client
      log.error({ event: "OUTBOUND_SUBMIT_FAILED", id, user, err: (err as Error).message }, "outbound submission failed part way");
      return { ok: false, code: 451, enhanced: "4.3.0", message: "Temporary failure while queueing, try again later" };
    }
    log.info({ event: "OUTBOUND_ACCEPTED", id, user, via: s.via, local: local.length, remote: remote.length, size: outgoing.length, dkim: deps.dkim.has(fromDomain) }, "outbound message accepted");
    return { ok: true, queueId: id, local, remote };
  }

  return {
    submit,
    listSent: (user, opts) => sent.list(user, opts),
    loadSent: (user, id) => sent.load(user, id),
  };
}

/**
 * The SMTP listener: one smtp-server instance per `smtp.listen` address, and one handler
 * per phase. Each handler asks the policies for a verdict and turns it into a reply:
 *   connect  shutting down (421 4.3.2), connection limits and rate (421 4.7.0)
 *   MAIL     policies/mail-phase.ts: HELO syntax (501 5.5.2), STARTTLS required (530 5.7.0),
 *            transactions per session (421 4.7.0), scanners saturated (451 4.3.2),
 *            Redis unavailable (451 4.3.0, also at the end of DATA)
 *   RCPT     recipients per message (452 4.5.3), relay and unknown users (550 5.7.1 / 5.1.1),
 *            backup-only domains while their primary is up (450 4.7.1, policies/accept-when.ts),
 *            primary verification (550 5.1.1 / 450 4.2.0)
 *   DATA     the MessageAcceptor: 250 2.0.0 only once the message is durable and queued
 * Every transaction leaves exactly one SMTP_TRANSACTION log line, and every refusal is
 * counted by reason (RejectCounter), per domain in the traffic series when the domain is
 * known (the recipient's, or every domain of the message at DATA), else under "*".
 */
import { SMTPServer, type SMTPServerSession, type SMTPServerDataStream, type SMTPServerAddress, type SMTPServerOptions } from "smtp-server";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { classifyRecipient, type RecipientDirectory } from "../../policies/recipients.js";
import { mailPhase, shuttingDown, STORAGE_DOWN } from "../../policies/mail-phase.js";
import type { Refusal } from "../../policies/verdict.js";
import type { MessageAcceptor } from "../ingress/accept-message.js";
import type { ConnectionLimits, ConnectionSlot } from "../ingress/connection-limits.js";
import type { RecipientVerifier } from "../ingress/recipient-verifier.js";
import type { BackupGate } from "../ingress/backup-gate.js";
import type { ContentFilter } from "../filters/content-filter.js";
import type { RejectCounter } from "../observability/reject-counter.js";
import type { TrafficSeries } from "../observability/traffic-series.js";
import { SmtpReply, reply } from "../mail/reply.js";
import { installSmtpServerPatches } from "./smtp-server-patches.js";
import { newQueueId } from "../mail/queue-id.js";
import { parseHostPort } from "../config/host-port.js";

interface Transaction { from: string; rcpts: string[]; rejected: { rcpt: string; reason: string }[]; started: number }
/** slot: this session's place in the connection limits, released once it closes (or is refused). */
interface SessionState { start: number; slot?: ConnectionSlot; closed?: boolean; transactions: number; txn?: Transaction }
type Session = SMTPServerSession & { mx?: SessionState };
type Callback = (err?: Error | null) => void;

const replyOf = (r: Refusal) => reply(r.code, r.enhanced, r.text, r.reason);

export interface IngressParts {
  recipients: RecipientDirectory;
  acceptor: MessageAcceptor;
  limits: ConnectionLimits;
  verifier: RecipientVerifier;
  /** `acceptWhen: primaryDown` domains; absent = every domain accepts always. */
  backupGate?: BackupGate;
  rejects: RejectCounter;
  /** Per-domain traffic buckets (accepted, recipients, bytes); refusals go through `rejects`. */
  traffic?: TrafficSeries;
  filter?: ContentFilter;
  tls?: { cert: Buffer; key: Buffer };
  /** Whether Redis is connected now (no: 451 4.3.0 at MAIL and DATA instead of waiting for it). */
  redisReady?: () => boolean;
}

export class SmtpIngress {
  private servers: SMTPServer[] = [];
  private shuttingDown = false;
  private inData = 0;
  private idle?: () => void;

  constructor(private readonly config: Config, private readonly parts: IngressParts, private readonly log: Logger) {
    installSmtpServerPatches();
  }

  async listen(): Promise<void> {
    for (const addr of this.config.smtp.listen) {
      const { host, port } = parseHostPort(addr);
      const server = this.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => { server.off("error", reject); resolve(); });
      });
      server.on("error", (err) => this.log.error({ event: "SMTP_SERVER_ERROR", err: err.message }, "smtp server error"));
      this.servers.push(server);
    }
    this.log.info({ event: "SMTP_LISTENING", listen: this.config.smtp.listen, tls: Boolean(this.parts.tls) }, "smtp listening");
  }

  private createServer(): SMTPServer {
    const c = this.config.smtp;
    const tls = this.parts.tls;
    const options: SMTPServerOptions & { mxLimits: unknown } = {
      name: this.config.hostname,
      banner: "mxspool",
      size: c.maxMessageSize,
      authOptional: true,
      disabledCommands: tls ? ["AUTH"] : ["AUTH", "STARTTLS"],
      hideSTARTTLS: !tls,
      ...(tls ? { key: tls.key, cert: tls.cert } : {}),
      hideDSN: true,
      hideENHANCEDSTATUSCODES: false,
      disableReverseLookup: !c.reverseLookup,
      socketTimeout: c.socketTimeout,
      closeTimeout: 5000,
      logger: false,
      mxLimits: { maxErrors: c.maxErrorsPerSession, commandTimeout: c.commandTimeout, sessionTimeout: c.sessionTimeout, greetDelay: c.greetDelay },
      onConnect: (session, cb) => { void this.onConnect(session as Session, cb); },
      onClose: (session) => this.onClose(session as Session),
      onMailFrom: (address, session, cb) => this.onMailFrom(address, session as Session, cb),
      onRcptTo: (address, session, cb) => { void this.onRcptTo(address, session as Session, cb); },
      onData: (stream, session, cb) => { void this.onData(stream, session as Session, cb); },
    };
    return new SMTPServer(options);
  }

  private refuse(cb: Callback, r: SmtpReply, session?: Session): void {
    this.parts.rejects.count(r.reason || `smtp-${r.responseCode}`);
    if (session?.mx?.txn && r.reason) session.mx.txn.rejected.push({ rcpt: "", reason: r.reason });
    cb(r);
  }

  /**
   * The slot is taken before anything is awaited and released by whichever comes last of
   * onClose and a refusal: a client that resets while the rate check waits on Redis has its
   * close handled first, and nothing may be counted for it after that.
   */
  private async onConnect(session: Session, cb: Callback): Promise<void> {
    const mx: SessionState = session.mx ??= { start: Date.now(), transactions: 0 };
    if (this.shuttingDown) return this.refuse(cb, replyOf(shuttingDown(this.config.hostname)));
    const taken = this.parts.limits.take(session.remoteAddress);
    let refusal: SmtpReply | null = taken instanceof SmtpReply ? taken : null;
    if (!refusal) {
      const slot = taken as ConnectionSlot;
      mx.slot = slot;
      if (mx.closed) slot.release(); // closed already: nothing will release it later
      refusal = await this.parts.limits.checkRate(slot);
      if (refusal) slot.release();
    }
    if (refusal) {
      this.log.info({ event: "CONNECTION_REFUSED", client: session.remoteAddress, reason: refusal.reason }, "connection refused");
      return this.refuse(cb, refusal);
    }
    cb();
  }

  private onClose(session: Session): void {
    const mx: SessionState = session.mx ??= { start: Date.now(), transactions: 0 };
    mx.closed = true;
    mx.slot?.release();
    this.flushTransaction(session, "abandoned");
  }

  /** Logs a transaction that ended without DATA (every recipient refused, RSET, QUIT, drop). */
  private flushTransaction(session: Session, decision: string): void {
    const t = session.mx?.txn;
    if (!t) return;
    session.mx!.txn = undefined;
    this.log.info({
      event: "SMTP_TRANSACTION", client: session.remoteAddress, helo: session.hostNameAppearsAs, from: t.from, rcpts: t.rcpts,
      decision: t.rejected.length ? "reject" : decision, reason: t.rejected.map((r) => r.reason).join(",") || undefined,
      rejected: t.rejected.length ? t.rejected : undefined, ms: Date.now() - t.started,
    }, "transaction");
  }

  private onMailFrom(address: SMTPServerAddress, session: Session, cb: Callback): void {
    const mx = session.mx!;
    this.flushTransaction(session, "abandoned");
    const { refusal, counted } = mailPhase({
      hostname: this.config.hostname, shuttingDown: this.shuttingDown, helo: session.hostNameAppearsAs,
      clientIp: session.remoteAddress, secure: session.secure, requireTlsFrom: this.config.smtp.tls.requireTlsFrom,
      transactions: mx.transactions, maxTransactions: this.config.smtp.maxTransactionsPerSession,
      scannersSaturated: () => Boolean(this.parts.filter?.saturated()),
      storageDown: this.parts.redisReady ? !this.parts.redisReady() : false,
    });
    if (counted) mx.transactions++;
    if (refusal) return this.refuse(cb, replyOf(refusal));
    mx.txn = { from: address.address, rcpts: [], rejected: [], started: Date.now() };
    cb();
  }

  private async onRcptTo(address: SMTPServerAddress, session: Session, cb: Callback): Promise<void> {
    const txn = session.mx?.txn;
    const refuse = (r: SmtpReply) => {
      txn?.rejected.push({ rcpt: address.address, reason: r.reason });
      this.parts.rejects.count(r.reason, this.configuredDomain(address.address));
      this.log.info({ event: "RCPT_REJECTED", client: session.remoteAddress, rcpt: address.address, reason: r.reason, code: r.responseCode }, "recipient refused");
      cb(r);
    };
    try {
      if (session.envelope.rcptTo.length >= this.config.smtp.maxRecipients) return refuse(reply(452, "4.5.3", "Too many recipients", "too-many-recipients"));
      const v = classifyRecipient(address.address, this.parts.recipients);
      if (v.action === "reject") return refuse(reply(v.code, v.enhanced, `<${address.address}>: ${v.text}`, v.reason));
      const backup = await this.parts.backupGate?.check(v.address, v.domain, session.remoteAddress);
      if (backup) return refuse(backup);
      if (v.action === "verify") {
        const r = await this.parts.verifier.check(v.address, v.domain);
        if (r) return refuse(r);
      }
      txn?.rcpts.push(address.address);
      cb();
    } catch (err) {
      this.log.error({ event: "RCPT_CHECK_FAILED", rcpt: address.address, err: (err as Error).message }, "recipient check failed");
      refuse(reply(451, "4.3.0", "Temporary failure checking the recipient, try again later", "rcpt-check-error"));
    }
  }

  private async onData(stream: SMTPServerDataStream, session: Session, cb: (err?: Error | null, message?: string) => void): Promise<void> {
    const started = Date.now();
    const id = newQueueId(started);
    const txn = session.mx?.txn;
    if (session.mx) session.mx.txn = undefined;
    const byDomain = new Map<string, string[]>();
    for (const r of session.envelope.rcptTo) {
      const v = classifyRecipient(r.address, this.parts.recipients);
      if (v.action === "reject") continue; // cannot happen: RCPT already checked it
      const list = byDomain.get(v.domain) ?? [];
      list.push(r.address);
      byDomain.set(v.domain, list);
    }
    const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
    const rcpts = session.envelope.rcptTo.map((r) => r.address);
    const cipher = session.tlsOptions as { name?: string; version?: string } | false | undefined;
    const tls = session.secure && cipher ? { protocol: cipher.version, cipher: cipher.name } : undefined;
    const logLine = (decision: string, extra: Record<string, unknown>) => this.log.info({
      event: "SMTP_TRANSACTION", id, client: session.remoteAddress, helo: session.hostNameAppearsAs, from, rcpts,
      rejected: txn?.rejected.length ? txn.rejected : undefined, tls: tls?.protocol,
      decision, ms: Date.now() - started, txnMs: Date.now() - (txn?.started ?? started), ...extra,
    }, "transaction");
    this.inData++;
    try {
      if (this.parts.redisReady && !this.parts.redisReady()) throw replyOf(STORAGE_DOWN);
      const result = await this.parts.acceptor.accept(stream, {
        id, from, byDomain, clientIp: session.remoteAddress, clientHostname: session.clientHostname,
        helo: session.hostNameAppearsAs, tls,
        smtputf8: Boolean(session.envelope.smtpUtf8), body8bit: session.envelope.bodyType === "8bitmime",
      });
      if (!result.ok) {
        this.parts.rejects.count(result.reason, [...byDomain.keys()]);
        logLine(result.code >= 500 ? "reject" : "tempfail", { reason: result.reason, size: result.size, code: result.code });
        return cb(replyOf(result));
      }
      logLine("accept", { size: result.size, flags: result.flags.length ? result.flags : undefined });
      cb(null, `2.0.0 Ok: queued as ${id}`);
      // after the 250 is decided, not awaited: one message per domain copy, as stored
      for (const [domain, list] of byDomain) this.parts.traffic?.record(domain, { accepted: 1, recipients: list.length, bytes: result.size });
    } catch (err) {
      const e = err as Error;
      const reason = e instanceof SmtpReply && e.reason ? e.reason : "store-error";
      this.parts.rejects.count(reason, [...byDomain.keys()]);
      logLine("tempfail", { reason, err: e.message });
      stream.resume(); // drain what the client still sends so that the 451 reaches it in order
      cb(e instanceof SmtpReply ? e : reply(451, "4.3.0", "Local error in processing, try again later", "store-error"));
    } finally {
      this.inData--;
      if (this.inData === 0 && this.idle) this.idle();
    }
  }

  /** The configured domain of an address, as a list for RejectCounter (none: not one of ours). */
  private configuredDomain(address: string): string[] {
    const domain = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
    return address.includes("@") && Object.hasOwn(this.config.domains, domain) ? [domain] : [];
  }

  /** Graceful stop: refuse new sessions with 421 4.3.2, let transactions in DATA finish, then close and write the pending traffic counts. */
  async stop(graceMs: number): Promise<void> {
    this.shuttingDown = true;
    if (this.inData > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, graceMs);
        this.idle = () => { clearTimeout(t); resolve(); };
      });
    }
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

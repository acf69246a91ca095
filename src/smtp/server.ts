/**
 * The SMTP listener: one smtp-server instance per `smtp.listen` address, with a handler per
 * phase (connect, MAIL, RCPT, DATA). Decisions come from policies/; the DATA phase hands the
 * stream to the MessageAcceptor and answers 250 only once the message is durable and
 * queued. Every transaction ends in one structured log line (event SMTP_TRANSACTION).
 */
import { SMTPServer, type SMTPServerSession, type SMTPServerDataStream, type SMTPServerAddress } from "smtp-server";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { classifyRecipient, type RecipientDirectory } from "../../policies/recipients.js";
import type { MessageAcceptor } from "../ingress/accept-message.js";
import { SmtpReply, installEnhancedCodeSupport, reply } from "./reply.js";
import { newQueueId } from "./queue-id.js";
import type { ContentFilter } from "../filters/content-filter.js";

type Session = SMTPServerSession & { mxStart?: number };

export class SmtpIngress {
  private servers: SMTPServer[] = [];
  private shuttingDown = false;
  private inData = 0;
  private idle?: () => void;

  constructor(private readonly config: Config, private readonly recipients: RecipientDirectory,
              private readonly acceptor: MessageAcceptor, private readonly log: Logger, private readonly filter?: ContentFilter) {
    installEnhancedCodeSupport();
  }

  async listen(): Promise<void> {
    for (const addr of this.config.smtp.listen) {
      const i = addr.lastIndexOf(":");
      const host = addr.slice(0, i).replace(/^\[|\]$/g, "");
      const port = Number(addr.slice(i + 1));
      const server = this.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => { server.off("error", reject); resolve(); });
      });
      server.on("error", (err) => this.log.error({ event: "SMTP_SERVER_ERROR", err: err.message }, "smtp server error"));
      this.servers.push(server);
    }
    this.log.info({ event: "SMTP_LISTENING", listen: this.config.smtp.listen }, "smtp listening");
  }

  private createServer(): SMTPServer {
    const c = this.config.smtp;
    return new SMTPServer({
      name: this.config.hostname,
      banner: "mxspool ESMTP",
      size: c.maxMessageSize,
      authOptional: true,
      disabledCommands: ["AUTH", "STARTTLS"],
      hideSTARTTLS: true,
      hideDSN: true,
      hideENHANCEDSTATUSCODES: false,
      disableReverseLookup: !c.reverseLookup,
      socketTimeout: c.socketTimeout,
      closeTimeout: 5000,
      logger: false,
      onConnect: (session, cb) => {
        (session as Session).mxStart = Date.now();
        if (this.shuttingDown) return cb(reply(421, "4.3.2", `${this.config.hostname} Service shutting down, try again later`));
        cb();
      },
      onMailFrom: (_address, _session, cb) => {
        if (this.shuttingDown) return cb(reply(421, "4.3.2", `${this.config.hostname} Service shutting down, try again later`));
        if (this.filter?.saturated()) return cb(reply(451, "4.3.2", "Content scanners busy, try again later", "filters-saturated"));
        cb();
      },
      onRcptTo: (address, session, cb) => this.onRcptTo(address, session, cb),
      onData: (stream, session, cb) => { void this.onData(stream, session as Session, cb); },
    });
  }

  private onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    if (session.envelope.rcptTo.length >= this.config.smtp.maxRecipients) {
      return cb(reply(452, "4.5.3", "Too many recipients"));
    }
    const v = classifyRecipient(address.address, this.recipients);
    if (v.action === "reject") {
      this.log.info({ event: "RCPT_REJECTED", client: session.remoteAddress, rcpt: address.address, reason: v.reason, code: v.code }, "recipient refused");
      return cb(reply(v.code, v.enhanced, `<${address.address}>: ${v.text}`, v.reason));
    }
    cb();
  }

  private async onData(stream: SMTPServerDataStream, session: Session, cb: (err?: Error | null, message?: string) => void): Promise<void> {
    const started = Date.now();
    const id = newQueueId(started);
    const byDomain = new Map<string, string[]>();
    for (const r of session.envelope.rcptTo) {
      const v = classifyRecipient(r.address, this.recipients);
      if (v.action !== "accept") continue; // cannot happen: RCPT already checked it
      const list = byDomain.get(v.domain) ?? [];
      list.push(r.address);
      byDomain.set(v.domain, list);
    }
    const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
    const rcpts = session.envelope.rcptTo.map((r) => r.address);
    const tls = session.secure ? { protocol: (session as unknown as { tlsOptions?: { version?: string; name?: string } }).tlsOptions?.version,
      cipher: (session as unknown as { tlsOptions?: { name?: string } }).tlsOptions?.name } : undefined;
    const logLine = (decision: string, extra: Record<string, unknown>) => this.log.info({
      event: "SMTP_TRANSACTION", id, client: session.remoteAddress, helo: session.hostNameAppearsAs, from, rcpts,
      decision, ms: Date.now() - started, sessionMs: Date.now() - (session.mxStart ?? started), ...extra,
    }, "transaction");
    this.inData++;
    try {
      const result = await this.acceptor.accept(stream, {
        id, from, byDomain, clientIp: session.remoteAddress, clientHostname: session.clientHostname,
        helo: session.hostNameAppearsAs, tls,
        smtputf8: Boolean(session.envelope.smtpUtf8), body8bit: session.envelope.bodyType === "8bitmime",
      });
      if (!result.ok) {
        logLine(result.code >= 500 ? "reject" : "tempfail", { reason: result.reason, size: result.size, code: result.code });
        return cb(reply(result.code, result.enhanced, result.text, result.reason));
      }
      logLine("accept", { size: result.size, flags: result.flags.length ? result.flags : undefined });
      cb(null, `2.0.0 Ok: queued as ${id}`);
    } catch (err) {
      const e = err as Error;
      logLine("tempfail", { reason: "store-error", err: e.message });
      // drain what the client still sends so that the 451 reaches it in order
      stream.resume();
      cb(e instanceof SmtpReply ? e : reply(451, "4.3.0", "Local error in processing, try again later", "store-error"));
    } finally {
      this.inData--;
      if (this.inData === 0 && this.idle) this.idle();
    }
  }

  /** Graceful stop: refuse new sessions with 421 4.3.2, let transactions in DATA finish, then close. */
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

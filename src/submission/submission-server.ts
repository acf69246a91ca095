/**
 * SMTP submission for users' own mail programs while their mail server is down: one
 * smtp-server on `submission.listen` (587 style: EHLO offers AUTH only after STARTTLS, AUTH
 * before it gets 538 5.7.0) and one on `submission.implicitTls` (465 style), both with the
 * certificate in `submission.tls`. Off unless configured; run by the `smtp` role.
 *   AUTH     PLAIN/LOGIN against the webmail accounts and their lock-out (submission-auth.ts)
 *   MAIL/RCPT/DATA without AUTH: 530 5.7.0 (smtp-server's check, authOptional false)
 *   MAIL     a sender that is not the user's own address or alias: 553 5.7.1 at once, by the
 *            submitter's own rule (envelopeSenderVerdict, policies/outbound-identity.ts)
 *   RCPT     at most smtp.maxRecipients (452 4.5.3); anything else about recipients is not ours
 *   DATA     the whole message (at most submission.maxMessageSize: 552 5.3.4) goes to the
 *            OutboundSubmitter, whose answer IS the reply: 250 with its queue id, or its code,
 *            enhanced code and text (553 5.7.1 not your address, 450 4.7.1 rate limit, ...)
 * It never decides who may send what or how much: the submitter does, for the webmail too
 * (the MAIL check asks the same policy early; the submitter asks it again at DATA, with From).
 * One SUBMISSION_TRANSACTION log line per message (or refused MAIL); errors never reach the client as stacks.
 */
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerAuthenticationResponse, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { parseHostPort } from "../config/host-port.js";
import { reply, SmtpReply } from "../mail/reply.js";
import { installSmtpServerPatches } from "../smtp/smtp-server-patches.js";
import type { OutboundSubmitter } from "../outbound/submit.js";
import { envelopeSenderVerdict } from "../../policies/outbound-identity.js";
import type { SubmissionAuth } from "./submission-auth.js";

type Callback = (err?: Error | null) => void;

export interface SubmissionParts {
  auth: SubmissionAuth;
  submitter: OutboundSubmitter;
  tls: { cert: Buffer; key: Buffer };
}

/** Reads the whole message, at most `max` bytes; null when it was bigger (the rest is drained). */
async function readBounded(stream: SMTPServerDataStream, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    size += (c as Buffer).length;
    if (size <= max) chunks.push(c as Buffer);
  }
  return size > max || stream.sizeExceeded ? null : Buffer.concat(chunks);
}

export class SubmissionServer {
  private servers: SMTPServer[] = [];
  private stopping = false;

  constructor(private readonly config: Config, private readonly parts: SubmissionParts, private readonly log: Logger) {
    installSmtpServerPatches();
  }

  static enabled(config: Config): boolean {
    return Boolean(config.submission.listen || config.submission.implicitTls);
  }

  async listen(): Promise<void> {
    const s = this.config.submission;
    const addrs: [string, boolean][] = [];
    if (s.listen) addrs.push([s.listen, false]);
    if (s.implicitTls) addrs.push([s.implicitTls, true]);
    for (const [addr, implicit] of addrs) {
      const { host, port } = parseHostPort(addr);
      const server = this.createServer(implicit);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => { server.off("error", reject); resolve(); });
      });
      server.on("error", (err) => this.log.error({ event: "SMTP_SERVER_ERROR", err: err.message }, "submission server error"));
      this.servers.push(server);
    }
    this.log.info({ event: "SUBMISSION_LISTENING", listen: s.listen, implicitTls: s.implicitTls }, "smtp submission listening");
  }

  private createServer(implicit: boolean): SMTPServer {
    const c = this.config.smtp;
    const options: SMTPServerOptions & { mxLimits: unknown; mxAuthAfterTls: boolean } = {
      name: this.config.hostname,
      banner: "mxspool submission",
      secure: implicit,
      key: this.parts.tls.key,
      cert: this.parts.tls.cert,
      size: this.config.submission.maxMessageSize,
      authMethods: ["PLAIN", "LOGIN"],
      authOptional: false,
      allowInsecureAuth: false,
      authRequiredMessage: "5.7.0 Authentication required",
      mxAuthAfterTls: true,
      disabledCommands: implicit ? ["STARTTLS"] : [],
      hideDSN: true,
      hideENHANCEDSTATUSCODES: false,
      disableReverseLookup: true,
      maxClients: this.config.submission.maxConnections,
      socketTimeout: c.socketTimeout,
      closeTimeout: 5000,
      logger: false,
      mxLimits: { maxErrors: c.maxErrorsPerSession, commandTimeout: c.commandTimeout, sessionTimeout: c.sessionTimeout, greetDelay: 0 },
      onConnect: (_session, cb) => cb(this.stopping ? reply(421, "4.3.2", "Service shutting down, try again later") : null),
      onAuth: (auth, session, cb) => { void this.onAuth(auth, session, cb); },
      onMailFrom: (address, session, cb) => this.onMailFrom(address.address, session, cb),
      onRcptTo: (_address, session, cb) => this.onRcptTo(session, cb),
      onData: (stream, session, cb) => { void this.onData(stream, session, cb); },
    };
    return new SMTPServer(options);
  }

  private async onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, cb: (err: Error | null | undefined, res?: SMTPServerAuthenticationResponse) => void): Promise<void> {
    try {
      const r = await this.parts.auth.check(auth.username ?? "", auth.password ?? "", session.remoteAddress);
      if (!r.ok) return cb(r.reply);
      cb(null, { user: r.user });
    } catch (err) {
      this.log.error({ event: "SUBMISSION_ERROR", phase: "auth", err: (err as Error).message }, "submission AUTH check failed");
      cb(reply(454, "4.7.0", "Temporary authentication failure, try again later"));
    }
  }

  /** The envelope sender must be the user's own or an alias: refused here, not only after DATA. */
  private onMailFrom(envelopeFrom: string, session: SMTPServerSession, cb: Callback): void {
    const user = String(session.user).toLowerCase();
    const v = envelopeSenderVerdict({ user, envelopeFrom, aliases: this.config.outbound.aliases[user] ?? [] });
    if (!v) return cb();
    this.log.info({ event: "SUBMISSION_TRANSACTION", user, from: envelopeFrom, rcpts: 0, client: session.remoteAddress, decision: "reject", ms: 0, code: v.code, enhanced: v.enhanced }, "submission");
    cb(reply(v.code, v.enhanced, v.text));
  }

  private onRcptTo(session: SMTPServerSession, cb: Callback): void {
    if (session.envelope.rcptTo.length >= this.config.smtp.maxRecipients) return cb(reply(452, "4.5.3", "Too many recipients"));
    cb();
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): Promise<void> {
    const user = String(session.user);
    const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
    const recipients = session.envelope.rcptTo.map((r) => r.address);
    const started = Date.now();
    const logLine = (decision: string, extra: Record<string, unknown>) => this.log.info({
      event: "SUBMISSION_TRANSACTION", user, from: envelopeFrom, rcpts: recipients.length, client: session.remoteAddress, decision, ms: Date.now() - started, ...extra,
    }, "submission");
    try {
      const raw = await readBounded(stream, this.config.submission.maxMessageSize);
      if (!raw) {
        logLine("reject", { code: 552 });
        return cb(reply(552, "5.3.4", "Message too big"));
      }
      const r = await this.parts.submitter.submit({ user, envelopeFrom, recipients, raw, via: "submission" });
      if (!r.ok) {
        logLine(r.code >= 500 ? "reject" : "tempfail", { code: r.code, enhanced: r.enhanced });
        return cb(reply(r.code, r.enhanced, r.message));
      }
      logLine("accept", { id: r.queueId, size: raw.length });
      cb(null, `2.0.0 Ok: queued as ${r.queueId}`);
    } catch (err) {
      stream.resume();
      this.log.error({ event: "SUBMISSION_ERROR", phase: "data", user, err: (err as Error).message }, "submission failed");
      cb(err instanceof SmtpReply ? err : reply(451, "4.3.0", "Local error in processing, try again later"));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

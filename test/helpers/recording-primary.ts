/**
 * A real SMTP primary for tests (smtp-server on a loopback port) that records every
 * transaction exactly as received: envelope, MAIL parameters and raw bytes. It can go down
 * and come back on the same port, and can answer chosen recipients with chosen replies.
 */
import { SMTPServer } from "smtp-server";

export interface Received { from: string; rcpts: string[]; raw: Buffer; body: string; smtputf8: boolean; at: number }

export interface PrimaryOptions {
  port: number;
  /** Reply for a recipient: undefined accepts it; otherwise an error code and text. */
  rcptReply?: (rcpt: string) => { code: number; text: string } | undefined;
  /** How long stop() lets open sessions linger before cutting them with 421 (smtp-server's default is 30 s). */
  closeTimeout?: number;
}

export class RecordingPrimary {
  readonly received: Received[] = [];
  private server?: SMTPServer;

  constructor(private readonly opts: PrimaryOptions) {}

  get port() { return this.opts.port; }

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true, disabledCommands: ["AUTH", "STARTTLS"], hideSTARTTLS: true, logger: false,
      disableReverseLookup: true, size: 100 * 1024 * 1024, closeTimeout: this.opts.closeTimeout,
      onRcptTo: (addr, _s, cb) => {
        const r = this.opts.rcptReply?.(addr.address);
        if (!r) return cb();
        const err = new Error(r.text) as Error & { responseCode: number };
        err.responseCode = r.code;
        cb(err);
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const raw = Buffer.concat(chunks);
          this.received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            rcpts: session.envelope.rcptTo.map((r) => r.address),
            raw, body: raw.toString("utf8"), smtputf8: Boolean(session.envelope.smtpUtf8), at: Date.now(),
          });
          cb(null, "Ok: recorded");
        });
      },
    });
    await new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(this.opts.port, "127.0.0.1", () => resolve()); });
    // a client killed mid-session (mxspool under kill -9) resets its socket: not a test failure
    server.on("error", () => undefined);
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Received copies per message, keyed by a header value (e.g. X-Test-Id). */
  countBy(header: string): Map<string, number> {
    const m = new Map<string, number>();
    const re = new RegExp(`^${header}: *(.+?)\\r?$`, "im");
    for (const r of this.received) {
      const v = re.exec(r.body)?.[1] ?? "(none)";
      m.set(v, (m.get(v) ?? 0) + 1);
    }
    return m;
  }
}

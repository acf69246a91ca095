/**
 * Everything mxspool changes in smtp-server's connection class, in one place, installed
 * once per process. smtp-server has no hook for these, and each is a limit a production
 * MTA must have:
 *  - a reply text that starts with its own RFC 3463 code keeps it (smtp-server would
 *    derive it from the basic code alone: every 550 would read 5.1.1, "no such user");
 *  - after `maxErrors` error replies in one session the client gets 421 4.7.0 and is
 *    dropped (Postfix smtpd_hard_error_limit);
 *  - a command line that takes longer than `commandTimeout` to arrive, or a session older
 *    than `sessionTimeout`, ends with 421 4.4.2 (a slowloris client is cut off, where the
 *    idle timeout alone never fires because bytes keep trickling in);
 *  - the greeting waits `greetDelay` (smtp-server hard-codes 100 ms to catch clients that
 *    talk first). At one message per connection that pause alone capped 20 sessions at
 *    200 msg/s in the benchmark; Postfix's smtpd does not pause (postscreen does, in front).
 *  - CHUNKING / BDAT (RFC 3030), which smtp-server lacks: see src/smtp/bdat.ts.
 *  - the end of DATA found with indexOf instead of a per-byte loop: src/smtp/fast-data-scan.ts.
 *  - with `mxAuthAfterTls` (submission on 587) EHLO does not offer AUTH before STARTTLS
 *    (smtp-server lists it, then refuses it with 538; RFC 4954 §4: do not offer it at all).
 * Limits come from the server's options (mxLimits), set by src/smtp/server.ts.
 */
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";
import { installBdat } from "./bdat.js";
import { installFastDataScan } from "./fast-data-scan.js";

export interface ConnectionLimits { maxErrors: number; commandTimeout: number; sessionTimeout: number; greetDelay: number }

type Conn = {
  _server: { options: { mxLimits?: ConnectionLimits; mxAuthAfterTls?: boolean } };
  secure: boolean;
  _socket: import("node:net").Socket;
  _dataStream: unknown;
  _closing: boolean;
  _closed: boolean;
  _setListeners(cb: () => void): void;
  connectionReady(): void;
  send(code: number, data: unknown, context?: unknown): void;
  close(): void;
  mxErrors?: number;
  mxCmdStart?: number;
  mxStarted?: number;
  mxGuard?: NodeJS.Timeout;
};

let installed = false;

export function installSmtpServerPatches(): void {
  if (installed) return;
  installed = true;
  installFastDataScan(); // first: BDAT's wrapper calls the parser's DATA feed it finds
  installBdat();
  const proto = SMTPConnection.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;

  const send = proto.send;
  proto.send = function (this: Conn, code: unknown, data: unknown, context?: unknown) {
    const own = typeof data === "string" && /^[245]\.\d{1,3}\.\d{1,3} /.test(data);
    if (this._server.options.mxAuthAfterTls && !this.secure && code === 250 && Array.isArray(data)) data = data.filter((l) => !/^AUTH /.test(String(l)));
    send.call(this, code, data, own ? false : context);
    const limits = this._server.options.mxLimits;
    if (limits && typeof code === "number" && code >= 400 && code !== 421 && !this._closing && !this._closed) {
      this.mxErrors = (this.mxErrors ?? 0) + 1;
      if (this.mxErrors >= limits.maxErrors) send.call(this, 421, "4.7.0 Too many errors in this session, closing connection", false);
    }
  };

  const onCommand = proto._onCommand;
  proto._onCommand = function (this: Conn, ...args: unknown[]) {
    this.mxCmdStart = 0; // a complete command arrived
    return onCommand.apply(this, args);
  };

  const init = proto.init;
  proto.init = function (this: Conn, ...args: unknown[]) {
    const limits = this._server.options.mxLimits;
    if (!limits) return init.apply(this, args);
    {
      this.mxStarted = Date.now();
      this.mxCmdStart = 0;
      this._socket.on("data", () => { if (!this._dataStream && !this.mxCmdStart) this.mxCmdStart = Date.now(); });
      this.mxGuard = setInterval(() => {
        if (this._closed || this._closing) return clearInterval(this.mxGuard);
        const now = Date.now();
        if (now - this.mxStarted! > limits.sessionTimeout) {
          this.send(421, "4.4.2 Session time limit exceeded, closing connection", false);
        } else if (!this._dataStream && this.mxCmdStart && now - this.mxCmdStart > limits.commandTimeout) {
          this.send(421, "4.4.2 Command timeout, closing connection", false);
        }
      }, Math.max(250, Math.min(1000, limits.commandTimeout / 4)));
      this.mxGuard.unref();
      this._socket.once("close", () => clearInterval(this.mxGuard));
    }
    // smtp-server's init() with the greeting pause made configurable (connection counting
    // is ours: see src/ingress/connection-limits.ts)
    this._setListeners(() => {
      if (limits.greetDelay > 0) setTimeout(() => this.connectionReady(), limits.greetDelay).unref();
      else setImmediate(() => this.connectionReady());
    });
  };
}

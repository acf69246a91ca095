/**
 * SpamAssassin through spamd, speaking SPAMC/1.5 ourselves (unix socket or TCP): one
 * connection per check, "REPORT" with the exact message bytes and their Content-length,
 * then the whole reply is read as bytes until spamd closes and parsed by spamd-reply.ts.
 * Why not the `spamc` npm package: it sends strings (a Buffer is never sent, 8-bit bytes are
 * re-encoded so spamd scores different bytes), splits each TCP chunk on CRLF separately (a
 * reply line cut between chunks is lost), has no minus sign in its score pattern and no unix
 * socket; the evidence is in src/filters/README.md. Never throws: failures are outcome values.
 */
import type net from "node:net";
import { formatScannerAddress, type ScannerAddress } from "../config/scanner-address.js";
import { connectScanner } from "./scanner-connect.js";
import { parseReportRules, parseSpamdReply } from "./spamd-reply.js";
import type { ScanFailure, SpamOutcome } from "../../policies/scan-outcome.js";
import type { SpamEngine } from "./spam-engine.js";

export interface SpamdOptions { address: ScannerAddress; connectTimeout: number; timeout: number }

/** spamd's REPORT answer is a few KB; anything far larger is not spamd. */
const MAX_REPLY_BYTES = 4 * 1024 * 1024;

type Exchanged = { ok: true; data: Buffer } | { ok: false; failure: ScanFailure };

/** Sends the request, half-closes, and collects the reply until spamd closes the connection. */
function exchange(socket: net.Socket, request: Buffer[], timeoutMs: number): Promise<Exchanged> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    let error: string | undefined;
    const done = (r: Exchanged) => { clearTimeout(timer); socket.destroy(); resolve(r); };
    const timer = setTimeout(() => done({ ok: false, failure: { status: "error", error: "timeout", detail: `no answer within ${timeoutMs} ms` } }), timeoutMs);
    socket.on("data", (d: Buffer) => {
      parts.push(d);
      size += d.length;
      if (size > MAX_REPLY_BYTES) done({ ok: false, failure: { status: "error", error: "failed", detail: `reply larger than ${MAX_REPLY_BYTES} bytes` } });
    });
    socket.on("error", (e: NodeJS.ErrnoException) => { error ??= e.code ?? e.message; });
    socket.on("close", () => {
      if (!size && error) done({ ok: false, failure: { status: "error", error: "failed", detail: error } });
      else done({ ok: true, data: Buffer.concat(parts, size) });
    });
    socket.cork();
    for (const b of request) socket.write(b);
    socket.uncork();
    socket.end();
  });
}

export class SpamdEngine implements SpamEngine {
  readonly name = "spamassassin";
  readonly address: string;

  constructor(private readonly opts: SpamdOptions) {
    this.address = formatScannerAddress(opts.address);
  }

  async check(message: Buffer): Promise<SpamOutcome> {
    const c = await connectScanner(this.opts.address, this.opts.connectTimeout);
    if (!c.ok) return c.failure;
    const head = Buffer.from(`REPORT SPAMC/1.5\r\nContent-length: ${message.length}\r\n\r\n`, "latin1");
    const res = await exchange(c.socket, [head, message], this.opts.timeout);
    if (!res.ok) return res.failure;
    const reply = parseSpamdReply(res.data);
    if (!reply.ok) return { status: "error", error: "failed", detail: reply.error };
    if (!reply.spam) return { status: "error", error: "failed", detail: "spamd answered without a Spam header" };
    return { status: "scored", score: reply.spam.score, threshold: reply.spam.threshold, rules: parseReportRules(reply.body) };
  }

  async ping(): Promise<ScanFailure | null> {
    const c = await connectScanner(this.opts.address, this.opts.connectTimeout);
    if (!c.ok) return c.failure;
    const res = await exchange(c.socket, [Buffer.from("PING SPAMC/1.5\r\n\r\n", "latin1")], Math.min(this.opts.timeout, 5000));
    if (!res.ok) return res.failure;
    const reply = parseSpamdReply(res.data);
    if (!reply.ok) return { status: "error", error: "failed", detail: reply.error };
    return reply.message === "PONG" ? null : { status: "error", error: "failed", detail: `PING answered ${reply.message}` };
  }
}

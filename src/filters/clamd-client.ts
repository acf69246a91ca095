/**
 * ClamAV through clamd's INSTREAM command (unix socket or TCP). The message streams to clamd
 * while the SMTP client sends it: each chunk goes out as one frame (4-byte big-endian length
 * + bytes) in one write() on a no-delay socket — the pieces written separately cost ~4x in
 * throughput (TIPS.md). Chunks that arrive before the connection is up are sent together
 * with the command. end() sends the zero-length frame and reads the NUL-terminated answer
 * within `timeout`. clamd unpacks archives and MIME itself. Never throws: failures are values.
 *
 * Note: clamd drops a stream idle longer than its ReadTimeout (default 120 s); a client that
 * stalls that long mid-DATA gets the onError treatment.
 */
import type net from "node:net";
import { formatScannerAddress, type ScannerAddress } from "../config/scanner-address.js";
import { connectScanner } from "./scanner-connect.js";
import { parseClamdReply } from "./clamd-reply.js";
import type { ScanFailure, VirusOutcome } from "../../policies/scan-outcome.js";
import type { VirusEngine, VirusScan } from "./virus-engine.js";

export interface ClamdOptions { address: ScannerAddress; connectTimeout: number; timeout: number }

const INSTREAM = Buffer.from("zINSTREAM\0", "latin1");
const END_OF_STREAM = Buffer.alloc(4);

function frame(chunk: Buffer): Buffer {
  const f = Buffer.allocUnsafe(4 + chunk.length);
  f.writeUInt32BE(chunk.length, 0);
  chunk.copy(f, 4);
  return f;
}

/** Collects clamd's answer on a socket: done once a NUL arrives or the socket closes. */
class Answer {
  private parts: Buffer[] = [];
  private settled = false;
  private waiters: (() => void)[] = [];
  error?: string;

  constructor(socket: net.Socket) {
    socket.on("data", (d: Buffer) => { this.parts.push(d); if (d.includes(0)) this.settle(); });
    socket.on("error", (e: NodeJS.ErrnoException) => { this.error ??= e.code ?? e.message; });
    socket.on("close", () => this.settle());
  }

  get done(): boolean { return this.settled; }
  text(): string { return Buffer.concat(this.parts).toString("latin1"); }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.waiters.splice(0).forEach((w) => w());
  }

  /** Resolves true when the answer is complete, false after timeoutMs. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.settled) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => { clearTimeout(t); resolve(true); });
    });
  }
}

class ClamdStream implements VirusScan {
  private socket?: net.Socket;
  private answer?: Answer;
  private pending: Buffer[] = [];
  private failure?: ScanFailure;
  private stopped = false;
  private aborted = false;
  private readonly connecting: Promise<void>;

  constructor(private readonly opts: ClamdOptions) {
    this.connecting = connectScanner(opts.address, opts.connectTimeout).then((c) => {
      if (!c.ok) { this.failure = c.failure; this.pending = []; return; }
      if (this.aborted) { c.socket.destroy(); return; }
      this.socket = c.socket;
      this.answer = new Answer(c.socket);
      c.socket.write(Buffer.concat([INSTREAM, ...this.pending.map(frame)]));
      this.pending = [];
    });
  }

  write(chunk: Buffer): void {
    if (this.stopped || this.failure || chunk.length === 0) return; // a 0-length frame would end the stream
    if (!this.socket) { this.pending.push(chunk); return; }
    if (this.answer?.done) return; // clamd answered early (e.g. size limit): the answer says why
    this.socket.write(frame(chunk));
  }

  async end(): Promise<VirusOutcome> {
    this.stopped = true;
    await this.connecting;
    if (this.failure) return this.failure;
    if (this.aborted) return { status: "error", error: "failed", detail: "aborted" };
    const socket = this.socket!;
    const answer = this.answer!;
    if (!answer.done) socket.write(END_OF_STREAM);
    const complete = await answer.wait(this.opts.timeout);
    socket.destroy();
    if (!complete) return { status: "error", error: "timeout", detail: `no answer within ${this.opts.timeout} ms` };
    const text = answer.text();
    if (!text && answer.error) return { status: "error", error: "failed", detail: answer.error };
    return parseClamdReply(text);
  }

  abort(): void {
    this.stopped = true;
    this.aborted = true;
    this.pending = [];
    this.socket?.destroy();
  }
}

export class ClamdEngine implements VirusEngine {
  readonly name = "clamav";
  readonly address: string;

  constructor(private readonly opts: ClamdOptions) {
    this.address = formatScannerAddress(opts.address);
  }

  open(): VirusScan { return new ClamdStream(this.opts); }

  async ping(): Promise<ScanFailure | null> {
    const c = await connectScanner(this.opts.address, this.opts.connectTimeout);
    if (!c.ok) return c.failure;
    const answer = new Answer(c.socket);
    c.socket.write("zPING\0");
    const complete = await answer.wait(Math.min(this.opts.timeout, 5000));
    c.socket.destroy();
    if (!complete) return { status: "error", error: "timeout", detail: "no PONG" };
    const text = answer.text().replace(/\0.*$/s, "").trim();
    return text === "PONG" ? null : { status: "error", error: "failed", detail: `PING answered ${JSON.stringify(text.slice(0, 100))}` };
  }
}

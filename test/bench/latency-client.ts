/**
 * A minimal raw-socket SMTP client that measures what smtp-source cannot: the time from
 * sending the final "." of DATA to receiving the server's 250 — the time the server takes
 * to make a message durable. `sessions` connections each send their share of messages
 * one after the other (MAIL, RCPT, DATA, body, "."), reconnecting when the server ends a
 * session with 421 (a per-session transaction limit). With `retryTempfail`, a 4xx to MAIL
 * FROM or to the end of DATA (a saturated scanner's 451 4.3.2) is counted, and the session
 * quits and the message is offered again after `retryDelayMs`, as an MTA retries (only sooner).
 */
import net from "node:net";
import { sleep } from "../helpers/net.js";

export interface LatencyResult { samplesMs: number[]; errors: string[]; wallMs: number; sent: number; reconnects: number; tempfails: number; rejected: number }

export function body10k(i: number, length: number): Buffer {
  const head = `From: <from@x.test>\r\nTo: <user@bench.test>\r\nSubject: bench ${i}\r\nMessage-ID: <bench-${i}-${process.pid}@x.test>\r\n\r\n`;
  const line = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd\r\n"; // 78 bytes
  let text = head;
  while (text.length - head.length + line.length <= length) text += line;
  text += "x".repeat(Math.max(0, length - (text.length - head.length) - 2)) + "\r\n";
  return Buffer.from(text, "latin1");
}

class Conn {
  private buf = "";
  private waiter?: { resolve: (r: { code: number; text: string }) => void; reject: (e: Error) => void };
  private lines: string[] = [];
  private failed?: Error;

  constructor(private readonly sock: net.Socket) {
    sock.setNoDelay(true);
    sock.on("data", (d: Buffer) => {
      this.buf += d.toString("latin1");
      let i;
      while ((i = this.buf.indexOf("\r\n")) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        this.lines.push(line);
        if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
          const text = this.lines.join("\n");
          this.lines = [];
          const w = this.waiter;
          this.waiter = undefined;
          w?.resolve({ code: Number(line.slice(0, 3)), text });
        }
      }
    });
    const fail = (e: Error) => { this.failed = e; const w = this.waiter; this.waiter = undefined; w?.reject(e); };
    sock.on("error", fail);
    sock.on("close", () => fail(new Error("connection closed")));
  }

  reply(): Promise<{ code: number; text: string }> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; });
  }

  async cmd(line: string, expect: number): Promise<void> {
    const r = this.reply();
    this.sock.write(line + "\r\n");
    const { code, text } = await r;
    if (code !== expect) throw new Error(`${line.split(" ")[0]}: ${text}`);
  }

  write(data: Buffer | string): void { this.sock.write(data); }
  end(): void { this.sock.end(); this.sock.destroy(); }
}

function connect(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ port, host: "127.0.0.1" }, () => { s.off("error", reject); resolve(new Conn(s)); });
    s.once("error", reject);
  });
}

/** A 421 (server closing the session, e.g. a per-session transaction limit): reconnect. */
class Closing extends Error {}
/** A 4xx to this transaction: quit, wait, reconnect. */
class Tempfail extends Error {}

export interface LatencyOptions {
  port: number;
  sessions: number;
  messages: number;
  length: number;
  /** Offer a message again after a 4xx at MAIL FROM or end of DATA (default: count it as an error). */
  retryTempfail?: boolean;
  retryDelayMs?: number;
  /** The message for index i (default: body10k). */
  message?: (i: number) => Buffer;
}


export async function measureLatency(opts: LatencyOptions): Promise<LatencyResult> {
  const samplesMs: number[] = [];
  const errors: string[] = [];
  const message = opts.message ?? ((i: number) => body10k(i, opts.length));
  const retryDelay = opts.retryDelayMs ?? 100;
  let next = 0;
  const again: number[] = []; // indexes handed back (421 before the message, or a tempfail)
  const take = (): number | undefined => (again.length ? again.pop() : next < opts.messages ? next++ : undefined);
  const pending = () => again.length > 0 || next < opts.messages;
  let sent = 0;
  let reconnects = 0;
  let tempfails = 0;
  let rejected = 0;
  const started = performance.now();
  const session = async () => {
    while (pending()) {
      let c: Conn | undefined;
      try {
        c = await connect(opts.port);
        const greet = await c.reply();
        if (greet.code !== 220) throw new Error(`greeting: ${greet.text}`);
        await c.cmd("EHLO latency.bench.test", 250);
        for (let i = take(); i !== undefined; i = take()) {
          const mail = c.reply();
          c.write("MAIL FROM:<from@x.test>\r\n");
          const m = await mail;
          if (m.code === 421) { again.push(i); throw new Closing(m.text); }
          if (m.code >= 400 && m.code < 500 && opts.retryTempfail) { tempfails++; again.push(i); throw new Tempfail(m.text); }
          if (m.code !== 250) { again.push(i); throw new Error(`MAIL: ${m.text}`); }
          try {
            await c.cmd("RCPT TO:<user@bench.test>", 250);
            await c.cmd("DATA", 354);
            c.write(message(i));
            const r = c.reply();
            const t0 = performance.now();
            c.write(".\r\n");
            const { code, text } = await r;
            const dt = performance.now() - t0;
            if (code >= 400 && code < 500 && opts.retryTempfail) { tempfails++; again.push(i); throw new Tempfail(text); }
            if (code >= 500) rejected++;
            if (code !== 250) { errors.push(`end of DATA: ${text}`); continue; }
            samplesMs.push(dt);
            sent++;
          } catch (err) {
            if (err instanceof Tempfail) throw err;
            errors.push((err as Error).message);
            throw new Closing("after an error");
          }
        }
        await c.cmd("QUIT", 221).catch(() => undefined);
      } catch (err) {
        if (err instanceof Closing) { reconnects++; continue; }
        if (err instanceof Tempfail) {
          await c?.cmd("QUIT", 221).catch(() => undefined);
          c?.end();
          c = undefined;
          await sleep(retryDelay);
          continue;
        }
        errors.push((err as Error).message);
        return;
      } finally {
        c?.end();
      }
    }
  };
  await Promise.all(Array.from({ length: opts.sessions }, session));
  return { samplesMs, errors, wallMs: performance.now() - started, sent, reconnects, tempfails, rejected };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

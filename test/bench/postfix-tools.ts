/**
 * Postfix's own load tools: smtp-source (the sender) and smtp-sink (the primary that
 * swallows everything). Both print running counters with -c ("...=N\r"); we parse them to
 * know how many messages went through at any moment.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { portOpen, waitFor } from "../helpers/net.js";

const SBIN = "/usr/sbin";

export interface SourceResult { wallMs: number; sent: number; exitCode: number | null; stderr: string }

/**
 * `smtp-source -c -s SESSIONS -m COUNT -l LENGTH -f from -t to 127.0.0.1:PORT`: one message
 * per connection (no -d), as a backup MX sees it. `onProgress` gets the running count.
 */
export function runSmtpSource(opts: { port: number; sessions: number; messages: number; length: number; onProgress?: (n: number) => void }): Promise<SourceResult> {
  const args = ["-c", "-s", String(opts.sessions), "-m", String(opts.messages), "-l", String(opts.length),
    "-f", "from@x.test", "-t", "user@bench.test", "-M", "client.bench.test", `127.0.0.1:${opts.port}`];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const p = spawn(`${SBIN}/smtp-source`, args, { stdio: ["ignore", "pipe", "pipe"] });
    let sent = 0;
    let tail = "";
    let stderr = "";
    p.stdout!.on("data", (d: Buffer) => {
      tail = (tail + d.toString()).slice(-64);
      const all = [...tail.matchAll(/(\d+)\r/g)];
      const n = all.length ? Number(all[all.length - 1][1]) : sent;
      if (n > sent) { sent = n; opts.onProgress?.(n); }
    });
    p.stderr!.on("data", (d: Buffer) => { if (stderr.length < 20_000) stderr += d.toString(); });
    p.once("error", reject);
    p.once("exit", (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      resolve({ wallMs, sent, exitCode: code, stderr });
    });
  });
}

/** smtp-sink on 127.0.0.1:PORT with a live message counter. */
export class SmtpSink {
  messages = 0;
  sessions = 0;
  /** hrtime (ms) at which the counter first moved and last moved. */
  firstAt?: number;
  lastAt?: number;
  private proc?: ChildProcess;
  private tail = "";

  constructor(readonly port: number) {}

  async start(): Promise<number> {
    // as root smtp-sink insists on dropping privileges (-u); -m: up to 1000 simultaneous sessions
    const args = ["-c", "-m", "1000", "-h", "primary.bench.test"];
    if (process.getuid?.() === 0) args.push("-u", "nobody");
    args.push(`127.0.0.1:${this.port}`, "1024");
    const p = spawn(`${SBIN}/smtp-sink`, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.proc = p;
    let err = "";
    p.stderr!.on("data", (d: Buffer) => { err += d.toString(); });
    p.stdout!.on("data", (d: Buffer) => {
      this.tail = (this.tail + d.toString()).slice(-200);
      const m = [...this.tail.matchAll(/sess=(\d+) quit=\d+ mesg=(\d+)\r/g)];
      const last = m[m.length - 1];
      if (!last) return;
      const mesg = Number(last[2]);
      this.sessions = Number(last[1]);
      if (mesg > this.messages) {
        const now = performance.now();
        this.firstAt ??= now;
        this.lastAt = now;
        this.messages = mesg;
      }
    });
    await waitFor("smtp-sink to listen", async () => {
      if (p.exitCode !== null) throw new Error(`smtp-sink exited ${p.exitCode}: ${err}`);
      return portOpen(this.port);
    }, 10_000, 20);
    return performance.now();
  }

  kill(): void { try { this.proc?.kill("SIGKILL"); } catch { /* gone */ } }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode) return;
    await new Promise<void>((resolve) => { p.once("exit", () => resolve()); p.kill("SIGTERM"); });
  }
}

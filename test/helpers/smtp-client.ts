/** A raw line-level SMTP client for tests that must control every byte and pause mid-session. */
import net from "node:net";

export class RawSmtp {
  private buf = "";
  private waiters: (() => void)[] = [];
  readonly lines: string[] = [];
  closed = false;

  private constructor(private readonly sock: net.Socket) {
    sock.on("data", (d) => {
      this.buf += d.toString("latin1");
      let i;
      while ((i = this.buf.indexOf("\r\n")) >= 0) { this.lines.push(this.buf.slice(0, i)); this.buf = this.buf.slice(i + 2); }
      this.waiters.splice(0).forEach((w) => w());
    });
    sock.on("close", () => { this.closed = true; this.waiters.splice(0).forEach((w) => w()); });
    sock.on("error", () => undefined);
  }

  static connect(port: number, host = "127.0.0.1", localAddress?: string): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection({ port, host, localAddress }, () => resolve(new RawSmtp(s)));
      s.once("error", reject);
    });
  }

  /** Waits for the next complete reply (multi-line aware) and returns it. */
  async reply(timeoutMs = 10_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const idx = this.lines.findIndex((l) => /^\d{3} /.test(l) || (/^\d{3}$/.test(l)));
      if (idx >= 0) return this.lines.splice(0, idx + 1).join("\n");
      if (this.closed) throw new Error(`connection closed; pending: ${this.lines.join(" | ")}`);
      if (Date.now() > end) throw new Error(`no reply within ${timeoutMs} ms`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 100); });
    }
  }

  write(data: string | Buffer): void { this.sock.write(data); }

  async cmd(line: string): Promise<string> { this.write(line + "\r\n"); return this.reply(); }

  close(): void { this.sock.destroy(); }
}

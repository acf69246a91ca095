/**
 * One health probe of one primary endpoint: connect, read the greeting, EHLO (HELO if EHLO is
 * refused), and when STARTTLS is offered STARTTLS to read the peer certificate, then QUIT,
 * all within `timeoutMs`. Up means the primary would take a transaction now (greeting and
 * EHLO/HELO answered 2xx); the STARTTLS step never makes a probe fail. What the primary said
 * (greeting, EHLO lines, certificate) is the raw material of its fingerprint
 * (./fingerprint.ts). Never sends MAIL; certificates are read, not verified.
 */
import net from "node:net";
import tls from "node:tls";
import type { Endpoint } from "../transport/connection-pool.js";
import type { CertFacts } from "../../policies/primary-change.js";

export interface ProbeSeen { greeting: string; ehlo: string[]; cert: CertFacts | null }
export interface ProbeResult { up: boolean; ms: number; error?: string; seen?: ProbeSeen }

interface Reply { code: number; lines: string[] }

/** Reads SMTP replies from a socket, one at a time. */
class ReplyReader {
  private buf = "";
  private lines: string[] = [];
  private waiting?: { resolve: (r: Reply) => void; reject: (e: Error) => void };
  private failed?: Error;

  constructor(private sock: net.Socket | tls.TLSSocket) { this.attach(sock); }

  attach(sock: net.Socket | tls.TLSSocket): void {
    this.sock = sock;
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => this.feed(d));
    sock.on("error", (e) => this.fail(e));
    sock.on("close", () => this.fail(new Error("connection closed by the primary")));
  }

  detach(): void { this.sock.removeAllListeners("data"); this.sock.removeAllListeners("error"); this.sock.removeAllListeners("close"); this.sock.on("error", () => undefined); }

  next(): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => { this.waiting = { resolve, reject }; this.drain(); });
  }

  private feed(d: string): void {
    this.buf += d;
    if (this.buf.length > 64 * 1024) return this.fail(new Error("reply too long"));
    this.drain();
  }

  private drain(): void {
    let i: number;
    while (this.waiting && (i = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, i).replace(/\r$/, "");
      this.buf = this.buf.slice(i + 1);
      this.lines.push(line);
      if (!/^\d{3}-/.test(line)) {
        const w = this.waiting;
        const lines = this.lines;
        this.waiting = undefined;
        this.lines = [];
        w.resolve({ code: Number(line.slice(0, 3)) || 0, lines });
      }
    }
  }

  private fail(e: Error): void {
    this.failed ??= e;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(e);
  }
}

const certFacts = (c: tls.PeerCertificate | undefined): CertFacts | null => {
  if (!c || !c.fingerprint256) return null;
  const dn = (o: Record<string, unknown> | undefined) => Object.entries(o ?? {}).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : String(v)}`).join(", ");
  return { subject: dn(c.subject as unknown as Record<string, unknown>), issuer: dn(c.issuer as unknown as Record<string, unknown>), fingerprint: c.fingerprint256, validTo: Date.parse(c.valid_to) };
};

export function probeEndpoint(ep: Endpoint, name: string, timeoutMs: number): Promise<ProbeResult> {
  const started = Date.now();
  const sock = net.connect({ host: ep.host, port: ep.port });
  let current: net.Socket | tls.TLSSocket = sock;
  const timer = setTimeout(() => current.destroy(new Error("probe timed out")), timeoutMs);
  const reader = new ReplyReader(sock);
  const send = (cmd: string) => { current.write(`${cmd}\r\n`); return reader.next(); };
  const run = async (): Promise<ProbeResult> => {
    const greet = await reader.next();
    if (greet.code !== 220) throw new Error(`greeting: ${greet.lines.join(" ").slice(0, 200)}`);
    let ehlo = await send(`EHLO ${name}`);
    let lines = ehlo.lines;
    if (ehlo.code !== 250) {
      ehlo = await send(`HELO ${name}`);
      if (ehlo.code !== 250) throw new Error(`HELO: ${ehlo.lines.join(" ").slice(0, 200)}`);
      lines = [];
    }
    const seen: ProbeSeen = { greeting: greet.lines.join("\n"), ehlo: lines, cert: null };
    if (lines.slice(1).some((l) => /^\d{3}[ -]STARTTLS\b/i.test(l))) {
      // the certificate is part of the fingerprint; a failing handshake is not a failing probe
      try {
        const r = await send("STARTTLS");
        if (r.code === 220) {
          reader.detach();
          const secure = tls.connect({ socket: sock, rejectUnauthorized: false, servername: net.isIP(ep.host) ? undefined : ep.host });
          current = secure;
          secure.on("error", () => undefined);
          await new Promise<void>((resolve, reject) => { secure.once("secureConnect", () => resolve()); secure.once("error", reject); });
          seen.cert = certFacts(secure.getPeerCertificate());
          reader.attach(secure);
        }
      } catch { /* seen.cert stays null */ }
    }
    current.write("QUIT\r\n");
    return { up: true, ms: Date.now() - started, seen };
  };
  return run()
    .catch((err: Error) => ({ up: false, ms: Date.now() - started, error: err.message }))
    .finally(() => { clearTimeout(timer); current.end(); setTimeout(() => current.destroy(), 1000).unref(); });
}

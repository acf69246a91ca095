/**
 * Reusable SMTP connections to one primary endpoint (nodemailer's SMTPConnection), like
 * Postfix's connection cache: a delivery borrows an open, greeted connection, sends one
 * transaction, and gives it back; idle connections close after `idleMs`, and a connection
 * is renewed after `maxMessages`. A connection that saw any error is never reused.
 */
import SMTPConnection from "nodemailer/lib/smtp-connection";
import { installFastDotStuffing } from "./fast-dot-stuffing.js";

export interface Endpoint { host: string; port: number }
export interface PoolOptions {
  name: string;
  connectTimeout: number;
  commandTimeout: number;
  idleMs: number;
  maxMessages: number;
  /** A relay (outbound.relay): implicit TLS, STARTTLS required or never, AUTH after the greeting. Absent: opportunistic STARTTLS, no AUTH. */
  relay?: { tls: "starttls" | "required" | "implicit" | "none"; auth?: { user: string; pass: string } };
}

interface Pooled { conn: SMTPConnection; messages: number; idleTimer?: NodeJS.Timeout; broken: boolean }

export class ConnectionPool {
  private idle: Pooled[] = [];
  private closed = false;

  constructor(readonly endpoint: Endpoint, private readonly opts: PoolOptions) {
    installFastDotStuffing(); // nodemailer's per-byte loop was 14% of the drain's CPU (fast-dot-stuffing.ts)
  }

  /** Longest one transaction may take before it is abandoned as lost. */
  get timeoutMs(): number { return this.opts.commandTimeout * 3 + this.opts.connectTimeout; }

  async acquire(): Promise<Pooled> {
    while (this.idle.length) {
      const p = this.idle.pop()!;
      clearTimeout(p.idleTimer);
      if (!p.broken) return p;
    }
    return this.open();
  }

  private open(): Promise<Pooled> {
    const conn = new SMTPConnection({
      host: this.endpoint.host,
      port: this.endpoint.port,
      name: this.opts.name,
      connectionTimeout: this.opts.connectTimeout,
      greetingTimeout: this.opts.connectTimeout,
      socketTimeout: this.opts.commandTimeout,
      dnsTimeout: this.opts.connectTimeout,
      // opportunistic STARTTLS like Postfix's "may": encrypt when offered, accept any cert
      tls: { rejectUnauthorized: false },
      secure: this.opts.relay?.tls === "implicit",
      requireTLS: this.opts.relay?.tls === "required",
      ignoreTLS: this.opts.relay?.tls === "none",
      logger: false,
    });
    const pooled: Pooled = { conn, messages: 0, broken: false };
    conn.on("error", () => { pooled.broken = true; });
    conn.on("end", () => { pooled.broken = true; });
    return new Promise((resolve, reject) => {
      // nodemailer does not always call back when the server goes away mid-handshake: an
      // 'error' or 'end' (or our own deadline) settles the attempt as well, exactly once
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        pooled.broken = true;
        conn.close();
        reject(Object.assign(err, { code: (err as { code?: string }).code ?? "ECONNECTION" }));
      };
      const deadline = setTimeout(() => fail(Object.assign(new Error("connection to the primary timed out"), { code: "ETIMEDOUT" })), this.opts.connectTimeout * 2 + 1000);
      conn.once("error", (err: Error) => fail(err));
      conn.once("end", () => fail(new Error("connection closed during the greeting")));
      const ready = () => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(pooled);
      };
      const auth = this.opts.relay?.auth;
      conn.connect((err?: Error) => {
        if (err) return fail(err);
        if (!auth) return ready();
        conn.login(auth, (e?: Error | null) => (e ? fail(e) : ready()));
      });
    });
  }

  release(p: Pooled, healthy: boolean): void {
    p.messages++;
    if (!healthy || p.broken || this.closed || p.messages >= this.opts.maxMessages) {
      if (!p.broken && healthy) p.conn.quit(); else p.conn.close();
      return;
    }
    p.idleTimer = setTimeout(() => {
      this.idle = this.idle.filter((x) => x !== p);
      p.conn.quit();
    }, this.opts.idleMs);
    p.idleTimer.unref();
    this.idle.push(p);
  }

  close(): void {
    this.closed = true;
    for (const p of this.idle) { clearTimeout(p.idleTimer); p.conn.quit(); }
    this.idle = [];
  }
}

export type { Pooled };

/** One pool per endpoint, made on first use. */
export class ConnectionPools {
  private pools = new Map<string, ConnectionPool>();

  constructor(private readonly opts: PoolOptions) {}

  for(endpoints: Endpoint[]): ConnectionPool[] {
    return endpoints.map((ep) => {
      const k = `${ep.host}:${ep.port}`;
      let p = this.pools.get(k);
      if (!p) { p = new ConnectionPool(ep, this.opts); this.pools.set(k, p); }
      return p;
    });
  }

  close(): void { for (const p of this.pools.values()) p.close(); }
}

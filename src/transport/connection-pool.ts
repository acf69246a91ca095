/**
 * Reusable SMTP connections to one primary endpoint (smtp-client.ts), like Postfix's
 * connection cache: a delivery borrows an open, greeted connection, sends one transaction,
 * and gives it back; idle connections close after `idleMs`, and a connection is renewed
 * after `maxMessages`. A connection that saw any error is never reused.
 */
import { SmtpClient } from "./smtp-client.js";

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

interface Pooled { conn: SmtpClient; messages: number; idleTimer?: NodeJS.Timeout; broken: boolean }

export class ConnectionPool {
  private idle: Pooled[] = [];
  private closed = false;

  constructor(readonly endpoint: Endpoint, private readonly opts: PoolOptions) {}

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

  private async open(): Promise<Pooled> {
    const relay = this.opts.relay?.tls;
    // the client bounds the whole handshake itself (a trickled greeting included)
    const conn = await SmtpClient.connect({
      host: this.endpoint.host,
      port: this.endpoint.port,
      name: this.opts.name,
      connectTimeout: this.opts.connectTimeout,
      commandTimeout: this.opts.commandTimeout,
      // opportunistic STARTTLS like Postfix's "may": encrypt when offered, accept any cert
      tls: relay === "implicit" ? "implicit" : relay === "required" ? "required" : relay === "none" ? "none" : "may",
      auth: this.opts.relay?.auth,
    });
    const pooled: Pooled = { conn, messages: 0, broken: false };
    conn.onClose(() => { pooled.broken = true; });
    return pooled;
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

/**
 * Who may open a session now: connections in total and per client IP on this node (each
 * process enforces its share of the node's limits; node:cluster spreads connections evenly),
 * and new connections per IP per minute counted in Redis, so the rate holds across every
 * mxspool node sharing that Redis. Clients in `smtp.limitExemptions` are counted in the
 * total but never refused, and skip the rate.
 *
 * A connection holds a slot from the moment it is seen: take() counts it synchronously,
 * before anything is awaited, so a client that goes away while its admission waits on Redis
 * cannot be counted after its close was handled (the leak that shut an IP out with 421 until
 * restart), and concurrent admissions cannot overshoot the limits. The slot's release() is
 * idempotent: every exit path (refusal, close) calls it, whatever order they run in.
 */
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Keyspace } from "../redis/keyspace.js";
import { ipInList } from "../../policies/client-checks.js";
import { reply, type SmtpReply } from "../mail/reply.js";

/** A counted connection. release() gives the place back; a second call does nothing. */
export interface ConnectionSlot {
  readonly ip: string;
  readonly exempt: boolean;
  readonly released: boolean;
  release(): void;
}

export class ConnectionLimits {
  private total = 0;
  private perIp = new Map<string, number>();
  private readonly maxTotal: number;
  private readonly maxPerIp: number;

  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, processes: number) {
    this.maxTotal = Math.ceil(config.smtp.maxConnections / processes);
    this.maxPerIp = Math.ceil(config.smtp.maxConnectionsPerIp / processes);
  }

  exempt(ip: string): boolean { return ipInList(ip, this.config.smtp.limitExemptions); }

  /** Counts the connection in at once and returns its slot, or the 421 that refuses it (nothing counted). */
  take(ip: string): ConnectionSlot | SmtpReply {
    const exempt = this.exempt(ip);
    if (!exempt) {
      if (this.total >= this.maxTotal) return reply(421, "4.7.0", `${this.config.hostname} Too many connections, try again later`, "too-many-connections");
      if ((this.perIp.get(ip) ?? 0) >= this.maxPerIp) return reply(421, "4.7.0", `${this.config.hostname} Too many connections from your address, try again later`, "too-many-connections-ip");
    }
    this.count(ip, +1);
    let released = false;
    return {
      ip, exempt,
      get released() { return released; },
      release: () => { if (!released) { released = true; this.count(ip, -1); } },
    };
  }

  /** The per-minute rate for a slot just taken: null, or the 421 that refuses it (the caller releases the slot). */
  async checkRate(slot: ConnectionSlot): Promise<SmtpReply | null> {
    const perMinute = this.config.smtp.connectionRatePerMinute;
    if (slot.exempt || perMinute <= 0) return null;
    const key = this.keys.connRate(slot.ip, Math.floor(Date.now() / 60_000));
    try {
      const res = await this.redis.multi().incr(key).expire(key, 120).exec();
      if (Number(res?.[0]?.[1]) > perMinute) return reply(421, "4.7.0", `${this.config.hostname} Connection rate limit exceeded, try again later`, "rate-limit");
    } catch {
      // Redis trouble must not shut the door: the message itself will be refused 451 if Redis is down
    }
    return null;
  }

  /** Connections counted now, in this process: the total and per IP. */
  counts(): { total: number; perIp: Record<string, number> } {
    return { total: this.total, perIp: Object.fromEntries(this.perIp) };
  }

  private count(ip: string, d: number): void {
    this.total += d;
    const n = (this.perIp.get(ip) ?? 0) + d;
    if (n <= 0) this.perIp.delete(ip); else this.perIp.set(ip, n);
  }
}

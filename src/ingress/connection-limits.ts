/**
 * Who may open a session now: connections in total and per client IP on this node (each
 * process enforces its share of the node's limits; node:cluster spreads connections evenly),
 * and new connections per IP per minute counted in Redis, so the rate holds across every
 * mxspool node sharing that Redis. Clients in `smtp.limitExemptions` skip all three.
 */
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import { ipInList } from "../../policies/client-checks.js";
import { reply, type SmtpReply } from "../smtp/reply.js";

export class ConnectionLimits {
  private total = 0;
  private perIp = new Map<string, number>();
  private readonly maxTotal: number;
  private readonly maxPerIp: number;

  constructor(private readonly config: Config, private readonly redis: Redis, processes: number) {
    this.maxTotal = Math.ceil(config.smtp.maxConnections / processes);
    this.maxPerIp = Math.ceil(config.smtp.maxConnectionsPerIp / processes);
  }

  exempt(ip: string): boolean { return ipInList(ip, this.config.smtp.limitExemptions); }

  /** Counts the connection in, or returns the 421 that refuses it. Every admitted call must be paired with release(). */
  async admit(ip: string): Promise<SmtpReply | null> {
    if (this.exempt(ip)) { this.count(ip, +1); return null; }
    if (this.total >= this.maxTotal) return reply(421, "4.7.0", `${this.config.hostname} Too many connections, try again later`, "too-many-connections");
    if ((this.perIp.get(ip) ?? 0) >= this.maxPerIp) return reply(421, "4.7.0", `${this.config.hostname} Too many connections from your address, try again later`, "too-many-connections-ip");
    const perMinute = this.config.smtp.connectionRatePerMinute;
    if (perMinute > 0) {
      const key = `${this.config.redis.prefix}:rate:conn:${ip}:${Math.floor(Date.now() / 60_000)}`;
      try {
        const res = await this.redis.multi().incr(key).expire(key, 120).exec();
        if (Number(res?.[0]?.[1]) > perMinute) return reply(421, "4.7.0", `${this.config.hostname} Connection rate limit exceeded, try again later`, "rate-limit");
      } catch {
        // Redis trouble must not shut the door: the message itself will be refused 451 if Redis is down
      }
    }
    this.count(ip, +1);
    return null;
  }

  release(ip: string): void { this.count(ip, -1); }

  private count(ip: string, d: number): void {
    this.total += d;
    const n = (this.perIp.get(ip) ?? 0) + d;
    if (n <= 0) this.perIp.delete(ip); else this.perIp.set(ip, n);
  }
}

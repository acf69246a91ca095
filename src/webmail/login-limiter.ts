/**
 * Login rate limiting and temporary lock-out, counted in Redis (so every node agrees):
 * failed logins per account and per client IP within `failureWindow`; past
 * `maxFailuresPerAccount` the account is locked for `lockout` from everywhere, past
 * `maxFailuresPerIp` the IP is locked for every account. Addresses that do not exist are
 * counted the same way, so a lock-out reveals nothing about which accounts exist. Keys:
 * Keyspace.webmailLogin (`fail`/`lock` per `acct`/`ip`, subjects hashed).
 */
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";
import type { WebmailConfig } from "../config/webmail-schema.js";

export type LoginGate = { allowed: true } | { allowed: false; retryAfterMs: number; scope: "account" | "ip" };

export class LoginLimiter {
  constructor(private readonly redis: Redis, private readonly keys: Keyspace, private readonly opts: WebmailConfig["login"]) {}

  private key(kind: "fail" | "lock", scope: "acct" | "ip", subject: string): string { return this.keys.webmailLogin(kind, scope, subject); }

  async check(address: string, ip: string): Promise<LoginGate> {
    const [acct, byIp] = await Promise.all([this.redis.pttl(this.key("lock", "acct", address)), this.redis.pttl(this.key("lock", "ip", ip))]);
    if (byIp > 0) return { allowed: false, retryAfterMs: byIp, scope: "ip" };
    if (acct > 0) return { allowed: false, retryAfterMs: acct, scope: "account" };
    return { allowed: true };
  }

  /** Counts one failure; returns which lock (if any) it has just set. */
  async failure(address: string, ip: string): Promise<{ lockedAccount: boolean; lockedIp: boolean }> {
    const count = async (scope: "acct" | "ip", subject: string, max: number): Promise<boolean> => {
      const key = this.key("fail", scope, subject);
      const res = await this.redis.multi().incr(key).pexpire(key, this.opts.failureWindow, "NX").exec();
      const n = Number(res?.[0]?.[1] ?? 0);
      if (n < max) return false;
      await this.redis.multi().set(this.key("lock", scope, subject), "1", "PX", this.opts.lockout).del(key).exec();
      return true;
    };
    const [lockedAccount, lockedIp] = await Promise.all([count("acct", address, this.opts.maxFailuresPerAccount), count("ip", ip, this.opts.maxFailuresPerIp)]);
    return { lockedAccount, lockedIp };
  }

  /** A correct password clears the account's failures (not the IP's). */
  async success(address: string): Promise<void> {
    await this.redis.del(this.key("fail", "acct", address));
  }
}

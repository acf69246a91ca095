/**
 * Login rate limiting and temporary lock-out, counted in Redis (so every node agrees):
 * failed logins per account and per client IP within `failureWindow`; past
 * `maxFailuresPerAccount` the account is locked for `lockout` from everywhere, past
 * `maxFailuresPerIp` the IP is locked for every account. Addresses that do not exist are
 * counted the same way, so a lock-out reveals nothing about which accounts exist. Keys:
 * Keyspace.webmailLogin (`fail`/`lock` per `acct`/`ip`, subjects hashed).
 *
 * An attempt is counted as a failure BEFORE the password is hashed (`reserve`, one Lua script:
 * check the locks, then INCR both counters), so parallel guesses cannot all pass the check
 * while the first ones are still hashing: once `max` attempts are reserved or spent, the next
 * is refused without any scrypt work. A correct password gives its reservation back
 * (`success`: the account's failures are cleared, the IP's count goes down by one); a wrong
 * one keeps it and sets the lock when it was the attempt that reached the limit (`failure`).
 * If a node dies mid-check its reservation stays until `failureWindow` ends (fails closed).
 */
import type { Redis } from "ioredis";
import { LuaScript } from "../redis/lua-script.js";
import type { Keyspace } from "../redis/keyspace.js";
import type { WebmailConfig } from "../config/webmail-schema.js";

export type LoginRefusal = { allowed: false; retryAfterMs: number; scope: "account" | "ip" };
/** A reserved attempt: its place in the account's and the IP's failure counts. */
export type LoginAttempt = { allowed: true; address: string; ip: string; accountCount: number; ipCount: number };
export type LoginGate = LoginAttempt | LoginRefusal;

/**
 * KEYS: lock:acct, lock:ip, fail:acct, fail:ip. ARGV: maxFailuresPerAccount, maxFailuresPerIp,
 * failureWindow ms, lockout ms. Returns {"ip"|"account", retry ms} when refused (a lock is set,
 * or the limit is already taken by attempts that are still being checked; nothing is counted),
 * else {"ok", account count, ip count} with both counters incremented.
 */
const RESERVE = new LuaScript(`
local lockIp = redis.call('PTTL', KEYS[2])
if lockIp > 0 then return {'ip', lockIp} end
local lockAcct = redis.call('PTTL', KEYS[1])
if lockAcct > 0 then return {'account', lockAcct} end
local a = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3], 'NX')
local i = redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], ARGV[3], 'NX')
if i > tonumber(ARGV[2]) or a > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[3])
  redis.call('DECR', KEYS[4])
  if i > tonumber(ARGV[2]) then return {'ip', tonumber(ARGV[4])} end
  return {'account', tonumber(ARGV[4])}
end
return {'ok', a, i}
`);

/** KEYS: fail:ip. Gives one reserved attempt back to the IP's count (never below zero). */
const RELEASE_IP = new LuaScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return n
`);

export class LoginLimiter {
  /** `keyOf`: where the counters live (the admin console counts its own, Keyspace.consoleLogin). */
  constructor(private readonly redis: Redis, private readonly keys: Keyspace, private readonly opts: WebmailConfig["login"],
              private readonly keyOf: (kind: "fail" | "lock", scope: "acct" | "ip", subject: string) => string = (k, s, x) => keys.webmailLogin(k, s, x)) {}

  private key(kind: "fail" | "lock", scope: "acct" | "ip", subject: string): string { return this.keyOf(kind, scope, subject); }

  /** Refuses when locked (or when the limit is already taken); else counts this attempt as a failure now. */
  async reserve(address: string, ip: string): Promise<LoginGate> {
    const o = this.opts;
    const res = await RESERVE.run(this.redis,
      [this.key("lock", "acct", address), this.key("lock", "ip", ip), this.key("fail", "acct", address), this.key("fail", "ip", ip)],
      [o.maxFailuresPerAccount, o.maxFailuresPerIp, o.failureWindow, o.lockout]) as [string, number, number?];
    if (res[0] === "ok") return { allowed: true, address, ip, accountCount: Number(res[1]), ipCount: Number(res[2]) };
    return { allowed: false, retryAfterMs: Number(res[1]), scope: res[0] === "ip" ? "ip" : "account" };
  }

  /** The reserved attempt was wrong: it stays counted; returns which lock (if any) it has just set. */
  async failure(attempt: LoginAttempt): Promise<{ lockedAccount: boolean; lockedIp: boolean }> {
    const lock = async (scope: "acct" | "ip", subject: string, reached: boolean): Promise<boolean> => {
      if (!reached) return false;
      await this.redis.multi().set(this.key("lock", scope, subject), "1", "PX", this.opts.lockout).del(this.key("fail", scope, subject)).exec();
      return true;
    };
    const [lockedAccount, lockedIp] = await Promise.all([
      lock("acct", attempt.address, attempt.accountCount >= this.opts.maxFailuresPerAccount),
      lock("ip", attempt.ip, attempt.ipCount >= this.opts.maxFailuresPerIp),
    ]);
    return { lockedAccount, lockedIp };
  }

  /** A correct password clears the account's failures and gives the IP its reserved attempt back. */
  async success(attempt: LoginAttempt): Promise<void> {
    await Promise.all([this.redis.del(this.key("fail", "acct", attempt.address)), RELEASE_IP.run(this.redis, [this.key("fail", "ip", attempt.ip)])]);
  }
}

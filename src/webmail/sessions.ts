/**
 * Webmail sessions in Redis. The cookie holds a random 256-bit token; Redis holds only its
 * SHA-256 (Keyspace.webmailSession), so a Redis dump does not hand out sessions.
 * Each session has its CSRF token, the address, and a stamp of the password it was opened
 * with (a changed or removed password ends it). It ends after `sessionIdle` unused or
 * `sessionMax` after login, whichever is first; logout deletes it.
 */
import crypto from "node:crypto";
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";

export interface Session {
  address: string;
  csrf: string;
  credential: string;
  mustChangePassword: boolean;
  createdAt: number;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export class Sessions {
  /** `keyOf`: where a token's session lives (the admin console keeps its own, Keyspace.consoleSession). */
  constructor(private readonly redis: Redis, private readonly keys: Keyspace, private readonly idleMs: number, private readonly maxMs: number,
              private readonly keyOf: (token: string) => string = (t) => keys.webmailSession(t)) {}

  private key(token: string): string { return this.keyOf(token); }

  async create(address: string, credential: string, mustChangePassword: boolean): Promise<{ token: string; session: Session }> {
    const token = crypto.randomBytes(32).toString("base64url");
    const session: Session = { address, csrf: crypto.randomBytes(24).toString("base64url"), credential, mustChangePassword, createdAt: Date.now() };
    await this.redis.multi()
      .hset(this.key(token), { address, csrf: session.csrf, credential, mustChangePassword: mustChangePassword ? "1" : "0", createdAt: String(session.createdAt) })
      .pexpire(this.key(token), Math.min(this.idleMs, this.maxMs))
      .exec();
    return { token, session };
  }

  /** The live session for a cookie value, its idle timer restarted; null when none. */
  async get(token: string | undefined): Promise<Session | null> {
    if (!token || !TOKEN.test(token)) return null;
    const key = this.key(token);
    const h = await this.redis.hgetall(key);
    if (!h.address) return null;
    const createdAt = Number(h.createdAt);
    const left = createdAt + this.maxMs - Date.now();
    if (!(left > 0)) { await this.redis.del(key); return null; }
    await this.redis.pexpire(key, Math.min(this.idleMs, left));
    return { address: h.address, csrf: h.csrf, credential: h.credential, mustChangePassword: h.mustChangePassword === "1", createdAt };
  }

  async destroy(token: string | undefined): Promise<void> {
    if (token && TOKEN.test(token)) await this.redis.del(this.key(token));
  }
}

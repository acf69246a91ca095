/**
 * What mxspool knows about recipients of `verify` domains, kept in Redis so every node
 * shares it: "ok" (the primary accepted them: cached for days) or "bad" (the primary said
 * no such user: cached for hours). Filled by RCPT callouts and by every delivery result.
 */
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";

export type Known = "ok" | "bad" | null;

export class RecipientCache {
  constructor(private readonly redis: Redis, private readonly keys: Keyspace) {}

  private key(domain: string, address: string): string { return this.keys.recipientCache(domain, address); }

  async get(domain: string, address: string): Promise<Known> {
    const v = await this.redis.get(this.key(domain, address));
    return v === "ok" || v === "bad" ? v : null;
  }

  async set(domain: string, address: string, value: "ok" | "bad", ttlMs: number): Promise<void> {
    await this.redis.set(this.key(domain, address), value, "PX", ttlMs);
  }
}

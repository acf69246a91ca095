/**
 * What mxspool knows about recipients of `verify` domains, kept in Redis so every node
 * shares it: "ok" (the primary accepted them: cached for days) or "bad" (the primary said
 * no such user: cached for hours). Filled by RCPT callouts and by every delivery result.
 */
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";
import type { Config } from "../config/schema.js";
import { isVerify } from "../../policies/recipients.js";
import type { RecipientFact } from "../../policies/primary-reply.js";

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

/** Where delivery results go to keep the cache fresh: what the primary said about a recipient. */
export interface RecipientLearner {
  learned(domain: string, rcpt: string, fact: RecipientFact): Promise<void>;
}

/** The cache as a learner: only `verify` domains keep what deliveries teach, for their TTLs. */
export class RecipientLearning implements RecipientLearner {
  constructor(private readonly cache: RecipientCache, private readonly domains: Config["domains"]) {}

  async learned(domain: string, rcpt: string, fact: RecipientFact): Promise<void> {
    const v = this.domains[domain]?.recipients;
    if (!isVerify(v)) return;
    await this.cache.set(domain, rcpt, fact, fact === "ok" ? v.positiveTtl : v.negativeTtl);
  }
}

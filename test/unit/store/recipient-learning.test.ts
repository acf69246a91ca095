import { describe, expect, it } from "vitest";
import { RecipientLearning, type RecipientCache } from "../../../src/store/recipient-cache.js";
import type { Config } from "../../../src/config/schema.js";

/** A cache that records what it was told to keep, in place of Redis. */
function recordingCache() {
  const kept: [string, string, string, number][] = [];
  const cache = { async set(domain: string, rcpt: string, value: string, ttlMs: number) { kept.push([domain, rcpt, value, ttlMs]); } };
  return { kept, cache: cache as unknown as RecipientCache };
}

const domains = {
  "verify.test": { primary: ["127.0.0.1:25"], recipients: { verify: true, whenUnknown: "defer", positiveTtl: 86_400_000, negativeTtl: 3_600_000, calloutTimeout: 5000 } },
  "open.test": { primary: ["127.0.0.1:25"], recipients: "*" },
} as unknown as Config["domains"];

describe("what deliveries teach the recipient cache", () => {
  it.each([
    ["a recipient the primary took, for the positive TTL", "verify.test", "ok", [["verify.test", "a@verify.test", "ok", 86_400_000]]],
    ["a recipient the primary denied, for the negative TTL", "verify.test", "bad", [["verify.test", "a@verify.test", "bad", 3_600_000]]],
    ["nothing for a domain that does not verify recipients", "open.test", "ok", []],
    ["nothing for a domain that is not configured", "other.test", "bad", []],
  ])("keeps %s", async (_label, domain, fact, expected) => {
    const { kept, cache } = recordingCache();
    await new RecipientLearning(cache, domains).learned(domain as string, `a@${domain}`, fact as "ok" | "bad");
    expect(kept).toEqual(expected);
  });
});

/**
 * Queue ids from a pool of random bytes (src/mail/queue-id.ts): 100k ids are all distinct,
 * 20 characters of the id alphabet, sorted by their time; the random bytes are fetched in
 * blocks, not one randomBytes call per id; and every character of the alphabet is about
 * equally likely (no `b % 33` bias).
 */
import { describe, expect, it, vi } from "vitest";

const calls = vi.hoisted(() => ({ randomBytes: 0 }));
vi.mock("node:crypto", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:crypto")>();
  return { ...real, randomBytes: (n: number) => { calls.randomBytes++; return real.randomBytes(n); } };
});

const { newQueueId, QUEUE_ID_PATTERN, baseId } = await import("../../../src/mail/queue-id.js");

const ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTVWXYZ";
const N = 100_000;

describe("queue ids from a random pool", () => {
  const T0 = 1_700_000_000_000;
  const before = calls.randomBytes;
  const ids = Array.from({ length: N }, (_, i) => newQueueId(T0 + Math.floor(i / 10)));
  const fetched = calls.randomBytes - before;

  it("are unique over 100k ids", () => {
    expect(new Set(ids).size).toBe(N);
  });

  it("are 20 characters: 10 of base-36 time, 10 of the alphabet (no I, O, U), and sort by time", () => {
    const form = new RegExp(`^[0-9A-Z]{10}[${ALPHABET}]{10}$`);
    expect(ids.filter((id) => !QUEUE_ID_PATTERN.test(id) || !form.test(id) || baseId(id) !== id)).toEqual([]);
    expect(ids[0]!.slice(0, 10)).toBe(T0.toString(36).toUpperCase().padStart(10, "0"));
    const times = ids.map((id) => id.slice(0, 10));
    expect([...times].sort()).toEqual(times);
  });

  it("takes the random bytes in blocks, not one randomBytes call per id", () => {
    // 10 bytes per id and ~10% skipped: about 1.1 MB in 4 KiB blocks
    expect(fetched).toBeGreaterThan(0);
    expect(fetched).toBeLessThan(N / 100);
  });

  it("draws every character about equally often (no modulo bias)", () => {
    const seen = new Map<string, number>();
    for (const id of ids) for (const c of id.slice(10)) seen.set(c, (seen.get(c) ?? 0) + 1);
    expect(seen.size).toBe(ALPHABET.length);
    const counts = [...seen.values()];
    // 1M characters, ~30,300 each (σ ≈ 170): a plain b % 33 gives 8:7 (1.14) between the first 25 and the last 8
    expect(Math.max(...counts) / Math.min(...counts)).toBeLessThan(1.06);
  });
});

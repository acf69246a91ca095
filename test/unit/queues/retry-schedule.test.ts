import { describe, expect, it } from "vitest";
import { isExpired, retryDelay } from "../../../queues/retry-schedule.js";

const p = { first: 300_000, max: 3_600_000, factor: 2 };
const noJitter = () => 0.5;

describe("retry schedule", () => {
  it("starts at 5 minutes, doubles, and caps at an hour", () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => retryDelay(n, p, noJitter))).toEqual([300_000, 600_000, 1_200_000, 2_400_000, 3_600_000, 3_600_000, 3_600_000]);
  });
  it("jitters by at most 10% and never past the cap", () => {
    expect(retryDelay(1, p, () => 0)).toBe(270_000);
    expect(retryDelay(1, p, () => 0.999999)).toBeLessThanOrEqual(330_000);
    expect(retryDelay(9, p, () => 0.999999)).toBe(3_600_000);
  });
  it("expires a message at maxLifetime", () => {
    expect(isExpired(0, 1000, 999)).toBe(false);
    expect(isExpired(0, 1000, 1000)).toBe(true);
  });
});

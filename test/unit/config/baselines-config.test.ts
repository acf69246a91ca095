/** `baselines`: the traffic series' defaults, and the bucket lengths refused (naming the key). */
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../../src/config/load.js";

const minimal = { domains: { "example.com": { primary: ["10.0.0.1:25"] } } };
const problems = (baselines: unknown): string[] => {
  try { parseConfig({ ...minimal, baselines }); return []; } catch (err) { if (err instanceof ConfigError) return err.problems; throw err; }
};

describe("baselines config", () => {
  it("is on with no config: 5-minute buckets kept 8 weeks, the queue sampled each minute", () => {
    expect(parseConfig(minimal).baselines).toEqual({ bucket: 300_000, retention: 56 * 86_400_000, queueSample: 60_000 });
  });

  it.each([["1m", 60_000], ["10m", 600_000], ["15m", 900_000], ["1h", 3_600_000]])("takes bucket %s", (bucket, ms) => {
    expect(parseConfig({ ...minimal, baselines: { bucket } }).baselines.bucket).toBe(ms);
  });

  it.each(["30s", "7m", "25m", "2h", "soon"])("refuses bucket %s, naming baselines.bucket", (bucket) => {
    const p = problems({ bucket });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/baselines\.bucket/);
  });

  it("refuses an unknown key under baselines", () => {
    expect(problems({ buckets: "5m" }).join(" ")).toMatch(/buckets/);
  });
});

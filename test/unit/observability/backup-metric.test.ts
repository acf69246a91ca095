import { describe, expect, it } from "vitest";
import { Metrics } from "../../../src/observability/metrics.js";

describe("mxspool_backup_deferred_total", () => {
  it("reports the backup-traffic deferrals per domain from the Redis snapshot", async () => {
    const text = await new Metrics().render({
      counters: {}, rejected: {}, backupDeferred: { "example.test": 7, "other.test": 1 }, queue: {}, attempts: {}, latency: {}, primaries: [], scanners: [],
    });
    expect(text).toContain('mxspool_backup_deferred_total{domain="example.test"} 7');
    expect(text).toContain('mxspool_backup_deferred_total{domain="other.test"} 1');
  });
});

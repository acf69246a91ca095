/** RepeatedErrors: a storm of identical error lines becomes the first line and a count every period. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RepeatedErrors } from "../../../src/observability/repeated-errors.js";
import type { Logger } from "../../../src/observability/log.js";

function recorder() {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const log = {
    error: (fields: Record<string, unknown>, msg: string) => lines.push({ level: "error", fields, msg }),
    warn: (fields: Record<string, unknown>, msg: string) => lines.push({ level: "warn", fields, msg }),
  } as unknown as Logger;
  return { log, lines };
}

describe("RepeatedErrors", () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it("logs the first of 100 identical errors, then one line with the count per period", () => {
    const { log, lines } = recorder();
    const r = new RepeatedErrors(log, 10_000);
    for (let i = 0; i < 100; i++) r.error({ event: "REDIS_UNREACHABLE", err: "connect ECONNREFUSED" }, "Redis connection error");
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: "error", fields: { event: "REDIS_UNREACHABLE", err: "connect ECONNREFUSED", repeated: 99 } });
    expect(lines[1].msg).toMatch(/repeated 99 times/);
  });

  it("logs errors that differ in any field as new ones", () => {
    const { log, lines } = recorder();
    const r = new RepeatedErrors(log, 10_000);
    r.error({ event: "WORKER_ERROR", domain: "a.test", err: "x" }, "worker error");
    r.error({ event: "WORKER_ERROR", domain: "b.test", err: "x" }, "worker error");
    r.error({ event: "WORKER_ERROR", domain: "a.test", err: "y" }, "worker error");
    (r.warn as (f: object, m: string) => void)({ event: "WORKER_ERROR", domain: "a.test", err: "x" }, "worker error"); // same fields, other level
    expect(lines).toHaveLength(4);
  });

  it("forgets an error after a quiet period, so that its return is logged in full", () => {
    const { log, lines } = recorder();
    const r = new RepeatedErrors(log, 10_000);
    r.error({ event: "REDIS_UNREACHABLE" }, "m");
    vi.advanceTimersByTime(20_000); // nothing repeated: no summary, forgotten
    expect(lines).toHaveLength(1);
    r.error({ event: "REDIS_UNREACHABLE" }, "m");
    expect(lines).toHaveLength(2);
    expect(lines[1].fields.repeated).toBeUndefined();
  });

  it("says the pending count on flush, before the process exits", () => {
    const { log, lines } = recorder();
    const r = new RepeatedErrors(log, 10_000);
    r.error({ event: "REDIS_UNREACHABLE" }, "m");
    r.error({ event: "REDIS_UNREACHABLE" }, "m");
    r.error({ event: "QUEUE_ERROR" }, "n");
    r.flush();
    expect(lines.map((l) => l.fields.repeated)).toEqual([undefined, undefined, 1]);
    vi.advanceTimersByTime(30_000);
    expect(lines).toHaveLength(3);
  });
});

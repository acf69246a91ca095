import { describe, expect, it } from "vitest";
import { initialPace, isBusyReply, nextPace } from "../../../policies/drain-pace.js";

const quiet = { ok: 10, busy: 0, avgLatencyMs: 50 };

describe("drain pace", () => {
  it("starts at one connection and doubles to the maximum", () => {
    let s = initialPace();
    const seen = [s.concurrency];
    for (let i = 0; i < 6; i++) { s = nextPace(s, quiet, 20, 10_000); seen.push(s.concurrency); }
    expect(seen).toEqual([1, 2, 4, 8, 16, 20, 20]);
  });
  it("halves on a busy signal or slow replies, then grows by one", () => {
    let s = { concurrency: 16, slowStart: true };
    s = nextPace(s, { ok: 3, busy: 1, avgLatencyMs: 50 }, 20, 10_000);
    expect(s).toEqual({ concurrency: 8, slowStart: false });
    s = nextPace(s, quiet, 20, 10_000);
    expect(s.concurrency).toBe(9);
    s = nextPace(s, { ok: 5, busy: 0, avgLatencyMs: 12_000 }, 20, 10_000);
    expect(s.concurrency).toBe(4);
    expect(nextPace({ concurrency: 1, slowStart: false }, { ok: 0, busy: 3, avgLatencyMs: 0 }, 20, 10_000).concurrency).toBe(1);
  });
  it("keeps the pace when nothing was delivered", () => {
    expect(nextPace({ concurrency: 5, slowStart: false }, { ok: 0, busy: 0, avgLatencyMs: 0 }, 20, 1000)).toEqual({ concurrency: 5, slowStart: false });
  });
  it.each([[421, "4.7.0 too busy", true], [451, "4.3.2 System busy, try again later", true], [451, "4.7.1 greylisted", false], [550, "5.1.1 unknown", false], [undefined, "Timeout", true], [250, "ok", false]] as const)("%s %j busy=%s", (code, text, busy) => {
    expect(isBusyReply(code, text)).toBe(busy);
  });
});

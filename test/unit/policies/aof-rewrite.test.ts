import { describe, expect, it } from "vitest";
import { AOF_REWRITE_MIN_BYTES, aofRewriteDue } from "../../../policies/aof-rewrite.js";

const MiB = 1024 * 1024;

describe("when the embedded Redis's AOF is rewritten", () => {
  it.each([
    // AOF, live (dataset), busy, due
    [0, 0, false, false],
    [63 * MiB, 0, false, false], // drained, but the file is still small
    [AOF_REWRITE_MIN_BYTES, 0, false, true], // drained: all of it dead
    [110 * MiB, 120 * MiB, false, false], // a growing spool: the AOF is its live data (0.9×)
    [2_000 * MiB, 2_200 * MiB, false, false], // a weekend's spool, still growing: never rewritten
    [150 * MiB, 80 * MiB, false, false], // 70 MiB dead < 80 MiB live
    [170 * MiB, 80 * MiB, false, true], // 90 MiB dead ≥ 80 MiB live
    [100 * MiB, 30 * MiB, false, true], // 70 MiB dead ≥ the minimum, more than the live
    [4_000 * MiB, 1_000 * MiB, true, false], // a rewrite already runs (or the AOF loads)
  ])("AOF %i bytes, live %i, busy %s: due %s", (aofBytes, liveBytes, busy, due) => {
    expect(aofRewriteDue({ aofBytes, liveBytes, busy })).toBe(due);
  });
});

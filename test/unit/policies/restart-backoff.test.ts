import { describe, expect, it } from "vitest";
import { initialRestart, nextRestart, RESTART_HEALTHY_MS } from "../../../policies/restart-backoff.js";

describe("worker restart back-off", () => {
  it("doubles from 200 ms for a process that keeps dying, and stays at 10 s", () => {
    let s = initialRestart();
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) { const r = nextRestart(s, 1000); delays.push(r.delayMs); s = r.state; }
    expect(delays).toEqual([200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]);
  });
  it.each([
    // failures so far, up for, delay
    [0, 0, 200],
    [3, 59_999, 1600],
    [3, RESTART_HEALTHY_MS, 200], // up a minute: healthy again
    [20, 5_000, 10_000],
    [20, 3_600_000, 200],
  ])("after %i deaths, a death %i ms after its fork waits %i ms", (failures, upMs, delay) => {
    expect(nextRestart({ failures }, upMs).delayMs).toBe(delay);
  });
});

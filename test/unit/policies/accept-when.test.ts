import { describe, expect, it } from "vitest";
import { acceptWhen, backupTrafficCrossed, type AcceptWhenFacts } from "../../../policies/accept-when.js";

const base: AcceptWhenFacts = {
  acceptWhen: "primaryDown", domain: "example.test", address: "a@example.test", primary: "up", probeAgeMs: 500, staleAfterMs: 5000,
};
const DEFER = [450, "4.7.1", "backup-deferred"];

describe("acceptWhen: whether a recipient of a backup-only domain is accepted at RCPT", () => {
  it.each([
    ["always, primary up", { acceptWhen: "always" }, null],
    ["always, primary down", { acceptWhen: "always", primary: "down" }, null],
    ["always, state unknown", { acceptWhen: "always", primary: "unknown", probeAgeMs: undefined }, null],
    ["primaryDown, primary up (fresh probe): defer", {}, DEFER],
    ["primaryDown, primary up, probe just at the staleness limit: defer", { probeAgeMs: 5000 }, DEFER],
    ["primaryDown, primary down: accept", { primary: "down" }, null],
    ["primaryDown, no probe yet (just started): accept", { primary: "unknown", probeAgeMs: undefined }, null],
    ["primaryDown, 'up' but never probed (no lastProbe): accept", { probeAgeMs: undefined }, null],
    ["primaryDown, 'up' from a stale probe (monitor stopped): accept", { probeAgeMs: 5001 }, null],
    ["primaryDown, down from a stale probe: accept", { primary: "down", probeAgeMs: 60_000 }, null],
  ])("%s", (_label, over, expected) => {
    const r = acceptWhen({ ...base, ...over } as AcceptWhenFacts);
    if (expected === null) return expect(r).toBeNull();
    expect([r?.code, r?.enhanced, r?.reason]).toEqual(expected);
    expect(r?.text).toBe("<a@example.test>: Recipient address rejected: backup MX only while the primary MX of example.test is up; deliver to the primary, try again later");
  });
});

describe("backup traffic: when the deferrals in a window make an event", () => {
  it.each([
    [0, 20, false], [19, 20, false], [20, 20, true], [21, 20, false], [1, 1, true], [5, 0, false],
  ])("%i deferrals, threshold %i → %s", (count, threshold, crossed) => {
    expect(backupTrafficCrossed(count, threshold)).toBe(crossed);
  });
});

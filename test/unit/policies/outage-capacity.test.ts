import { describe, expect, it } from "vitest";
import { outageCapacity, type CapacityFacts } from "../../../policies/outage-capacity.js";

const GiB = 1024 ** 3;
const base: CapacityFacts = { usedMemory: 1 * GiB, maxMemory: 4 * GiB, systemMemory: 16 * GiB, bytesPerQueuedMessage: 50_000, acceptedInWindow: 48_000, windowHours: 24 };

describe("how long an outage still fits in Redis", () => {
  it.each([
    ["under maxmemory: 3 GiB left at 50 KB a message and 2,000 an hour", {}, { limitFrom: "maxmemory", freeBytes: 3 * GiB, messagesLeft: 64_424, acceptedPerHour: 2000, outageHoursLeft: 32.2 }],
    ["without maxmemory, the machine's memory is the limit", { maxMemory: 0 }, { limitFrom: "system", limitBytes: 16 * GiB, freeBytes: 15 * GiB, outageHoursLeft: 161.1 }],
    ["nothing queued to measure: no guess", { bytesPerQueuedMessage: null }, { bytesPerQueuedMessage: null, messagesLeft: null, outageHoursLeft: null }],
    ["no mail in the window: no rate, no hours", { acceptedInWindow: 0 }, { acceptedPerHour: 0, outageHoursLeft: null }],
    ["already over the limit: nothing left", { usedMemory: 5 * GiB }, { freeBytes: 0, messagesLeft: 0, outageHoursLeft: 0 }],
    ["a shorter window (short retention) scales the rate", { acceptedInWindow: 1000, windowHours: 2 }, { acceptedPerHour: 500, outageHoursLeft: 128.8 }],
  ])("%s", (_label, facts, expected) => {
    expect(outageCapacity({ ...base, ...facts as Partial<CapacityFacts> })).toMatchObject(expected);
  });
});

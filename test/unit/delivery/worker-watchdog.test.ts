import { describe, expect, it } from "vitest";
import { workerStalled, type WatchFacts } from "../../../src/delivery/worker-watchdog.js";

const busy: WatchFacts = { running: true, ready: 0, inFlight: 0, startedSince: 0, idleChecks: 0 };

describe("the worker watchdog: when a worker has stopped fetching", () => {
  it.each([
    ["nothing waiting", {}, false, 0],
    ["a worker that is not running", { running: false }, true, 0],
    ["jobs waiting, first idle check", { ready: 5 }, false, 1],
    ["jobs waiting, second idle check in a row", { ready: 5, idleChecks: 1 }, true, 0],
    ["jobs waiting but one started since the last check", { ready: 5, idleChecks: 1, startedSince: 1 }, false, 0],
    ["jobs waiting while all its slots deliver", { ready: 5, idleChecks: 1, inFlight: 10 }, false, 0],
    ["the queue emptied after an idle check", { idleChecks: 1 }, false, 0],
  ])("%s", (_label, over, recreate, idleChecks) => {
    expect(workerStalled({ ...busy, ...over })).toEqual({ recreate, idleChecks });
  });
});

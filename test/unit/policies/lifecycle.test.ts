import { describe, expect, it } from "vitest";
import { lifecycleNext } from "../../../policies/lifecycle.js";

describe("supervisor lifecycle", () => {
  it.each([
    ["starting", "started", "running", "log-ready"],
    ["starting", "stop-requested", "stopping", "abort-start"],
    ["starting", "start-failed", "stopping", "stop-failed-start"],
    ["starting", "worker-exited", "starting", "restart-worker"],
    ["running", "stop-requested", "stopping", "stop"],
    ["running", "worker-exited", "running", "restart-worker"],
    ["running", "start-failed", "running", "none"], // a late report after READY changes nothing
    ["stopping", "stop-requested", "stopping", "none"], // a second SIGTERM or SIGINT
    ["stopping", "started", "stopping", "none"], // no READY after the stop began
    ["stopping", "start-failed", "stopping", "none"], // a step aborted by the stop is not a failed start
    ["stopping", "worker-exited", "stopping", "none"], // no restart while stopping
    ["stopping", "stop-done", "stopped", "exit"],
    ["stopped", "stop-requested", "stopped", "none"],
  ] as const)("%s + %s → %s (%s)", (state, event, next, action) => {
    expect(lifecycleNext(state, event)).toEqual({ state: next, action });
  });
});

/**
 * The continuity conditions as verdicts, from tables of facts: when each event opens
 * (active) and what it says.
 */
import { describe, expect, it } from "vitest";
import { aofProblem, certExpiry, queueStale, redisMemory, scannerDown } from "../../../src/continuity/conditions.js";

const NOW = 1_800_000_000_000;
const H = 3_600_000;

describe("continuity conditions", () => {
  it.each([
    ["up, oldest 2 h, threshold 1 h", true, NOW - 2 * H, true],
    ["up, oldest 30 min", true, NOW - H / 2, false],
    ["down, oldest 2 h (an outage, not a stale queue)", false, NOW - 2 * H, false],
    ["up, nothing waiting", true, undefined, false],
  ] as const)("queue-stale: %s → %s", (_name, up, oldest, active) => {
    expect(queueStale("example.test", up, oldest, H, NOW)).toMatchObject({ kind: "queue-stale", domain: "example.test", active });
  });

  it.each([
    ["every process sees clamd down", [["clamd", ["down", "down"]]], ["clamd"]],
    ["one process still reaches it", [["clamd", ["down", "up"]]], []],
    ["spamd down, clamd up", [["clamd", ["up"]], ["spamd", ["down"]]], ["spamd"]],
    ["no report", [], []],
  ] as const)("scanner-down: %s", (_name, states, down) => {
    const v = scannerDown(new Map(states.map(([n, s]) => [n, [...s]])));
    expect(v).toMatchObject({ kind: "scanner-down", active: down.length > 0, data: { down } });
  });

  it.each([
    [900, 1000, 80, true],
    [790, 1000, 80, false],
    [800, 1000, 80, true],
    [900, 0, 80, false], // no limit known
  ])("redis-memory: %d of %d at %d%% → %s", (used, limit, pct, active) => {
    expect(redisMemory(used, limit, pct).active).toBe(active);
  });

  it.each([
    ["all ok", { aofEnabled: true, aofWrite: "ok", aofRewrite: "ok", rdbSave: "ok" }, []],
    ["AOF write failed (disk full)", { aofEnabled: true, aofWrite: "err", aofRewrite: "ok", rdbSave: "ok" }, ["AOF write err"]],
    ["AOF off: its old status does not count", { aofEnabled: false, aofWrite: "err", rdbSave: "ok" }, []],
    ["snapshot failed", { aofEnabled: false, rdbSave: "err" }, ["snapshot err"]],
  ] as const)("aof: %s", (_name, p, failed) => {
    expect(aofProblem(p)).toMatchObject({ kind: "aof", active: failed.length > 0, data: { failed } });
  });

  it.each([
    [3, 14, true],
    [30, 14, false],
    [-1, 14, true],
  ])("cert-expiry: %d days left, threshold %d → %s", (days, threshold, active) => {
    const v = certExpiry("/etc/cert.pem", NOW + days * 86_400_000 + 1000, threshold, NOW);
    expect(v).toMatchObject({ kind: "cert-expiry", active });
    expect(v.summary).toContain(active ? "expires" : "valid");
  });
});

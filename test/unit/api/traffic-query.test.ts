/**
 * GET /api/traffic's query from tables: defaults, the forms of from/to/step, and every
 * refusal naming its parameter (the code and the message), including the bound on points.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_METRICS, MAX_POINTS, parseInstant, parseTrafficQuery } from "../../../src/api/traffic-routes.js";

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const O = { domains: ["example.test", "other.test"], bucketMs: 300_000, now: NOW };
const parse = (qs: string) => parseTrafficQuery(new URLSearchParams(qs), O);

describe("parseInstant", () => {
  it.each([
    ["1700000000000", 1_700_000_000_000],
    ["2026-12-07T11:00:00Z", NOW - 3_600_000],
    ["24h", NOW - 86_400_000],
    ["-90m", NOW - 5_400_000],
    ["soon", null],
    ["2026-13-45", null],
  ])("%s → %s", (text, at) => {
    expect(parseInstant(text, NOW)).toBe(at);
  });
});

describe("parseTrafficQuery", () => {
  it("defaults to the last day at the bucket, every usual metric", () => {
    expect(parse("domain=Example.TEST")).toEqual({ ok: true, value: { domain: "example.test", from: NOW - 86_400_000, to: NOW, step: 300_000, metrics: DEFAULT_METRICS } });
  });

  it.each([
    ["domain=*&step=1h&from=6h", { domain: "*", from: NOW - 6 * 3_600_000, to: NOW, step: 3_600_000 }],
    ["domain=other.test&step=600000&from=1700000000000&to=1700003600000", { domain: "other.test", from: 1_700_000_000_000, to: 1_700_003_600_000, step: 600_000 }],
    ["domain=example.test&metrics=accepted,rejected.unknown-recipient,rejected", { metrics: ["accepted", "rejected.unknown-recipient", "rejected"] }],
    ["domain=example.test&metrics=queue,queue", { metrics: ["queue"] }],
  ])("%s", (qs, expected) => {
    const r = parse(qs);
    expect(r.ok && r.value).toMatchObject(expected);
  });

  it.each([
    ["", "INVALID_DOMAIN", "domain is required"],
    ["domain=nope.test", "INVALID_DOMAIN", "domain \"nope.test\""],
    ["domain=example.test&step=7m", "INVALID_STEP", "step \"7m\" must be a multiple"],
    ["domain=example.test&step=0", "INVALID_STEP", "step"],
    ["domain=example.test&step=abc", "INVALID_STEP", "step"],
    ["domain=example.test&from=yesterday", "INVALID_FROM", "from \"yesterday\""],
    ["domain=example.test&to=later", "INVALID_TO", "to \"later\""],
    ["domain=example.test&from=1h&to=2h", "INVALID_RANGE", "from must be before to"],
    ["domain=example.test&from=30d", "INVALID_RANGE", `at most ${MAX_POINTS}`],
    ["domain=example.test&metrics=accepted,frobs", "INVALID_METRICS", "metrics \"frobs\""],
    ["domain=example.test&metrics=", "INVALID_METRICS", "metrics"],
    ["domain=example.test&limit=3", "INVALID_PARAMETER", "unknown parameter \"limit\""],
    ["domain=example.test&domain=other.test", "INVALID_PARAMETER", "domain"],
  ])("refuses %j with %s", (qs, code, message) => {
    const r = parse(qs);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.kind).toBe("invalid");
      expect(r.code).toBe(code);
      expect(r.message).toContain(message);
    }
  });

  it("allows a week of buckets, not more", () => {
    expect(parse(`domain=example.test&from=${NOW - MAX_POINTS * 300_000}&to=${NOW}`).ok).toBe(true);
    expect(parse(`domain=example.test&from=${NOW - (MAX_POINTS + 1) * 300_000}&to=${NOW}`).ok).toBe(false);
  });
});

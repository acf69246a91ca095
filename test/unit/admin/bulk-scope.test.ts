import { describe, expect, it } from "vitest";
import { normaliseFilter, SINCE_FLOOR } from "../../../src/admin/bulk-scope.js";
import { parseBulk } from "../../../src/api/validate.js";

const DOMAINS = ["example.test", "other.test"];

describe("bulk scope: a filter that filters nothing is no filter", () => {
  it.each([
    ["nothing", {}, {}, true],
    ["blank q", { q: "" }, {}, true],
    ["whitespace q", { q: " " }, {}, true],
    ["tabs and newlines", { q: "\t\n \r" }, {}, true],
    ["whitespace from and q", { from: "  ", q: " " }, {}, true],
    ["null q", { q: null }, {}, true],
    ["empty array", { rcpt: [] }, {}, true],
    ["since 0", { since: 0 }, {}, true],
    ["since \"0\"", { since: "0" }, {}, true],
    ["since negative", { since: -86_400_000 }, {}, true],
    ["since \"-5\"", { since: "-5" }, {}, true],
    ["since the epoch as ISO", { since: "1970-01-01T00:00:00Z" }, {}, true],
    ["since 1 ms", { since: 1 }, {}, true],
    ["since the floor itself", { since: SINCE_FLOOR }, {}, true],
    ["since +Infinity", { since: Infinity }, {}, true],
    ["since NaN", { since: Number.NaN }, {}, true],
    ["blank since", { since: "  " }, {}, true],
    ["every void criterion at once", { q: " ", from: "", since: 0, state: " ", domain: "", rcpt: [] }, {}, true],
    ["a real q, trimmed", { q: "  Invoice.zip " }, { q: "Invoice.zip" }, false],
    ["a real q beside a blank one", { q: "virus", from: " " }, { q: "virus" }, false],
    ["since just after the floor", { since: SINCE_FLOOR + 1 }, { since: SINCE_FLOOR + 1 }, false],
    ["since yesterday as ISO", { since: "2026-11-21T00:00:00Z" }, { since: "2026-11-21T00:00:00Z" }, false],
    ["since in the far future (selects nothing, not everything)", { since: 32_503_680_000_000 }, { since: 32_503_680_000_000 }, false],
    ["unreadable since is kept for validation to refuse", { since: "yesterday" }, { since: "yesterday" }, false],
    ["a state", { state: "held" }, { state: "held" }, false],
    ["a domain", { domain: "example.test" }, { domain: "example.test" }, false],
  ] as [string, Record<string, unknown>, Record<string, unknown>, boolean][])("%s", (_name, raw, filter, everything) => {
    const n = normaliseFilter(raw);
    expect(n.filter).toEqual(filter);
    expect(n.selectsEverything).toBe(everything);
  });

  it("names the criteria it dropped", () => {
    expect(normaliseFilter({ q: " ", since: 0, state: "held" }).dropped).toEqual(["q", "since"]);
  });
});

describe("bulk request: everything only with \"all\": true", () => {
  const refusedForAll = [
    { action: "hold" },
    { action: "hold", filter: {} },
    { action: "hold", filter: { q: " " } },
    { action: "delete", filter: { since: 0 } },
    { action: "delete", filter: { since: -1 } },
    { action: "delete", filter: { since: "1970-01-01" } },
    { action: "release", filter: { q: "", from: "  " } },
    { action: "hold", filter: { q: " " }, all: false },
  ];
  it.each(refusedForAll.map((b) => [JSON.stringify(b), b]))("refuses %s, naming the all flag", (_s, body) => {
    const r = parseBulk(body, DOMAINS);
    expect(r.ok).toBe(false);
    if (!r.ok) { expect(r.code).toBe("INVALID_FILTER"); expect(r.message).toMatch(/"all": true/); expect(r.message).toMatch(/every message/); }
  });

  it.each([
    ["all alone", { action: "delete", all: true }, { all: true }],
    ["all with an empty filter", { action: "hold", all: true, filter: {} }, { all: true }],
    ["all with a filter of blanks", { action: "hold", all: true, filter: { q: " " } }, { all: true }],
    ["a real filter", { action: "hold", filter: { q: " Invoice ", since: 0 } }, { filter: { q: "Invoice" } }],
    ["since after the floor", { action: "hold", filter: { since: 1_800_000_000_000 } }, { filter: { since: 1_800_000_000_000 } }],
  ] as [string, unknown, unknown][])("accepts %s", (_name, body, scope) => {
    const r = parseBulk(body, DOMAINS);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.scope).toEqual(scope);
  });

  it.each([
    ["all with a narrowing filter", { action: "hold", all: true, filter: { state: "held" } }, "INVALID_FILTER"],
    ["all that is not a boolean", { action: "hold", all: "yes" }, "INVALID_BODY"],
    ["a filter that is an array", { action: "hold", filter: [] }, "INVALID_FILTER"],
    ["an unknown criterion", { action: "hold", filter: { until: 9e15 } }, "INVALID_FILTER"],
    ["a criterion of the wrong type", { action: "hold", filter: { q: 5 } }, "INVALID_FILTER"],
  ] as [string, unknown, string][])("refuses %s", (_name, body, code) => {
    const r = parseBulk(body, DOMAINS);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe(code);
  });
});

import { describe, expect, it } from "vitest";
import { foldHeader, spamHeaders, unscannedHeader } from "../../../policies/verdict-headers.js";

const lines = (h: string) => h.slice(0, -2).split("\r\n");

describe("verdict headers", () => {
  it("folds long headers at spaces, under 78 characters per line", () => {
    const h = foldHeader("X-Spam-Status", ["Yes,", "score=12.0", "required=5.0", ...Array.from({ length: 20 }, (_, i) => `RULE_NUMBER_${i},`)]);
    expect(h.endsWith("\r\n")).toBe(true);
    for (const [i, l] of lines(h).entries()) {
      expect(l.length).toBeLessThanOrEqual(78);
      if (i > 0) expect(l.startsWith("\t")).toBe(true);
    }
  });

  it("makes X-Spam-* lines from a score and rules: printable ASCII, CRLF, the 10 largest rules in the report", () => {
    const rules = Array.from({ length: 14 }, (_, i) => ({ name: `R_${i}`, score: i - 1.5, description: `rule ${i} \u00e9t\u00e9\r\nInjected: yes ${"long ".repeat(20)}` }));
    const h = spamHeaders(42.04, 5, rules);
    expect(h).toMatch(/^X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=42\.0 required=5\.0 tests=R_0,/);
    expect(h).toContain("X-Spam-Score: 42.0\r\n");
    for (const l of lines(h)) {
      expect(l).toMatch(/^[\x20-\x7e\t]*$/);
      expect(l).not.toMatch(/^Injected/);
    }
    const report = /X-Spam-Report: ([\s\S]*)$/.exec(h)![1];
    expect(report.match(/\* +-?\d+\.\d R_\d+/g)!.map((r) => r.split(" ").pop())).toEqual(["R_13", "R_12", "R_11", "R_10", "R_9", "R_8", "R_7", "R_6", "R_5", "R_4"]);
    for (const l of lines(h)) expect(l.length).toBeLessThanOrEqual(92);
  });

  it("leaves out the report when every rule scored zero, and names no tests as none", () => {
    expect(spamHeaders(5, 5, [{ name: "ZERO", score: 0, description: "zero" }])).not.toContain("X-Spam-Report");
    expect(spamHeaders(5, 5, [])).toContain("tests=none\r\n");
  });

  it("lists unscanned scanners with why", () => {
    expect(unscannedHeader([])).toBe("");
    expect(unscannedHeader([{ scanner: "clamav", why: "down" }, { scanner: "spamassassin", why: "timeout" }])).toBe("X-Mxspool-Unscanned: clamav (down), spamassassin (timeout)\r\n");
  });
});

import { describe, expect, it } from "vitest";
import { contentVerdict, type ScanResults, type ThresholdConfig } from "../../../policies/content-thresholds.js";
import type { SpamOutcome, VirusOutcome } from "../../../policies/scan-outcome.js";

const both: ThresholdConfig = { clamav: { onError: "tempfail" }, spamassassin: { onError: "tempfail", tagScore: 5, rejectScore: 10 } };
const lenient: ThresholdConfig = { clamav: { onError: "accept" }, spamassassin: { onError: "accept", tagScore: 5, rejectScore: 10 } };

const clean: VirusOutcome = { status: "clean" };
const virus: VirusOutcome = { status: "infected", signature: "Win.Test.EICAR_HDB-1" };
const vDown: VirusOutcome = { status: "error", error: "down", detail: "ENOENT" };
const vBig: VirusOutcome = { status: "skipped", reason: "too-big" };
const score = (s: number): SpamOutcome => ({ status: "scored", score: s, threshold: 5, rules: [{ name: "RULE_A", score: s, description: "a rule" }] });
const sTimeout: SpamOutcome = { status: "error", error: "timeout", detail: "30000 ms" };
const sBig: SpamOutcome = { status: "skipped", reason: "too-big" };
const busy = { status: "busy" } as const;

const tempfail471 = (reason: string) => ({ action: "tempfail", code: 451, enhanced: "4.7.1", text: "Content scanner unavailable, try again later", reason });
const busy432 = { action: "tempfail", code: 451, enhanced: "4.3.2", text: "Content scanners busy, try again later", reason: "filters-busy" };
const virus554 = { action: "reject", code: 554, enhanced: "5.7.1", text: "Virus found: Win.Test.EICAR_HDB-1", reason: "virus" };

describe("content threshold policy", () => {
  it.each<[string, ScanResults, ThresholdConfig, object]>([
    ["clean and low score: plain accept", { virus: clean, spam: score(1.2) }, both, { action: "accept" }],
    ["virus: 554 naming the signature", { virus, spam: score(0) }, both, virus554],
    ["virus wins over spam", { virus, spam: score(1000) }, both, virus554],
    ["virus wins over a failed spam check", { virus, spam: sTimeout }, both, virus554],
    ["score at rejectScore: 550", { virus: clean, spam: score(10) }, both, { action: "reject", code: 550, enhanced: "5.7.1", text: "Message rejected as spam (score 10.0)", reason: "spam" }],
    ["spam reject wins over clamd down", { virus: vDown, spam: score(1000) }, both, { action: "reject", code: 550, enhanced: "5.7.1", text: "Message rejected as spam (score 1000.0)", reason: "spam" }],
    ["score just under tagScore: no headers", { virus: clean, spam: score(4.9) }, both, { action: "accept" }],
    ["busy slot: 451 4.3.2", { virus: busy, spam: score(0) }, both, busy432],
    ["busy even with onError accept", { virus: clean, spam: busy }, lenient, busy432],
    ["clamd down, tempfail: 451 4.7.1", { virus: vDown, spam: score(0) }, both, tempfail471("clamav-down")],
    ["spamd timeout, tempfail: 451 4.7.1", { virus: clean, spam: sTimeout }, both, tempfail471("spamassassin-timeout")],
    ["both failing: both named", { virus: vDown, spam: sTimeout }, both, tempfail471("clamav-down,spamassassin-timeout")],
    ["only the failing scanner's onError counts", { virus: clean, spam: sTimeout }, { ...both, spamassassin: { ...both.spamassassin!, onError: "accept" } },
      { action: "accept", flags: ["unscanned"], headers: "X-Mxspool-Unscanned: spamassassin (timeout)\r\n" }],
    ["mixed onError: the tempfail one wins", { virus: vDown, spam: sTimeout }, { ...lenient, clamav: { onError: "tempfail" } }, tempfail471("clamav-down")],
    ["both failing, accept: flagged, both named", { virus: vDown, spam: sTimeout }, lenient,
      { action: "accept", flags: ["unscanned"], headers: "X-Mxspool-Unscanned: clamav (down), spamassassin (timeout)\r\n" }],
    ["too big for clamd: flagged unscanned", { virus: vBig, spam: score(0) }, both, { action: "accept", flags: ["unscanned"], headers: "X-Mxspool-Unscanned: clamav (too big)\r\n" }],
    ["too big for spamd: plain accept (spamc's behaviour)", { virus: clean, spam: sBig }, both, { action: "accept" }],
    ["no scanner configured", {}, {}, { action: "accept" }],
    ["only clamav configured", { virus: clean }, { clamav: { onError: "tempfail" } }, { action: "accept" }],
    ["failure with no config entry defaults to tempfail", { virus: vDown }, {}, tempfail471("clamav-down")],
  ])("%s", (_name, results, config, expected) => {
    expect(contentVerdict(results, config)).toEqual(expected);
  });

  it("tags at tagScore with X-Spam-* headers, and adds the unscanned header after them", () => {
    const v = contentVerdict({ virus: vDown, spam: score(5) }, { ...both, clamav: { onError: "accept" } });
    expect(v).toEqual({
      action: "accept", flags: ["unscanned"],
      headers: "X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=5.0 required=5.0 tests=RULE_A\r\nX-Spam-Score: 5.0\r\n" +
        "X-Spam-Report: *   5.0 RULE_A a rule\r\nX-Mxspool-Unscanned: clamav (down)\r\n",
    });
  });

  it("keeps signature names printable and short in the reply", () => {
    const v = contentVerdict({ virus: { status: "infected", signature: "Evil\r\nName " + "x".repeat(300) } }, both);
    expect(v.action === "reject" && v.text).toMatch(/^Virus found: Evil_Name_x+$/);
    expect(v.action === "reject" && v.text.length).toBeLessThanOrEqual(13 + 120);
  });
});

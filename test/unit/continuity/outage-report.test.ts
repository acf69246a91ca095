/**
 * The outage report from an event and its facts: the figures an operator asks for, the
 * timeline in order, and an open outage reported without the figures it cannot know yet.
 */
import { describe, expect, it } from "vitest";
import { buildReport, renderReport } from "../../../src/continuity/outage-report.js";
import type { ContinuityEvent } from "../../../src/continuity/continuity-event.js";
import type { OutageFacts } from "../../../src/continuity/outage-facts.js";

const T = 1_800_000_000_000;
const facts: OutageFacts = { messages: 120, recipients: 150, bytes: 1_000_000, delivered: 148, bounced: 2, held: 1, waiting: 0, firstDeliveryAt: T + 65_000,
  lastDeliveryAt: T + 120_000, bounceReasons: [{ name: "550 5.1.1 no such user", count: 2 }], holdReasons: [{ name: "held by an admin or a filter", count: 1 }],
  waitingReasons: [], topSenders: [{ name: "news@big.test", count: 100 }], topRecipients: [{ name: "a@example.test", count: 40 }], truncated: false };
const closed: ContinuityEvent = { id: "ev_x", kind: "outage", domain: "example.test", state: "closed", startedAt: T, detectedAt: T + 15_000, recoveredAt: T + 60_000,
  drainedAt: T + 120_000, closedAt: T + 120_000, summary: "primary down", data: { error: "refused", rejected: 3, rejectedBefore: 10, facts } };

describe("outage report", () => {
  it("gives time to detect, outage, time to first delivery, drain duration and pace", () => {
    const r = buildReport(closed, facts);
    expect(r.figures).toEqual({ timeToDetectMs: 15_000, outageMs: 60_000, timeToFirstDeliveryMs: 5_000, drainMs: 60_000, drainPerMinute: 120 });
    expect(r.timeline.map((t) => t.what.split(":")[0])).toEqual(["started", "detected", "recovered", "first delivery after the return", "drained"]);
    expect(r.mail).toMatchObject({ messages: 120, rejected: 3 });
    expect(r.data).not.toHaveProperty("facts");
    const md = renderReport(r);
    expect(md).toContain("| time to detect | 15 s |");
    expect(md).toContain("- bounces: 550 5.1.1 no such user (2)");
    expect(md).toContain("- largest senders: news@big.test (100)");
  });

  it("reports an open outage without a recovery, drain or pace", () => {
    const open: ContinuityEvent = { ...closed, state: "open", recoveredAt: undefined, drainedAt: undefined, closedAt: undefined, data: { error: "refused" } };
    const r = buildReport(open, { ...facts, firstDeliveryAt: undefined, delivered: 0 });
    expect(r.figures).toEqual({ timeToDetectMs: 15_000, outageMs: undefined, timeToFirstDeliveryMs: undefined, drainMs: undefined, drainPerMinute: undefined });
    expect(r.timeline).toHaveLength(2);
    expect(renderReport(r)).toContain("| drain pace | — |");
  });
});

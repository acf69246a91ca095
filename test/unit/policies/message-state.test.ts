import { describe, expect, it } from "vitest";
import { closePending, EVENTS, foldAttempt, nextState, STATES, type MessageEvent, type MessageState } from "../../../policies/message-state.js";

// Every state × every event, written out by hand: a state name is where the event leads,
// a CODE is the 409 the message answers with (nothing changes).
const A = "ALREADY_FINAL", AH = "ALREADY_HELD", NH = "NOT_HELD", H = "HELD", NR = "NOT_REDELIVERABLE", BD = "BEING_DELIVERED";
//                 attempt-deferred attempt-delivered attempt-bounced expire      hold        release     retry       redeliver   delete
const TABLE: Record<MessageState, string[]> = {
  queued:    ["deferred",        "delivered",       "bounced",      "bounced",  "held",     NH,         "queued",   NR,         "deleted"],
  deferred:  ["deferred",        "delivered",       "bounced",      "bounced",  "held",     NH,         "deferred", NR,         "deleted"],
  active:    ["deferred",        "delivered",       "bounced",      BD,         BD,         NH,         BD,         NR,         BD],
  held:      ["held",            "delivered",       "bounced",      H,          AH,         "queued",   H,          NR,         "deleted"],
  delivered: [A,                 A,                 A,              A,          A,          NH,         A,          "queued",   A],
  bounced:   [A,                 A,                 A,              A,          A,          NH,         A,          "queued",   A],
  deleted:   [A,                 A,                 A,              A,          A,          NH,         A,          NR,         A],
};
const COLUMNS: MessageEvent[] = ["attempt-deferred", "attempt-delivered", "attempt-bounced", "expire", "hold", "release", "retry", "redeliver", "delete"];

const cases = STATES.flatMap((state) => COLUMNS.map((event, i) => [state, event, TABLE[state][i]] as const));

describe("the message state machine", () => {
  it("the table covers every state and every event", () => {
    expect(Object.keys(TABLE).sort()).toEqual([...STATES].sort());
    expect(COLUMNS).toEqual(EVENTS);
    for (const s of STATES) expect(TABLE[s]).toHaveLength(EVENTS.length);
    expect(cases).toHaveLength(STATES.length * EVENTS.length);
  });

  it.each(cases)("%s × %s → %s", (state, event, expected) => {
    const v = nextState({ id: "M1", state }, event);
    if ((STATES as string[]).includes(expected)) expect(v).toEqual({ ok: true, to: expected });
    else expect(v).toMatchObject({ ok: false, code: expected });
  });

  it("refusals say why in the words the admin API answers with", () => {
    expect(nextState({ id: "M1", state: "held" }, "hold")).toEqual({ ok: false, code: "ALREADY_HELD", why: "message M1 is already held" });
    expect(nextState({ id: "M1", state: "deleted" }, "delete")).toEqual({ ok: false, code: "ALREADY_FINAL", why: "message M1 is already deleted" });
    expect(nextState({ id: "M1", state: "deferred" }, "release")).toEqual({ ok: false, code: "NOT_HELD", why: "message M1 is deferred, not held" });
    expect(nextState({ id: "M1", state: "held" }, "retry")).toEqual({ ok: false, code: "HELD", why: "message M1 is held; release it instead" });
    expect(nextState({ id: "M1", state: "queued" }, "redeliver")).toEqual({ ok: false, code: "NOT_REDELIVERABLE", why: "only a delivered or bounced message can be redelivered; message M1 is queued" });
    expect(nextState({ id: "M1", state: "active" }, "delete")).toEqual({ ok: false, code: "BEING_DELIVERED", why: "message M1 is being delivered right now; try again when the attempt ends" });
  });
});

describe("folding an attempt's per-recipient results", () => {
  const pending = { a: { state: "pending" as const }, b: { state: "pending" as const }, c: { state: "pending" as const } };
  const r = (rcpt: string, outcome: string) => ({ rcpt, outcome, response: `${outcome} reply` });

  it.each([
    ["all delivered", [r("a", "delivered"), r("b", "delivered"), r("c", "delivered")], false, "attempt-delivered", "delivered delivered delivered"],
    ["one refused, the rest delivered", [r("a", "delivered"), r("b", "permanent"), r("c", "delivered")], false, "attempt-delivered", "delivered bounced delivered"],
    ["all refused", [r("a", "permanent"), r("b", "permanent"), r("c", "permanent")], false, "attempt-bounced", "bounced bounced bounced"],
    ["one temporary failure", [r("a", "delivered"), r("b", "temporary"), r("c", "permanent")], false, "attempt-deferred", "delivered pending bounced"],
    ["a temporary failure once expired", [r("a", "delivered"), r("b", "temporary"), r("c", "permanent")], true, "attempt-delivered", "delivered bounced bounced"],
    ["every one temporary, expired", [r("a", "temporary"), r("b", "temporary"), r("c", "temporary")], true, "attempt-bounced", "bounced bounced bounced"],
  ] as const)("%s → %s", (_name, results, expired, event, states) => {
    const f = foldAttempt(pending, [...results], expired, 1000);
    expect(f.event).toBe(event);
    expect(["a", "b", "c"].map((x) => f.outcomes[x].state).join(" ")).toBe(states);
    const n = (s: string) => states.split(" ").filter((x) => x === s).length;
    expect(f.settled).toEqual({ delivered: n("delivered"), bounced: n("bounced") });
    const b = states.split(" ")[1];
    expect(f.outcomes.b).toEqual(b === "pending" ? { state: "pending" } : { state: b, reply: `${results[1].outcome} reply`, at: 1000 });
  });

  it("a recipient settled by an earlier attempt is not counted again", () => {
    const f = foldAttempt({ a: { state: "delivered", at: 1 }, b: { state: "pending" } }, [r("a", "delivered"), r("b", "delivered")], false, 2000);
    expect(f).toMatchObject({ event: "attempt-delivered", settled: { delivered: 1, bounced: 0 } });
  });

  it("closing a message settles only the recipients still pending", () => {
    const c = closePending({ a: { state: "delivered", at: 1 }, b: { state: "pending" } }, "deleted", "deleted by alice", 5);
    expect(c).toEqual({ outcomes: { a: { state: "delivered", at: 1 }, b: { state: "deleted", at: 5, reply: "deleted by alice" } }, closed: 1 });
  });
});

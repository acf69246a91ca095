import { describe, expect, it } from "vitest";
import { ScanSlots } from "../../../src/filters/scan-slots.js";

describe("scan slots", () => {
  it("gives at most maxConcurrent slots and hands a released slot to the oldest waiter", async () => {
    const s = new ScanSlots(2, 1);
    const a = (await s.acquire())!;
    const b = (await s.acquire())!;
    const order: string[] = [];
    const c = s.acquire().then((r) => { order.push("c"); return r!; });
    const d = s.acquire().then((r) => { order.push("d"); return r!; });
    expect(s.stats()).toMatchObject({ inFlight: 2, waiting: 2 });
    a();
    a(); // releasing twice frees one slot only
    const rc = await c;
    expect(order).toEqual(["c"]);
    expect(s.stats()).toMatchObject({ inFlight: 2, waiting: 1 });
    b();
    const rd = await d;
    expect(order).toEqual(["c", "d"]);
    rc(); rd();
    expect(s.stats()).toMatchObject({ inFlight: 0, waiting: 0 });
  });

  it("gives up a wait when its signal aborts, without losing the slot", async () => {
    const s = new ScanSlots(1, 0);
    const a = (await s.acquire())!;
    const ac = new AbortController();
    const waiting = s.acquire(ac.signal);
    ac.abort();
    expect(await waiting).toBeNull();
    expect(s.stats().waiting).toBe(0);
    a();
    expect(s.stats().inFlight).toBe(0);
    expect(await s.acquire(AbortSignal.abort())).toBeNull();
    const again = await s.acquire();
    expect(again).toBeTypeOf("function");
  });

  it("is saturated when the open transactions fill every slot and queue place", () => {
    const s = new ScanSlots(2, 1);
    const leave = [s.enter(), s.enter()];
    expect(s.saturated).toBe(false);
    leave.push(s.enter());
    expect(s.saturated).toBe(true);
    leave[0]();
    leave[0](); // leaving twice counts once
    expect(s.saturated).toBe(false);
    expect(s.stats()).toMatchObject({ open: 2, saturated: false, maxConcurrent: 2, maxQueued: 1 });
  });
});

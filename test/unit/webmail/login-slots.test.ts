/**
 * LoginSlots: password checks under way are capped per client IP and in total; a refused
 * login says which cap it hit, and a released slot (once, however often release is called)
 * is free again.
 */
import { describe, expect, it } from "vitest";
import { LoginSlots } from "../../../src/webmail/login-slots.js";

describe("LoginSlots", () => {
  it("refuses the fifth check from one IP while four are under way, and frees a slot on release", () => {
    const slots = new LoginSlots(4, 32);
    const held = Array.from({ length: 4 }, () => slots.acquire("192.0.2.1"));
    expect(held.every((g) => g.ok)).toBe(true);
    expect(slots.acquire("192.0.2.1")).toEqual({ ok: false, scope: "ip" });
    expect(slots.acquire("192.0.2.2").ok).toBe(true);
    const first = held[0];
    if (first.ok) { first.release(); first.release(); }
    expect(slots.inUse).toBe(4);
    expect(slots.acquire("192.0.2.1").ok).toBe(true);
    expect(slots.acquire("192.0.2.1")).toEqual({ ok: false, scope: "ip" });
  });

  it("refuses any IP once the process-wide cap is reached", () => {
    const slots = new LoginSlots(4, 3);
    const held = ["a", "b", "c"].map((ip) => slots.acquire(ip));
    expect(slots.acquire("d")).toEqual({ ok: false, scope: "total" });
    for (const g of held) if (g.ok) g.release();
    expect(slots.inUse).toBe(0);
    expect(slots.acquire("d").ok).toBe(true);
  });
});

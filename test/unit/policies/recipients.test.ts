import { describe, expect, it } from "vitest";
import { classifyRecipient, type RecipientDirectory } from "../../../policies/recipients.js";

const dir = (users?: string[]): RecipientDirectory => ({
  hasDomain: (d) => d === "example.com" || d === "example.org",
  knows: (a) => !users || users.includes(a.toLowerCase()),
});

describe("classifyRecipient", () => {
  it.each([
    ["user@example.com", "example.com"],
    ["User@Example.COM", "example.com"],
    ["user@example.com.", "example.com"],
    ["first.last+tag@example.org", "example.org"],
  ])("accepts %s for %s", (addr, domain) => {
    expect(classifyRecipient(addr, dir())).toMatchObject({ action: "accept", domain });
  });

  it.each([
    ["user@other.test", "relay-domain"],
    ["user@example.com.other.test", "relay-domain"],
    ["user@sub.example.com", "relay-domain"],
    ["user%other.test@example.com", "relay-trick"],
    ["other.test!user@example.com", "relay-trick"],
    ["\"user@other.test\"@example.com", "relay-trick"],
    ["user@other.test@example.com", "relay-trick"],
    ["@example.com:user@other.test", "relay-domain"],
    ["user@[127.0.0.1]", "ip-literal"],
  ])("refuses %s as relaying (%s) with 550 5.7.1", (addr, reason) => {
    expect(classifyRecipient(addr, dir())).toEqual({ action: "reject", code: 550, enhanced: "5.7.1", text: "Relay access denied", reason });
  });

  it("refuses unknown users of a listed domain with 550 5.1.1", () => {
    expect(classifyRecipient("ghost@example.com", dir(["alice@example.com"]))).toMatchObject({ action: "reject", code: 550, enhanced: "5.1.1" });
    expect(classifyRecipient("ALICE@example.com", dir(["alice@example.com"]))).toMatchObject({ action: "accept" });
  });
});

import { describe, expect, it } from "vitest";
import { envelopeSenderVerdict, senderVerdict } from "../../../policies/outbound-identity.js";
import { rateVerdict, shapeVerdict, type OutboundLimits } from "../../../policies/outbound-limits.js";

describe("outbound sender identity", () => {
  const user = "alice@example.test";
  const aliases = ["sales@example.test"];
  it.each([
    ["own address in both", user, [user], null],
    ["own address, other case", "Alice@Example.TEST", ["ALICE@example.test"], null],
    ["an alias in both", "sales@example.test", ["sales@example.test"], null],
    ["alias envelope, own From", "sales@example.test", [user], null],
    ["another user's envelope", "bob@example.test", [user], "sender-not-owned"],
    ["another user's From", user, ["bob@example.test"], "from-not-owned"],
    ["a second From address not owned", user, [user, "bob@example.test"], "from-not-owned"],
    ["no From at all", user, [], "from-missing"],
    ["the null sender", "", [user], "sender-not-owned"],
    ["a look-alike domain", "alice@example.test.evil", [user], "sender-not-owned"],
  ])("%s", (_name, envelopeFrom, headerFrom, reason) => {
    const v = senderVerdict({ user, envelopeFrom, headerFrom, aliases });
    if (reason === null) expect(v).toBeNull();
    else expect(v).toMatchObject({ code: 553, enhanced: "5.7.1", reason });
  });
  it("grants no alias to a user it is not configured for", () => {
    expect(senderVerdict({ user: "bob@example.test", envelopeFrom: "sales@example.test", headerFrom: ["sales@example.test"], aliases: [] })).toMatchObject({ code: 553 });
  });
  it.each([
    ["own address", "Alice@Example.test", null],
    ["an alias", "SALES@example.test", null],
    ["another user's", "bob@example.test", "sender-not-owned"],
    ["the null sender", "", "sender-not-owned"],
  ])("at MAIL FROM (envelope only): %s", (_name, envelopeFrom, reason) => {
    const v = envelopeSenderVerdict({ user, envelopeFrom, aliases });
    if (reason === null) expect(v).toBeNull();
    else expect(v).toMatchObject({ code: 553, enhanced: "5.7.1", reason });
    // the whole verdict never passes an envelope the envelope check refuses
    if (reason !== null) expect(senderVerdict({ user, envelopeFrom, headerFrom: [user], aliases })).toEqual(v);
  });
});

describe("outbound limits", () => {
  const l: OutboundLimits = { messagesPerHour: 100, recipientsPerMessage: 50, globalMessagesPerHour: 2000, maxMessageSize: 1000 };
  it.each([
    [1, 10, null],
    [50, 1000, null],
    [0, 10, [554, "5.5.1"]],
    [51, 10, [452, "4.5.3"]],
    [1, 1001, [552, "5.3.4"]],
  ])("%i recipients, %i bytes", (recipients, size, want) => {
    const v = shapeVerdict({ recipients, size }, l);
    if (want === null) expect(v).toBeNull();
    else expect(v).toMatchObject({ code: want[0], enhanced: want[1] });
  });
  it.each([
    [1, 1, null],
    [100, 2000, null],
    [101, 5, "user-rate"],
    [5, 2001, "global-rate"],
    [101, 2001, "user-rate"],
  ])("user %i, everyone %i this hour", (userThisHour, globalThisHour, reason) => {
    const v = rateVerdict({ userThisHour, globalThisHour }, l);
    if (reason === null) expect(v).toBeNull();
    else expect(v).toMatchObject({ code: 450, enhanced: "4.7.1", reason });
  });
});

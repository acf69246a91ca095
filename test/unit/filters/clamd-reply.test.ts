import { describe, expect, it } from "vitest";
import { parseClamdReply } from "../../../src/filters/clamd-reply.js";

describe("clamd INSTREAM reply", () => {
  it.each([
    ["stream: OK\0", { status: "clean" }],
    ["stream: OK", { status: "clean" }],
    ["1: OK\0", { status: "clean" }],
    ["stream: Win.Test.EICAR_HDB-1 FOUND\0", { status: "infected", signature: "Win.Test.EICAR_HDB-1" }],
    ["stream: Mxspool.Test.EICAR.UNOFFICIAL FOUND\0\0", { status: "infected", signature: "Mxspool.Test.EICAR.UNOFFICIAL" }],
    ["stream: Heuristics.Encrypted.Zip FOUND\n", { status: "infected", signature: "Heuristics.Encrypted.Zip" }],
  ])("reads %j", (raw, outcome) => expect(parseClamdReply(raw)).toEqual(outcome));

  it.each([
    ["INSTREAM size limit exceeded. ERROR\0", /size limit exceeded/],
    ["stream: Can't allocate memory ERROR\0", /allocate memory ERROR/],
    ["UNKNOWN COMMAND\0", /UNKNOWN COMMAND/],
    ["", /without an answer/],
  ])("treats %j as a failed scan", (raw, detail) => {
    const o = parseClamdReply(raw);
    expect(o).toMatchObject({ status: "error", error: "failed" });
    if (o.status === "error") expect(o.detail).toMatch(detail);
  });
});

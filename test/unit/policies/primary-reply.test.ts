import { describe, expect, it } from "vitest";
import { classifyConnectionError, classifyReplyCode, recipientFact } from "../../../policies/primary-reply.js";
import { isBusyReply } from "../../../policies/drain-pace.js";

describe("what a primary's reply to a recipient means", () => {
  // reply class, code, text → outcome for the recipient, what it says about the recipient's existence, whether it says "slow down"
  it.each([
    ["2xx accepted", 250, "250 2.0.0 Ok: queued as ABC", "delivered", "ok", false],
    ["2xx will forward", 251, "251 2.1.5 User not local; will forward", "delivered", "ok", false],
    ["4xx busy", 421, "421 4.3.2 Service not available, closing channel", "temporary", null, true],
    ["4xx busy: too many connections", 451, "451 4.3.2 Too many concurrent connections", "temporary", null, true],
    ["4xx busy: try later", 452, "452 4.3.1 Insufficient system resources, try again later", "temporary", null, true],
    ["4xx greylisted", 450, "450 4.2.0 <u@example.test>: Recipient address rejected: Greylisted", "temporary", null, false],
    ["4xx greylisted (451)", 451, "451 4.7.1 Greylisting in action", "temporary", null, false],
    ["4xx mailbox full", 452, "452 4.2.2 Mailbox full", "temporary", null, false],
    ["4xx other", 451, "451 4.3.0 Local error in processing", "temporary", null, false],
    ["5xx recipient unknown", 550, "550 5.1.1 <u@example.test>: Recipient address rejected: User unknown", "permanent", "bad", false],
    ["5xx user not local", 551, "551 5.1.6 User not local", "permanent", "bad", false],
    ["5xx mailbox name not allowed", 553, "553 5.1.3 Bad recipient address syntax", "permanent", "bad", false],
    ["5xx mailbox full", 552, "552 5.2.2 Mailbox full", "permanent", null, false],
    ["5xx policy refusal", 554, "554 5.7.1 Relay access denied", "permanent", null, false],
    ["5xx policy refusal on 550 (the code decides)", 550, "550 5.7.1 Message rejected as spam", "permanent", "bad", false],
    ["5xx protocol disagreement: syntax", 500, "500 5.5.2 Syntax error", "temporary", null, false],
    ["5xx protocol disagreement: bad sequence", 503, "503 5.5.1 Bad sequence of commands", "temporary", null, false],
    ["5xx protocol disagreement: not implemented", 504, "504 5.5.4 Unrecognized parameter", "temporary", null, false],
    ["no reply: timeout", undefined, "delivery timed out", "temporary", null, true],
    ["no reply: connection lost", undefined, "connection to the primary lost", "temporary", null, false],
  ])("%s (%s)", (_label, code, text, outcome, fact, busy) => {
    expect(classifyReplyCode(code as number | undefined)).toBe(outcome);
    expect(recipientFact(code as number | undefined)).toBe(fact);
    expect(isBusyReply(code as number | undefined, text as string)).toBe(busy);
  });
});

describe("what a failure before any recipient got an answer means", () => {
  it.each([
    ["connection refused", { code: "ECONNECTION" }, "unreachable"],
    ["refused by the socket", { code: "ECONNREFUSED" }, "unreachable"],
    ["connect timeout", { code: "ETIMEDOUT" }, "unreachable"],
    ["reset", { code: "ECONNRESET" }, "unreachable"],
    ["host unreachable", { code: "EHOSTUNREACH" }, "unreachable"],
    ["no such host", { code: "ENOTFOUND" }, "unreachable"],
    ["DNS failure", { code: "EDNS" }, "unreachable"],
    ["TLS failure", { code: "ETLS" }, "unreachable"],
    ["protocol garbage", { code: "EPROTOCOL" }, "unreachable"],
    ["421 greeting", { code: "EPROTOCOL", responseCode: 421, command: "CONN" }, "unreachable"],
    ["421 to EHLO", { responseCode: 421, command: "EHLO" }, "unreachable"],
    ["421 to HELO", { responseCode: 421, command: "HELO" }, "unreachable"],
    ["421 with no command", { responseCode: 421 }, "unreachable"],
    ["421 to MAIL FROM: a reply in the transaction", { responseCode: 421, command: "MAIL FROM" }, "temporary"],
    ["554 greeting: no service here", { code: "EPROTOCOL", responseCode: 554, command: "CONN" }, "permanent"],
    ["550 to MAIL FROM", { code: "EENVELOPE", responseCode: 550, command: "MAIL FROM" }, "permanent"],
    ["451 to MAIL FROM", { code: "EENVELOPE", responseCode: 451, command: "MAIL FROM" }, "temporary"],
    ["an error of unknown kind without a reply", { code: "EWHATEVER" }, "temporary"],
  ])("%s", (_label, err, outcome) => {
    expect(classifyConnectionError(err)).toBe(outcome);
  });
});

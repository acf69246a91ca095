import { describe, expect, it } from "vitest";
import { receivedHeader } from "../../../src/mail/received-header.js";
import { newQueueId, QUEUE_ID_PATTERN } from "../../../src/mail/queue-id.js";
import { classifyConnectionError, classifyReplyCode } from "../../../policies/primary-reply.js";

const base = { helo: "client.test", clientIp: "192.0.2.1", hostname: "mx2.example.com", id: "ID1", smtputf8: false, rcpts: ["a@example.com"], date: new Date("2026-11-21T10:00:00Z") };

describe("Received header", () => {
  it("names the client, us, the protocol and the single recipient, and ends in CRLF", () => {
    const h = receivedHeader({ ...base, clientHostname: "client.example.net" });
    expect(h).toMatch(/^Received: from client\.test \(client\.example\.net \[192\.0\.2\.1\]\)\r\n\tby mx2\.example\.com \(mxspool\) with ESMTP id ID1\r\n\tfor <a@example\.com>; \w{3}, \d+ Nov 2026 \d\d:\d\d:\d\d [+-]\d{4}\r\n$/);
  });
  it("hides recipients of multi-recipient messages and records TLS and SMTPUTF8", () => {
    const h = receivedHeader({ ...base, rcpts: ["a@example.com", "b@example.com"], smtputf8: true, tls: { protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" } });
    expect(h).not.toContain("a@example.com");
    expect(h).toContain("(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)");
    expect(h).toContain("with UTF8SMTPS id");
  });
  it("cannot be broken by a hostile HELO", () => {
    const h = receivedHeader({ ...base, helo: "evil\r\nBcc: x@y (oops)" });
    expect(h.split("\r\n")).toHaveLength(4); // three lines and the final CRLF
    expect(h).toContain("from evil??Bcc: x@y ?oops?");
  });
  it("uses IPv6 literals and strips v4-mapped prefixes", () => {
    expect(receivedHeader({ ...base, clientIp: "::ffff:10.0.0.1" })).toContain("[10.0.0.1]");
    expect(receivedHeader({ ...base, clientIp: "2001:db8::1" })).toContain("[IPv6:2001:db8::1]");
  });
});

describe("queue ids", () => {
  it("are unique, well-formed and sort by time", () => {
    const ids = Array.from({ length: 1000 }, (_, i) => newQueueId(1_700_000_000_000 + i));
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(id).toMatch(QUEUE_ID_PATTERN);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe("primary replies", () => {
  it.each([[250, "delivered"], [450, "temporary"], [421, "temporary"], [550, "permanent"], [554, "permanent"], [503, "temporary"], [500, "temporary"], [undefined, "temporary"]] as const)("%s → %s", (code, outcome) => {
    expect(classifyReplyCode(code)).toBe(outcome);
  });
  it("treats refused connections and a 421 greeting as unreachable, not as an attempt", () => {
    expect(classifyConnectionError({ code: "ECONNECTION" })).toBe("unreachable");
    expect(classifyConnectionError({ code: "ETIMEDOUT" })).toBe("unreachable");
    expect(classifyConnectionError({ code: "EPROTOCOL", responseCode: 421, command: "CONN" })).toBe("unreachable");
    expect(classifyConnectionError({ code: "EENVELOPE", responseCode: 550, command: "RCPT TO" })).toBe("permanent");
  });
});

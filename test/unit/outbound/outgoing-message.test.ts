import { describe, expect, it } from "vitest";
import { prepareOutgoing } from "../../../src/outbound/outgoing-message.js";

const raw = (lines: string[]) => Buffer.from(lines.join("\r\n"), "latin1");

describe("prepareOutgoing", () => {
  const now = new Date("2026-12-02T01:00:00Z");
  it("removes Bcc (with its folded lines) from what recipients get and keeps it in the sender's copy", () => {
    const p = prepareOutgoing(raw(["From: Alice <alice@example.test>", "To: a@remote.test", "Bcc: x@remote.test,", " y@remote.test", "Subject: hi", "Date: Tue, 1 Dec 2026 10:00:00 +0000", "Message-ID: <1@x>", "", "body Bcc: stays", ""]), "mx2.test", now);
    expect(p.outgoing.toString()).toBe(["From: Alice <alice@example.test>", "To: a@remote.test", "Subject: hi", "Date: Tue, 1 Dec 2026 10:00:00 +0000", "Message-ID: <1@x>", "", "body Bcc: stays", ""].join("\r\n"));
    expect(p.ownCopy.toString()).toContain("Bcc: x@remote.test,\r\n y@remote.test\r\n");
    expect(p).toMatchObject({ from: ["alice@example.test"], subject: "hi", messageId: "<1@x>" });
  });
  it("adds Date and Message-ID when the client left them out", () => {
    const p = prepareOutgoing(raw(["From: alice@example.test", "Subject: hi", "", "x"]), "mx2.test", now);
    expect(p.outgoing.toString()).toMatch(/^Date: Wed, 2 Dec 2026 01:00:00 \+0000\r\nMessage-ID: <[a-z0-9]+\.[0-9a-f]{16}@mx2\.test>\r\nFrom: alice@example.test\r\n/);
  });
  it("reads every From address, groups and other cases included, and drops a client's own sent-copy marker", () => {
    const p = prepareOutgoing(raw(["FROM: \"A, B\" <A@Example.test>, c@example.test", "X-Mxspool-Sent-Copy: yes", "Date: x", "Message-ID: <1@x>", "", ""]), "h", now);
    expect(p.from).toEqual(["a@example.test", "c@example.test"]);
    expect(p.outgoing.toString()).not.toContain("X-Mxspool-Sent-Copy");
  });
  it("passes 8-bit header bytes through unchanged", () => {
    const subject = Buffer.from("Subject: Grüße\r\n", "utf8");
    const p = prepareOutgoing(Buffer.concat([Buffer.from("From: a@example.test\r\nDate: x\r\nMessage-ID: <1@x>\r\n"), subject, Buffer.from("\r\nbody")]), "h", now);
    expect(p.outgoing.includes(subject)).toBe(true);
    expect(p.subject).toBe("Grüße");
  });
});

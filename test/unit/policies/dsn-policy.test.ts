import { describe, expect, it } from "vitest";
import { mayNotify, statusOf } from "../../../policies/dsn-policy.js";
import { composeDsn } from "../../../src/dsn/compose-dsn.js";

describe("DSN policy", () => {
  it("never notifies the null sender or about a delivery report", () => {
    expect(mayNotify("", "Subject: x")).toBe(false);
    expect(mayNotify("<>", "Subject: x")).toBe(false);
    expect(mayNotify("a@b.test", "Subject: x\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=x")).toBe(false);
    expect(mayNotify("a@b.test", "Content-Type: multipart/report;\r\n\treport-type=\"delivery-status\"; boundary=x")).toBe(false);
    expect(mayNotify("a@b.test", "Subject: x\r\nContent-Type: multipart/mixed; boundary=x")).toBe(true);
  });
  it.each([[550, "550 5.1.1 no such user", "5.1.1"], [550, "550 mailbox unavailable", "5.0.0"], [451, "451 4.3.0 try later", "4.3.0"], [421, "421 busy", "4.0.0"], [undefined, "connection reset", "4.0.0"]])("status of %s %j is %s", (code, text, status) => {
    expect(statusOf(code, text)).toBe(status);
  });
});

describe("composeDsn", () => {
  const base = { hostname: "mx2.example.test", queueId: "Q1", sender: "a@sender.test", arrival: new Date("2026-11-21T10:00:00Z"), now: new Date("2026-11-21T11:00:00Z"),
    recipients: [{ rcpt: "bad@example.test", status: "5.1.1", diagnostic: "550 5.1.1\r\nno such user", remoteMta: "127.0.0.1:25" }], originalHeaders: "Subject: hi\nFrom: a@sender.test\n" };
  it("builds a multipart/report with one delivery-status block per recipient and the headers attached", () => {
    const text = composeDsn({ ...base, kind: "failed" }).toString();
    expect(text).toMatch(/^From: Mail Delivery System <MAILER-DAEMON@mx2\.example\.test>\r\nTo: <a@sender\.test>\r\nSubject: Undelivered Mail Returned to Sender\r\n/);
    expect(text).toContain("Auto-Submitted: auto-replied");
    expect(text).toContain("Reporting-MTA: dns; mx2.example.test\r\n");
    expect(text).toContain("Final-Recipient: rfc822; bad@example.test\r\nOriginal-Recipient: rfc822;bad@example.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; 127.0.0.1:25\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user");
    expect(text).toContain("Content-Type: text/rfc822-headers\r\n\r\nSubject: hi\r\nFrom: a@sender.test\r\n");
    expect(text.split("\n").every((l) => l === "" || l.endsWith("\r") || l === text.split("\n").at(-1))).toBe(true);
  });
  it("says when a delayed message will stop being retried", () => {
    const text = composeDsn({ ...base, kind: "delayed", willRetryUntil: new Date("2026-11-26T10:00:00Z") }).toString();
    expect(text).toContain("Subject: Delayed Mail (still being retried)");
    expect(text).toContain("Action: delayed");
    expect(text).toMatch(/Will-Retry-Until: \w{3}, \d+ Nov 2026/);
  });
});

import { describe, expect, it } from "vitest";
import { composeDsn, type DsnFacts, type DsnRecipient } from "../../../src/dsn/compose-dsn.js";

/** A DSN read back the way a mail client reads it: top headers, then the MIME parts of the report. */
function readDsn(bytes: Buffer) {
  const text = bytes.toString("utf8");
  const [head, body] = [text.slice(0, text.indexOf("\r\n\r\n")), text.slice(text.indexOf("\r\n\r\n") + 4)];
  const headers = Object.fromEntries(head.replace(/\r\n[ \t]/g, " ").split("\r\n").map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
  const boundary = /boundary="([^"]+)"/.exec(headers["content-type"])![1];
  const parts = body.split(`--${boundary}`).slice(1, -1).map((p) => {
    const [ph, ...rest] = p.replace(/^\r\n/, "").split("\r\n\r\n");
    return { type: /Content-Type: ([^;\r\n]+)/.exec(ph)![1], body: rest.join("\r\n\r\n") };
  });
  const status = parts.find((p) => p.type === "message/delivery-status");
  // per-message fields, then one block of fields per recipient (RFC 3464 §2.1)
  const blocks = (status?.body ?? "").trim().split("\r\n\r\n").map((b) => Object.fromEntries(b.split("\r\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()])));
  return { text, headers, parts, perMessage: blocks[0], perRecipient: blocks.slice(1), ends: body.trimEnd().endsWith(`--${boundary}--`) };
}

const base = {
  hostname: "mx2.example.test", queueId: "Q1", sender: "a@sender.test",
  arrival: new Date("2026-11-21T10:00:00Z"), now: new Date("2026-11-21T11:00:00Z"),
  originalHeaders: "Subject: hi\nFrom: a@sender.test\nMessage-ID: <m1@sender.test>\n",
};
const rcpt = (address: string, status: string, diagnostic: string, remoteMta?: string): DsnRecipient => ({ rcpt: address, status, diagnostic, remoteMta });

describe("composeDsn: the parts of the report", () => {
  it.each<[string, Partial<DsnFacts> & { kind: DsnFacts["kind"] }, { subject: string; action: string; recipients: [string, string][]; remoteMta: (string | undefined)[]; retryUntil: boolean }]>([
    ["one recipient refused", { kind: "failed", recipients: [rcpt("bad@example.test", "5.1.1", "550 5.1.1 no such user", "127.0.0.1:25")] },
      { subject: "Undelivered Mail Returned to Sender", action: "failed", recipients: [["bad@example.test", "5.1.1"]], remoteMta: ["dns; 127.0.0.1:25"], retryUntil: false }],
    ["two refused with different codes, one without a remote MTA", { kind: "failed", recipients: [rcpt("full@example.test", "5.2.2", "552 5.2.2 mailbox full", "10.0.0.1:25"), rcpt("old@example.test", "4.0.0", "delivery time expired; last reply: connection lost")] },
      { subject: "Undelivered Mail Returned to Sender", action: "failed", recipients: [["full@example.test", "5.2.2"], ["old@example.test", "4.0.0"]], remoteMta: ["dns; 10.0.0.1:25", undefined], retryUntil: false }],
    ["a delay warning with its retry deadline", { kind: "delayed", willRetryUntil: new Date("2026-11-26T10:00:00Z"), recipients: [rcpt("slow@example.test", "4.4.1", "primary unreachable")] },
      { subject: "Delayed Mail (still being retried)", action: "delayed", recipients: [["slow@example.test", "4.4.1"]], remoteMta: [undefined], retryUntil: true }],
    ["a delay warning without a deadline", { kind: "delayed", recipients: [rcpt("slow@example.test", "4.0.0", "451 4.3.0 try later", "10.0.0.1:25"), rcpt("slow2@example.test", "4.0.0", "451 4.3.0 try later", "10.0.0.1:25")] },
      { subject: "Delayed Mail (still being retried)", action: "delayed", recipients: [["slow@example.test", "4.0.0"], ["slow2@example.test", "4.0.0"]], remoteMta: ["dns; 10.0.0.1:25", "dns; 10.0.0.1:25"], retryUntil: false }],
  ])("%s", (_label, facts, want) => {
    const dsn = readDsn(composeDsn({ ...base, recipients: [], ...facts }));
    // the envelope of a report: from the mailer daemon, to the sender, auto-replied, multipart/report
    expect(dsn.headers.from).toBe("Mail Delivery System <MAILER-DAEMON@mx2.example.test>");
    expect(dsn.headers.to).toBe("<a@sender.test>");
    expect(dsn.headers.subject).toBe(want.subject);
    expect(dsn.headers["auto-submitted"]).toBe("auto-replied");
    expect(dsn.headers["content-type"]).toMatch(/^multipart\/report; report-type=delivery-status;/);
    // RFC 3464 §2: a human part, the delivery-status part, the original headers — in that order, closed
    expect(dsn.parts.map((p) => p.type)).toEqual(["text/plain", "message/delivery-status", "text/rfc822-headers"]);
    expect(dsn.ends).toBe(true);
    expect(dsn.perMessage).toMatchObject({ "Reporting-MTA": "dns; mx2.example.test", "Arrival-Date": "Sat, 21 Nov 2026 10:00:00 +0000" });
    expect(dsn.perRecipient.map((b) => [b["Final-Recipient"], b.Status])).toEqual(want.recipients.map(([r, s]) => [`rfc822; ${r}`, s]));
    expect(dsn.perRecipient.map((b) => b.Action)).toEqual(want.recipients.map(() => want.action));
    expect(dsn.perRecipient.map((b) => b["Remote-MTA"])).toEqual(want.remoteMta);
    expect(dsn.perRecipient.every((b) => b["Diagnostic-Code"]?.startsWith("smtp; "))).toBe(true);
    expect(dsn.perRecipient.every((b) => ("Will-Retry-Until" in b) === want.retryUntil)).toBe(true);
    expect(dsn.parts[2].body).toContain("Subject: hi\r\nFrom: a@sender.test\r\nMessage-ID: <m1@sender.test>");
    // every recipient is named in the human part too, each line ends in CRLF
    for (const [r] of want.recipients) expect(dsn.parts[0].body).toContain(`<${r}>: `);
    expect(/[^\r]\n/.test(dsn.text)).toBe(false);
  });

  it("keeps a multi-line diagnostic on one field line", () => {
    const dsn = readDsn(composeDsn({ ...base, kind: "failed", recipients: [rcpt("bad@example.test", "5.1.1", "550-5.1.1 no such user\r\n550 5.1.1 really")] }));
    expect(dsn.perRecipient[0]["Diagnostic-Code"]).toBe("smtp; 550-5.1.1 no such user 550 5.1.1 really");
  });
});

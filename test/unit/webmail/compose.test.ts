/**
 * The compose form's pure parts, from tables: recipient fields (what is an address, what the
 * user is told), the reply / reply-all / forward drafts with their threading headers, the
 * bounded multipart parser, and the built message (Bcc never in the headers).
 */
import { describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { checkAddress, parseRecipients } from "../../../src/webmail/compose/recipients.js";
import { draftFor, type DraftKind, type Original } from "../../../src/webmail/compose/draft.js";
import { parseMultipart } from "../../../src/webmail/compose/multipart.js";
import { buildMessage, simpleHtml } from "../../../src/webmail/compose/build-message.js";

describe("recipient fields", () => {
  it.each([
    ["a@example.com", "a@example.com"],
    ["First.Last+tag@Example.COM", "First.Last+tag@example.com"],
    ["a@b", null],
    ["@example.com", null],
    ["a..b@example.com", null],
    [".a@example.com", null],
    ["a b@example.com", null],
    ["a@exa_mple.com", null],
    ["a@-example.com", null],
    ["<a@example.com>", null],
  ])("checkAddress(%j) is %j", (text, want) => {
    expect(checkAddress(text)).toBe(want);
  });

  it.each([
    [{ to: "Ann <ann@a.example>, bob@b.example", cc: "", bcc: "" }, { to: ["ann@a.example", "bob@b.example"], cc: [], bcc: [] }],
    [{ to: '"Smith, Ann" <ann@a.example>; carl@c.example', cc: "", bcc: "" }, { to: ["ann@a.example", "carl@c.example"], cc: [], bcc: [] }],
    [{ to: "ann@a.example", cc: "ANN@A.example, dan@d.example", bcc: "eve@e.example" }, { to: ["ann@a.example"], cc: ["dan@d.example"], bcc: ["eve@e.example"] }],
    [{ to: "ann@a.example,, ", cc: "", bcc: "" }, { to: ["ann@a.example"], cc: [], bcc: [] }],
  ])("parses %j", (fields, want) => {
    const r = parseRecipients(fields);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect({ to: r.to.map((x) => x.address), cc: r.cc.map((x) => x.address), bcc: r.bcc.map((x) => x.address) }).toEqual(want);
    expect(r.all).toEqual([...want.to, ...want.cc, ...want.bcc]);
  });

  it.each([
    [{ to: "", cc: "", bcc: "" }, ["Add at least one recipient."]],
    [{ to: "ann@a.example, junk", cc: "", bcc: "" }, ["To: “junk” is not an e-mail address."]],
    [{ to: "ann@a.example", cc: "Bob <bob@>", bcc: "x@y" }, ["Cc: “Bob <bob@>” is not an e-mail address.", "Bcc: “x@y” is not an e-mail address."]],
    [{ to: "a@a.example ann@a.example", cc: "", bcc: "" }, ["To: “a@a.example ann@a.example” is not an e-mail address."]],
  ])("refuses %j with a clear error", (fields, errors) => {
    expect(parseRecipients(fields)).toEqual({ ok: false, errors });
  });
});

const original: Original = {
  from: [{ name: "Anna Schmidt", address: "anna@partner.example" }],
  replyTo: [],
  to: [{ name: "", address: "alice@example.test" }, { name: "Bob", address: "bob@example.test" }],
  cc: [{ name: "", address: "carol@partner.example" }, { name: "", address: "Alice@Example.test" }],
  subject: "Contract draft",
  date: new Date("2026-11-30T10:00:00Z"),
  messageId: "<m3@partner.example>",
  references: ["<m1@partner.example>", "<m2@example.test>"],
  text: "Line one\n> older quote\n",
};

describe("reply, reply all and forward drafts", () => {
  it.each([
    ["reply", { ...original }, "Anna Schmidt <anna@partner.example>", "", "Re: Contract draft"],
    ["reply", { ...original, replyTo: [{ name: "", address: "contracts@partner.example" }] }, "contracts@partner.example", "", "Re: Contract draft"],
    ["reply-all", { ...original }, "Anna Schmidt <anna@partner.example>", "Bob <bob@example.test>, carol@partner.example", "Re: Contract draft"],
    ["reply", { ...original, subject: "RE: Contract draft" }, "Anna Schmidt <anna@partner.example>", "", "RE: Contract draft"],
    ["forward", { ...original }, "", "", "Fwd: Contract draft"],
    ["forward", { ...original, subject: "Fw: x" }, "", "", "Fw: x"],
  ] as [DraftKind, Original, string, string, string][])("%s: to, cc and subject", (kind, o, to, cc, subject) => {
    const d = draftFor(kind, o, "alice@example.test");
    expect({ to: d.to, cc: d.cc, subject: d.subject }).toEqual({ to, cc, subject });
  });

  it("threads a reply: In-Reply-To the original's id, References its references then its id", () => {
    const d = draftFor("reply", original, "alice@example.test");
    expect(d.inReplyTo).toBe("<m3@partner.example>");
    expect(d.references).toEqual(["<m1@partner.example>", "<m2@example.test>", "<m3@partner.example>"]);
    expect(draftFor("reply", { ...original, references: [], inReplyTo: "<m2@example.test>" }, "alice@example.test").references).toEqual(["<m2@example.test>", "<m3@partner.example>"]);
    expect(draftFor("reply", { ...original, messageId: undefined }, "alice@example.test").inReplyTo).toBeUndefined();
  });

  it("quotes the original in a reply and carries it in a forward", () => {
    expect(draftFor("reply", original, "alice@example.test").body).toBe("\n\nOn Mon, 30 Nov 2026 10:00:00 GMT, Anna Schmidt <anna@partner.example> wrote:\n> Line one\n>> older quote\n");
    const fwd = draftFor("forward", original, "alice@example.test").body;
    expect(fwd).toContain("---------- Forwarded message ----------\nFrom: Anna Schmidt <anna@partner.example>");
    expect(fwd).toContain("Subject: Contract draft");
    expect(fwd.endsWith("Line one\n> older quote\n")).toBe(true);
  });
});

describe("multipart/form-data, bounded", () => {
  const B = "----b0undary";
  const body = (parts: string[]) => Buffer.from(parts.map((p) => `--${B}\r\n${p}\r\n`).join("") + `--${B}--\r\n`);
  const limits = { maxBytes: 1e6, maxParts: 5, maxFieldBytes: 20 };

  it("reads fields (repeated ones too) and files with their bytes", () => {
    const r = parseMultipart(body([
      'Content-Disposition: form-data; name="to"\r\n\r\nann@a.example',
      'Content-Disposition: form-data; name="keep"\r\n\r\n0',
      'Content-Disposition: form-data; name="keep"\r\n\r\n2',
      'Content-Disposition: form-data; name="attachments"; filename="a \\"b\\".txt"\r\nContent-Type: text/plain\r\n\r\nline1\r\n--not-the-boundary\r\n',
      'Content-Disposition: form-data; name="attachments"; filename=""\r\nContent-Type: application/octet-stream\r\n\r\n',
    ]), B, limits);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.fields.get("to")).toBe("ann@a.example");
    expect(r.fields.getAll("keep")).toEqual(["0", "2"]);
    expect(r.files.map((f) => [f.filename, f.contentType, f.content.toString()])).toEqual([['a "b".txt', "text/plain", "line1\r\n--not-the-boundary\r\n"]]);
  });

  it.each([
    ["too many parts", body(Array.from({ length: 6 }, (_, i) => `Content-Disposition: form-data; name="f${i}"\r\n\r\nx`)), 413],
    ["a field too long", body(['Content-Disposition: form-data; name="to"\r\n\r\n' + "x".repeat(21)]), 413],
    ["no boundary at all", Buffer.from("hello"), 400],
    ["an unterminated part", Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="to"\r\n\r\nx`), 400],
  ])("refuses %s", (_what, buf, status) => {
    const r = parseMultipart(buf, B, limits);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.status).toBe(status);
  });
});

describe("the simple HTML version", () => {
  it.each([
    ["a <b> & 'c'", "<p>a &lt;b&gt; &amp; &#39;c&#39;</p>"],
    ["one\ntwo\n\nthree", "<p>one<br>two</p>\n<p>three</p>"],
    ["> quoted\n> <x>", '<blockquote style="margin:0 0 0 .8ex;border-left:2px solid #ccc;padding-left:1ex">quoted<br>&lt;x&gt;</blockquote>'],
  ])("of %j", (text, body) => {
    expect(simpleHtml(text)).toBe(`<!doctype html><html><body>${body}</body></html>`);
  });
});

describe("the built message", () => {
  it("has From, To, Cc and threading headers, no Bcc, a Message-ID at the sender's domain, CRLF lines", async () => {
    const { raw, messageId } = await buildMessage({
      from: "alice@example.test", to: [{ name: "Anna", address: "anna@partner.example" }], cc: [{ name: "", address: "bob@example.test" }],
      subject: "Re: Contract — draft", text: "Thanks!\n", inReplyTo: "<m3@partner.example>", references: ["<m1@partner.example>", "<m3@partner.example>"],
      attachments: [{ filename: "notes.txt", contentType: "text/plain", content: Buffer.from("notes") }],
    });
    const text = raw.toString("latin1");
    expect(text).not.toMatch(/^bcc:/im);
    expect(text.replace(/\r\n/g, "")).not.toContain("\n");
    expect(messageId).toMatch(/^<[^@]+@example\.test>$/);
    const m = await simpleParser(raw);
    expect(m.from?.text).toBe("alice@example.test");
    expect(m.to && !Array.isArray(m.to) ? m.to.value[0].address : "").toBe("anna@partner.example");
    expect(m.subject).toBe("Re: Contract — draft");
    expect(m.inReplyTo).toBe("<m3@partner.example>");
    expect(m.references).toEqual(["<m1@partner.example>", "<m3@partner.example>"]);
    expect(m.messageId).toBe(messageId);
    expect(m.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([["notes.txt", "notes"]]);
  });
});

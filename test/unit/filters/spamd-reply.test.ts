import { describe, expect, it } from "vitest";
import { parseReportRules, parseSpamdReply } from "../../../src/filters/spamd-reply.js";

const reply = (head: string, body = "") => Buffer.concat([Buffer.from(head.replace(/\n/g, "\r\n") + "\r\n", "latin1"), Buffer.from(body, "latin1")]);

const REPORT = [
  "Spam detection software, running on the system \"vm\",",
  "has identified this incoming email as possible spam.",
  "",
  "Content preview:  Gr\xfc\xdfe \xe9t\xe9 XJS*C4JDBQADN1",
  "",
  "Content analysis details:   (1006.1 points, 5.0 required)",
  "",
  " pts rule name              description",
  "---- ---------------------- --------------------------------------------------",
  "-0.0 NO_RELAYS              Informational: message was not relayed via SMTP",
  "1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email",
  " 1.0 FREEMAIL_FROM          Sender email is commonly abused enduser mail",
  "                            provider",
  "                            [someone[at]gmail.com]",
  " 5.1 LOCAL_RULE_2           Local rule",
  "-1.9 BAYES_00               BODY: Bayes spam probability is 0 to 1%",
  "",
  "",
].join("\n");

describe("SPAMD/1.x reply parser", () => {
  it.each([
    ["spam, REPORT body", reply(`SPAMD/1.1 0 EX_OK\nContent-length: ${REPORT.length}\nSpam: True ; 1006.1 / 5.0\n`, REPORT), { isSpam: true, score: 1006.1, threshold: 5 }],
    ["ham with a negative score", reply("SPAMD/1.5 0 EX_OK\nContent-length: 0\nSpam: False ; -1.9 / 5.0\n"), { isSpam: false, score: -1.9, threshold: 5 }],
    ["Yes/No spelling, integer scores", reply("SPAMD/1.1 0 EX_OK\nSpam: Yes ; 12 / 8\n"), { isSpam: true, score: 12, threshold: 8 }],
    ["lower-case header names", reply("SPAMD/1.1 0 EX_OK\ncontent-length: 0\nspam: false ; 0.0 / 5.0\n"), { isSpam: false, score: 0, threshold: 5 }],
  ])("reads %s", (_name, raw, spam) => {
    const r = parseSpamdReply(raw);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.spam).toEqual(spam);
  });

  it("keeps the body as bytes, 8-bit preview included, cut at Content-length", () => {
    const r = parseSpamdReply(Buffer.concat([reply(`SPAMD/1.1 0 EX_OK\nContent-length: ${REPORT.length}\nSpam: True ; 1.0 / 5.0\n`, REPORT), Buffer.from("trailing")]));
    expect(r.ok && r.body.equals(Buffer.from(REPORT, "latin1"))).toBe(true);
  });

  it.each([
    ["an empty reply", Buffer.alloc(0), /empty reply/],
    ["a status line without CRLF", Buffer.from("SPAMD/1.1 0 EX_"), /incomplete status line/],
    ["something else", Buffer.from("HTTP/1.1 200 OK\r\n\r\n"), /not a SPAMD reply/],
    ["an error code", reply("SPAMD/1.0 76 Bad header line: Content-length: x\n"), /spamd error 76 Bad header line/],
    ["a temporary failure", reply("SPAMD/1.0 75 EX_TEMPFAIL\n"), /spamd error 75/],
    ["a body cut short", reply("SPAMD/1.1 0 EX_OK\nContent-length: 500\nSpam: True ; 1.0 / 5.0\n", "only this"), /cut short: 9 of 500/],
    ["a bad Spam header", reply("SPAMD/1.1 0 EX_OK\nSpam: maybe\n"), /bad Spam header/],
    ["a bad Content-length", reply("SPAMD/1.1 0 EX_OK\nContent-length: -3\n"), /bad Content-length/],
    ["a header line without colon", reply("SPAMD/1.1 0 EX_OK\nnonsense\n"), /bad header line/],
  ])("refuses %s with a reason", (_name, raw, error) => {
    const r = parseSpamdReply(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });

  it("answers PING as a status line only", () => {
    expect(parseSpamdReply(Buffer.from("SPAMD/1.5 0 PONG\r\n"))).toMatchObject({ ok: true, message: "PONG", spam: undefined });
  });
});

describe("REPORT rule table", () => {
  it("reads every row, negative and integer scores, and joins wrapped descriptions", () => {
    expect(parseReportRules(REPORT)).toEqual([
      { score: -0, name: "NO_RELAYS", description: "Informational: message was not relayed via SMTP" },
      { score: 1000, name: "GTUBE", description: "BODY: Generic Test for Unsolicited Bulk Email" },
      { score: 1, name: "FREEMAIL_FROM", description: "Sender email is commonly abused enduser mail provider [someone[at]gmail.com]" },
      { score: 5.1, name: "LOCAL_RULE_2", description: "Local rule" },
      { score: -1.9, name: "BAYES_00", description: "BODY: Bayes spam probability is 0 to 1%" },
    ]);
  });

  it.each([
    ["no table (customised report template)", "Spam detection software\n\nno table here\n"],
    ["a table with no rows", " pts rule name              description\n---- ---------------------- -------\n\n"],
    ["an empty body", ""],
  ])("gives no rules for %s", (_name, body) => expect(parseReportRules(body)).toEqual([]));

  it("reads CRLF bodies too", () => {
    expect(parseReportRules(REPORT.replace(/\n/g, "\r\n")).map((r) => r.name)).toEqual(["NO_RELAYS", "GTUBE", "FREEMAIL_FROM", "LOCAL_RULE_2", "BAYES_00"]);
  });
});

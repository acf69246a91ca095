import { describe, expect, it } from "vitest";
import { findHeaderEnd, HeaderEndScanner, headerBlock } from "../../../src/mail/header-end.js";

describe("findHeaderEnd: one rule for where the header block ends", () => {
  // [case, message, header block (up to the empty line), body]; null: no empty line at all
  const table: [string, string, string, string | null][] = [
    ["CRLF CRLF", "Subject: x\r\nFrom: a@b\r\n\r\nbody\r\n", "Subject: x\r\nFrom: a@b\r\n", "body\r\n"],
    ["bare LF LF", "Subject: x\nFrom: a@b\n\nbody\n", "Subject: x\nFrom: a@b\n", "body\n"],
    ["CR CR LF (an empty line with a stray CR)", "Subject: x\r\n\r\r\nbody\r\n\r\nmore\r\n", "Subject: x\r\n", "body\r\n\r\nmore\r\n"],
    ["LF CR LF (bare LF, then CRLF)", "Subject: x\n\r\nbody\r\n", "Subject: x\n", "body\r\n"],
    ["CRLF then bare LF", "Subject: x\r\n\nbody\r\n", "Subject: x\r\n", "body\r\n"],
    ["several CRs on the empty line", "Subject: x\r\n\r\r\r\nbody", "Subject: x\r\n", "body"],
    ["a bare CR is no line end", "Subject: x\r\rstill header\r\n\r\nbody", "Subject: x\r\rstill header\r\n", "body"],
    ["a line of white space is not empty (a fold)", "Subject: x\r\n \r\nFrom: a@b\r\n\r\nbody", "Subject: x\r\n \r\nFrom: a@b\r\n", "body"],
    ["mixed line ends", "A: 1\nB: 2\r\nC: 3\r\r\n\nbody\r\n", "A: 1\nB: 2\r\nC: 3\r\r\n", "body\r\n"],
    ["empty header (the message starts with the empty line)", "\r\nbody\r\n", "", "body\r\n"],
    ["no body after the empty line", "Subject: x\r\n\r\n", "Subject: x\r\n", ""],
    ["header only, no empty line", "Subject: x\r\nFrom: a@b\r\n", "Subject: x\r\nFrom: a@b\r\n", null],
    ["header only, last line unterminated", "Subject: x\r\nFrom: a@b", "Subject: x\r\nFrom: a@b", null],
    ["empty message", "", "", null],
  ];

  it.each(table)("%s", (_name, message, header, body) => {
    const end = findHeaderEnd(message);
    if (body === null) {
      expect(end).toBeNull();
      expect(headerBlock(message)).toBe(header);
      return;
    }
    expect(end).not.toBeNull();
    expect(message.slice(0, end!.headerEnd)).toBe(header);
    expect(message.slice(end!.bodyStart)).toBe(body);
    expect(headerBlock(message)).toBe(header);
  });

  it.each(table)("%s: the same answer when the bytes come in chunks cut anywhere", (_name, message) => {
    const whole = findHeaderEnd(message);
    for (let size = 1; size <= 4; size++) {
      for (let first = 0; first <= Math.min(message.length, 6); first++) {
        const cuts = [message.slice(0, first)];
        for (let at = first; at < message.length; at += size) cuts.push(message.slice(at, at + size));
        const s = new HeaderEndScanner();
        let offset = 0;
        let bodyAt = -1;
        for (const c of cuts) {
          const i = s.push(Buffer.from(c, "latin1"));
          if (i >= 0) { expect(bodyAt, "found once").toBe(-1); bodyAt = offset + i; }
          offset += c.length;
        }
        expect(s.end ?? null, `size ${size} first ${first}`).toEqual(whole);
        expect(bodyAt).toBe(whole ? whole.bodyStart : -1);
      }
    }
  });

  it("bare LF normalised to CRLF (what ingress stores) ends the header at the same line", () => {
    for (const [, message] of table) {
      const stored = message.replace(/(?<!\r)\n/g, "\r\n");
      const a = findHeaderEnd(message);
      const b = findHeaderEnd(stored);
      expect(Boolean(b)).toBe(Boolean(a));
      if (a && b) expect(stored.slice(b.bodyStart)).toBe(message.slice(a.bodyStart).replace(/(?<!\r)\n/g, "\r\n"));
    }
  });

  it("a cut header block ends at its last whole line", () => {
    expect(headerBlock("Subject: x\r\nFrom: a@", true)).toBe("Subject: x\r\n");
    expect(headerBlock("Subject: x", true)).toBe("");
    expect(headerBlock("Subject: x\r\n\r\nbody", true)).toBe("Subject: x\r\n");
  });
});

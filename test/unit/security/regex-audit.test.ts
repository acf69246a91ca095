/**
 * ReDoS audit: every function that runs a regex over text a stranger controls (message
 * headers, From addresses, filenames, HELO names, RCPT addresses, search and API parameters,
 * scanner replies) gets pathological 64 KB inputs — long runs of spaces, `_` inside a
 * q-encoded word, quotes, `<`, `=?`, dots, hyphens, CRLFs, mixed (redos-targets.ts) — and must
 * return. No timing assertion: each target runs in a worker thread (the built code in dist/)
 * that is terminated if it has not returned by a generous deadline, so a super-linear regex
 * fails the test with "did not return" instead of hanging it.
 *
 * Audited and found linear (one anchored start, or runs that cannot overlap), so not rewritten:
 * mime-words WORD and its join (each start's reach ends at the next `?`), headerLines' splits,
 * summarize's attachment tests, address.ts (input capped at 254 first), client-checks (HELO
 * capped at 255 first; LABEL's adjacent quantifiers are bounded by {0,61}), recipients,
 * message-limits (the inspector is a byte loop; its regexes see at most 9 chars and one
 * subject), received-header, dsn-policy's report test, verdict-headers, spamd/clamd replies,
 * the API router and validate.ts (anchored, bounded classes), webmail/admin search (substring
 * `includes`, no regex). Rewritten: the From parser (cubic: addressparser now, input capped),
 * the comment stripper `\(.*?\)` (quadratic; gone with it), safeFilename's `[\s.]+$` trim
 * (quadratic: a loop now), compose-dsn's `(\r\n)+$` (quadratic: a loop now).
 */
import { describe, expect, it } from "vitest";
import { MAX_HEADER_TEXT, splitMailbox } from "../../../src/webmail/message-summary.js";
import type { MessageSummary } from "../../../src/webmail/message-summary.js";
import { callBounded } from "../../helpers/bounded-worker.js";
import { INPUTS, TARGETS } from "./redos-targets.js";

/** Far above what 64 KB of linear work costs on a loaded machine; far below a super-linear run. */
const DEADLINE_MS = 15_000;

describe("every regex that reads a stranger's text returns on pathological 64 KB inputs", () => {
  for (const target of Object.keys(TARGETS)) {
    it(target, async () => {
      expect(await callBounded("test/unit/security/redos-targets.ts", "runTarget", [target], DEADLINE_MS)).toBe(Object.keys(INPUTS).length);
    }, DEADLINE_MS + 10_000);
  }

  it("bounds what splitMailbox returns to the header text it reads", async () => {
    expect(await callBounded("test/unit/security/redos-targets.ts", "longestMailbox", [], DEADLINE_MS)).toBeLessThanOrEqual(MAX_HEADER_TEXT);
  }, DEADLINE_MS + 10_000);
});

describe("the From header of the ReDoS report", () => {
  // `=?utf-8?q?` + underscores decodes to a run of spaces in front of the old regex
  // /^\s*"?(.*?)"?\s*<([^>]*)>/ — cubic: 3,000 spaces took 5 s, 20,000 would take hours.
  // With a parser and a length cap it returns at once; the old code does not return by the deadline.
  it("returns for the webmail's inbox summary with 20,000 encoded spaces in From", async () => {
    const from = `=?utf-8?q?${"_".repeat(20_000)}?=x`;
    const r = await callBounded<MessageSummary>("src/webmail/message-summary.ts", "summarize", [`From: ${from}\r\nSubject: hi\r\n\r\nbody\r\n`], 5_000);
    expect(r.fromAddress).toBe("");
    expect(r.fromName.length).toBeLessThanOrEqual(2048);
    expect(r.subject).toBe("hi");
  }, 15_000);

  it("returns for the exact payload (2,500 underscores) and for a folded 63 KB header", async () => {
    const folded = Array.from({ length: 900 }, () => `=?utf-8?q?${"_".repeat(60)}?=`).join("\r\n ");
    for (const from of [`=?utf-8?q?${"_".repeat(2_500)}?=x`, folded]) {
      const r = await callBounded<MessageSummary>("src/webmail/message-summary.ts", "summarize", [`From: ${from}\r\n\r\n`], 5_000);
      expect(r.fromName.length).toBeLessThanOrEqual(2048);
    }
  }, 20_000);
});

describe("ordinary From headers give the same name and address as before", () => {
  const cases: [string, { name: string; address: string }][] = [
    ['"Alice Example" <alice@example.com>', { name: "Alice Example", address: "alice@example.com" }],
    ["Alice Example <alice@example.com>", { name: "Alice Example", address: "alice@example.com" }],
    ['"Doe, John" <john@example.com>', { name: "Doe, John", address: "john@example.com" }],
    ['"Quote \\"Q\\" Person" <q@example.com>', { name: 'Quote "Q" Person', address: "q@example.com" }],
    ["=?utf-8?q?Andr=C3=A9_Example?= <andre@example.com>", { name: "André Example", address: "andre@example.com" }],
    ['"=?utf-8?b?QW5kcsOp?=" <andre@example.com>', { name: "André", address: "andre@example.com" }],
    ["=?iso-8859-1?q?Fran=E7ois?= =?utf-8?q?_M=C3=BCller?= <fm@example.com>", { name: "François Müller", address: "fm@example.com" }],
    ["<alice@example.com>", { name: "", address: "alice@example.com" }],
    ["alice@example.com", { name: "", address: "alice@example.com" }],
    ["  alice@example.com  ", { name: "", address: "alice@example.com" }],
    ["A <a@x.test>, B <b@x.test>", { name: "A", address: "a@x.test" }],
    ["", { name: "", address: "" }],
  ];
  for (const [from, want] of cases) {
    it(`reads ${JSON.stringify(from)}`, () => {
      expect(splitMailbox(from)).toEqual(want);
    });
  }

  // deliberate changes: the old regex returned a group's whole text, and ignored a comment name
  it("reads a group as its first member and an old-style comment as the name", () => {
    expect(splitMailbox("Team: alice@example.com, bob@example.com;")).toEqual({ name: "", address: "alice@example.com" });
    expect(splitMailbox("alice@example.com (Alice Example)")).toEqual({ name: "Alice Example", address: "alice@example.com" });
    expect(splitMailbox("undisclosed-recipients:;")).toEqual({ name: "", address: "" });
  });
});

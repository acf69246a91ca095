import { describe, expect, it } from "vitest";
import { MessageInspector } from "../../../policies/message-limits.js";

const limits = { maxMessageSize: 10_000_000, maxHeaderSize: 10_000, maxLineLength: 1000, maxReceivedHeaders: 3 };
const run = (chunks: string[]) => {
  const i = new MessageInspector(limits);
  const out = chunks.map((c) => i.push(Buffer.from(c, "latin1")).toString("latin1")).join("");
  return { i, out };
};

describe("MessageInspector", () => {
  it("keeps CRLF messages byte for byte and reads a folded subject whole", () => {
    const msg = "Subject: Contract draft =?utf-8?q?=E2=80=94?=\r\n comments by Friday\r\nFrom: a@b\r\n\r\nbody\r\n";
    const { i, out } = run([msg.slice(0, 20), msg.slice(20)]);
    expect(out).toBe(msg);
    expect(i.subject).toBe("Contract draft =?utf-8?q?=E2=80=94?= comments by Friday");
    expect(i.verdict).toBeUndefined();
  });
  it("turns bare LF into CRLF, also across chunk boundaries, and counts them", () => {
    const { i, out } = run(["Subject: x\r\n\r\na\nb\r", "\nc\n"]);
    expect(out).toBe("Subject: x\r\n\r\na\r\nb\r\nc\r\n");
    expect(i.bareLf).toBe(2);
  });
  it("refuses NUL bytes, long lines, big headers and loops with their codes", () => {
    expect(run(["Subject: x\r\n\r\na\x00b"]).i.verdict).toMatchObject({ code: 554, enhanced: "5.6.0" });
    expect(run(["Subject: x\r\n\r\n" + "y".repeat(1001)]).i.verdict).toMatchObject({ code: 552, enhanced: "5.3.4", reason: "line-too-long" });
    expect(run([("X-H: " + "z".repeat(900) + "\r\n").repeat(12)]).i.verdict).toMatchObject({ code: 552, reason: "header-too-big" });
    expect(run(["Received: a\r\n".repeat(4) + "\r\n"]).i.verdict).toMatchObject({ code: 554, enhanced: "5.4.6" });
    expect(run(["Received: a\r\n".repeat(3) + "\r\nReceived: in the body does not count\r\n"]).i.verdict).toBeUndefined();
  });
  it("the body's fast path agrees with a byte-by-byte reference on random messages cut at random places", () => {
    // reference: bare LF → CRLF, line length without the line's CRLF (a CR inside a line counts), NUL anywhere
    const reference = (text: string, max: number) => {
      const out = text.replace(/(?<!\r)\n/g, "\r\n");
      const bare = (text.match(/(?<!\r)\n/g) ?? []).length;
      const body = out.slice(out.indexOf("\r\n\r\n") + 4);
      const long = body.split("\r\n").some((l) => l.length > max);
      return { out, bare, long, nul: body.includes("\0") };
    };
    let seed = 42; // mulberry32: repeatable, and its low bits are random too
    const rnd = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) % n);
    };
    const alphabet = ["a", "b", " ", "\r\n", "\r\n", "\n", "\r", "\xe9"];
    const seen = { long: 0, bare: 0, nul: 0, clean: 0 };
    for (let round = 0; round < 500; round++) {
      let body = "";
      const parts = 5 + rnd(60);
      for (let k = 0; k < parts; k++) body += alphabet[rnd(alphabet.length)].repeat(1 + (rnd(10) === 0 ? rnd(40) : 0));
      if (rnd(20) === 0) body += "\0";
      const text = `Subject: r${round}\r\nFrom: a@b\r\n\r\n${body}`;
      const chunks: string[] = [];
      for (let at = 0; at < text.length;) { const n = 1 + rnd(12); chunks.push(text.slice(at, at + n)); at += n; }
      const max = 20 + rnd(30);
      const i = new MessageInspector({ ...limits, maxLineLength: max });
      const out = chunks.map((c) => i.push(Buffer.from(c, "latin1")).toString("latin1")).join("");
      const want = reference(text, max);
      seen.long += Number(want.long); seen.bare += Number(want.bare > 0); seen.nul += Number(want.nul); seen.clean += Number(!want.long && !want.nul);
      expect(out, `round ${round}`).toBe(want.out);
      expect(i.bareLf, `round ${round}`).toBe(want.bare);
      // both faults in one message: either refusal is right (whichever the inspector met first)
      const allowed = [...(want.nul ? ["nul-byte"] : []), ...(want.long ? ["line-too-long"] : [])];
      if (allowed.length) expect(allowed, `round ${round}: ${JSON.stringify(text)}`).toContain(i.verdict?.reason);
      else expect(i.verdict, `round ${round}: ${JSON.stringify(text)}`).toBeUndefined();
    }
    // the corpus holds every case many times over
    for (const [k, n] of Object.entries(seen)) expect(n, k).toBeGreaterThan(15);
  });
  it("refuses a message the moment its bytes pass maxMessageSize, not at the end of DATA", () => {
    const i = new MessageInspector({ ...limits, maxMessageSize: 100 });
    i.push(Buffer.from("Subject: x\r\n\r\n" + "a".repeat(80) + "\r\n", "latin1"));
    expect(i.verdict).toBeUndefined();
    i.push(Buffer.from("b".repeat(6), "latin1")); // 102 bytes: over
    expect(i.verdict).toEqual({ code: 552, enhanced: "5.3.4", text: "Message size exceeds fixed limit", reason: "message-too-big" });
    expect(i.size).toBe(102);
    const exact = new MessageInspector({ ...limits, maxMessageSize: 14 });
    exact.push(Buffer.from("Subject: x\r\n\r\n", "latin1"));
    expect(exact.verdict).toBeUndefined();
  });
  it("ends the header where src/mail/header-end.ts does, also at CR CR LF and LF CR LF", () => {
    for (const end of ["\r\n\r\n", "\n\n", "\r\n\r\r\n", "\n\r\n", "\r\n\r\r\r\n"]) {
      // Received lines after the empty line are body: they count neither as hops nor as header
      const msg = "Subject: s" + end + "Received: a\r\n".repeat(5) + "\r\n";
      expect(run([msg]).i.verdict, JSON.stringify(end)).toBeUndefined();
      expect(run([msg.slice(0, 11), msg.slice(11)]).i.verdict, JSON.stringify(end)).toBeUndefined();
    }
    // a bare CR is no line end: the Received lines are still header
    expect(run(["Subject: s\r\r" + "Received: a\r\n".repeat(5) + "\r\n"]).i.verdict).toMatchObject({ reason: "mail-loop" });
  });
  it("returns the very chunk it was given when nothing changes (no copy on the common path)", () => {
    const i = new MessageInspector(limits);
    const head = Buffer.from("Subject: x\r\n\r\nfirst body line\r\n", "latin1");
    const body = Buffer.from("more body\r\n".repeat(100), "latin1");
    expect(i.push(head)).toBe(head);
    expect(i.push(body)).toBe(body);
  });
});


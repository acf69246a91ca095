import { describe, expect, it } from "vitest";
import { MessageInspector } from "../../../policies/message-limits.js";

const limits = { maxHeaderSize: 10_000, maxLineLength: 1000, maxReceivedHeaders: 3 };
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
});

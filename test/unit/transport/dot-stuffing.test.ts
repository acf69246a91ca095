import DataStreamEsm from "nodemailer/lib/smtp-connection/data-stream";
import { describe, expect, it } from "vitest";
import { prng } from "../../helpers/prng.js";
import { endMarker, stuffChunk } from "../../../src/transport/dot-stuffing.js";

type Stream = { inByteCount: number; outByteCount: number; lastByte: number | false; push(b: Buffer): void };
// nodemailer's client stuffed the drain's DATA before src/transport/smtp-client.ts: its rules are the reference
const DataStream = DataStreamEsm as unknown as
  { new(): Stream & NodeJS.ReadWriteStream; prototype: { _transform(this: Stream, c: Buffer, e: string, d: () => void): void } };
const original = DataStream.prototype._transform;

/** nodemailer's own output for these chunks. */
function nodemailers(chunks: Buffer[]): Buffer {
  const out: Buffer[] = [];
  const self: Stream = { inByteCount: 0, outByteCount: 0, lastByte: false, push: (b) => out.push(b) };
  for (const c of chunks) original.call(self, c, "buffer", () => undefined);
  return Buffer.concat(out);
}

function ours(chunks: Buffer[]): Buffer {
  let last: number | false = false;
  const out: Buffer[] = [];
  for (const c of chunks) { if (!c.length) continue; out.push(stuffChunk(c, last)); last = c[c.length - 1]!; }
  return Buffer.concat(out);
}


describe("dot-stuffing without a per-byte loop", () => {
  it.each([
    ["plain CRLF text", ["Subject: a\r\n\r\nbody\r\n"]],
    ["a dot at a line start", [".hidden\r\n..two\r\nx.y\r\n."]],
    ["bare LF and bare CR", ["a\nb\rc\r\r\n\n.\r.\n."]],
    ["a CR at the end of one chunk, LF at the start of the next", ["line\r", "\nnext\r", ".dot\r", "\r"]],
    ["an LF at the end of one chunk, a dot at the start of the next", ["line\n", ".dot\r\n", ".", "\n"]],
    ["a first chunk starting with a dot or a line end", [".start"], ["\nfirst"], ["\r.first"]],
  ])("%s: the same bytes as nodemailer's", (_name, ...cases) => {
    for (const chunks of cases as string[][]) {
      const bufs = chunks.map((c) => Buffer.from(c, "latin1"));
      expect(ours(bufs).toString("latin1")).toBe(nodemailers(bufs).toString("latin1"));
    }
  });

  it("gives the same bytes as nodemailer's on 2,000 random inputs split at random places", () => {
    const r = prng(20261202); // seeded: a failure names a reproducible case
    const alphabet = [0x0d, 0x0a, 0x2e, 0x61, 0x20];
    for (let n = 0; n < 2000; n++) {
      const len = Math.floor(r() * 200);
      const bytes = Buffer.from(Array.from({ length: len }, () => alphabet[Math.floor(r() * alphabet.length)]!));
      const chunks: Buffer[] = [];
      for (let i = 0; i < len;) { const k = 1 + Math.floor(r() * 20); chunks.push(bytes.subarray(i, i + k)); i += k; }
      const want = nodemailers(chunks);
      const got = ours(chunks);
      if (!got.equals(want)) expect(JSON.stringify(bytes.toString("latin1"))).toBe("the same output for this input");
    }
  });

  it.each([
    ["a message ending in CRLF", "Subject: x\r\n\r\nbody\r\n", "Subject: x\r\n\r\nbody\r\n.\r\n"],
    ["one ending in CR", "body\r", "body\r\n.\r\n"],
    ["one without a line end", "body", "body\r\n.\r\n"],
    ["an empty one (nodemailer ends it with CRLF . CRLF)", "", "\r\n.\r\n"],
  ])("ends %s with the marker nodemailer sends", async (_name, input, want) => {
    const s = new DataStream();
    const out: Buffer[] = [];
    s.on("data", (b: Buffer) => out.push(b));
    const done = new Promise((resolve) => s.on("end", resolve));
    s.write(Buffer.from(input, "latin1"));
    s.end();
    await done;
    expect(Buffer.concat(out).toString("latin1")).toBe(want);
    const bytes = Buffer.from(input, "latin1");
    const ours = Buffer.concat([bytes.length ? stuffChunk(bytes, false) : Buffer.alloc(0), endMarker(bytes.length ? bytes[bytes.length - 1]! : false)]);
    expect(ours.toString("latin1")).toBe(want);
  });
});

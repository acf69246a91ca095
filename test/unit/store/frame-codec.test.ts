import { describe, expect, it } from "vitest";
import zlib from "node:zlib";
import { brotliWindow, decodeFramed, decodeFramedAsync, encodeFrameAsync, encodeFrameParts, FRAME_HEADER, FRAME_MARK, FrameDecoder, FrameError, isFramed } from "../../../src/store/frame-codec.js";
import { corpus, prng } from "../../helpers/mail-corpus.js";

const text = Buffer.from("Subject: hello\r\n\r\n" + "the quick brown fox jumps over the lazy dog\r\n".repeat(2000));
function random(n: number, seed = 7): Buffer { const r = prng(seed); return Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256))); }
/** One frame, joined (the store joins the parts with what goes beside them). */
const encodeFrame = (raw: Buffer) => Buffer.concat(encodeFrameParts(raw));
const framed = (...pieces: Buffer[]) => Buffer.concat([FRAME_MARK, ...pieces.map(encodeFrame)]);

describe("the frame codec of stored message bytes", () => {
  it.each([
    ["an empty message", [Buffer.alloc(0)]],
    ["one text frame", [text]],
    ["random bytes", [random(5000)]],
    ["three frames of mixed kinds", [text, random(3000), text.subarray(0, 100)]],
    ["a corpus message", [[...corpus({ count: 1, extraSizes: [300_000] })][0].raw]],
    ["a base64 frame large enough to be decoded off the thread", [Buffer.from(random(200_000, 11).toString("base64"))]],
  ])("gives back %s byte for byte, whole (on this thread and off it) and pushed a byte range at a time", async (_label, pieces) => {
    const value = framed(...pieces);
    expect(decodeFramed(value).equals(Buffer.concat(pieces))).toBe(true);
    expect((await decodeFramedAsync(value)).equals(Buffer.concat(pieces))).toBe(true);
    for (const step of value.length < 20_000 ? [1, 7, 4096] : [4096, 65_536]) {
      const d = new FrameDecoder();
      const out: Buffer[] = [];
      for (let i = 0; i < value.length; i += step) out.push(...d.push(value.subarray(i, i + step)));
      d.end();
      expect(Buffer.concat(out).equals(Buffer.concat(pieces))).toBe(true);
    }
  });

  it.each([
    [0, 10], [1000, 10], [1008, 10], [1009, 11], [10_240, 14], [16_368, 14], [16_369, 15], [100_000, 17], [262_128, 18], [262_144, 18], [330_000, 18],
  ])("sizes brotli's window to the piece: %i bytes → lgwin %i (the whole piece in view, no larger)", (size, lgwin) => {
    expect(brotliWindow(size)).toBe(lgwin);
  });

  it("decodes frames compressed with the 256 KB window of earlier releases", () => {
    const small = text.subarray(0, 10_240);
    const old = zlib.brotliCompressSync(small, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1, [zlib.constants.BROTLI_PARAM_LGWIN]: 18 } });
    const head = Buffer.alloc(FRAME_HEADER);
    head[0] = 1;
    head.writeUInt32BE(small.length, 1);
    head.writeUInt32BE(old.length, 5);
    expect(decodeFramed(Buffer.concat([FRAME_MARK, head, old])).equals(small)).toBe(true);
    expect(decodeFramed(framed(small)).equals(small)).toBe(true);
  });

  it("compresses text and stores incompressible bytes as they are", async () => {
    const t = encodeFrame(text);
    expect(t[0]).toBe(1);
    expect(t.length).toBeLessThan(text.length / 10);
    const r = random(50_000);
    for (const f of [encodeFrame(r), await encodeFrameAsync(r)]) {
      expect(f[0]).toBe(0);
      expect(f.length).toBe(r.length + FRAME_HEADER);
      expect(f.subarray(FRAME_HEADER).equals(r)).toBe(true);
    }
    expect((await encodeFrameAsync(text)).equals(t)).toBe(true);
  });

  it("tells framed values from plain ones (no plain value starts with NUL)", () => {
    expect(isFramed(framed(text))).toBe(true);
    expect(isFramed(text)).toBe(false);
    expect(isFramed(Buffer.from("\0M"))).toBe(false);
  });

  it("detects a truncated value", async () => {
    const value = framed(text, random(1000));
    for (const cut of [2, FRAME_MARK.length + 3, value.length - 1, value.length - 1001]) {
      expect(() => decodeFramed(value.subarray(0, cut))).toThrow(FrameError);
      await expect(decodeFramedAsync(value.subarray(0, cut))).rejects.toThrow(FrameError);
    }
  });

  it.each([
    ["an unknown frame kind", (v: Buffer) => { v[FRAME_MARK.length] = 9; }],
    ["a raw length that does not match the compressed bytes", (v: Buffer) => { v.writeUInt32BE(v.readUInt32BE(FRAME_MARK.length + 1) + 1, FRAME_MARK.length + 1); }],
    ["damaged compressed bytes", (v: Buffer) => { for (let i = FRAME_MARK.length + FRAME_HEADER; i < v.length; i += 3) v[i] ^= 0x5a; }],
    ["a stored frame whose lengths differ", (v: Buffer) => { v[FRAME_MARK.length] = 0; }],
    ["an absurd length", (v: Buffer) => { v.writeUInt32BE(0xffffffff, FRAME_MARK.length + 5); }],
  ])("detects %s", async (_label, damage) => {
    const value = framed(text);
    damage(value);
    expect(() => decodeFramed(value)).toThrow(FrameError);
    await expect(decodeFramedAsync(value)).rejects.toThrow(FrameError);
  });
});

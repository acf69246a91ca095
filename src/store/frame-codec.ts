/**
 * How a message's bytes are laid out in its Redis string since spool format 2: a 4-byte mark,
 * then frames, each an independently compressed piece of the message (each SPOOL_CHUNK piece the
 * writer streams is one frame), so a reader can decode the message frame by frame while it
 * streams it out, and the first N bytes (webmail summary, DSN headers) cost one frame.
 *
 *   value  = MARK frame*            MARK = 00 'M' 'Z' 01   (a stored message never holds a NUL:
 *                                        ingress refuses NUL, so old plain values never start so)
 *   frame  = kind(1) rawLength(u32 BE) storedLength(u32 BE) stored bytes
 *   kind   = 0 stored as is, 1 brotli (quality 1)
 *
 * A piece is compressed only when that pays: one whose compressed form is not at least
 * MIN_SAVING smaller is stored as is (random bytes of an already compressed attachment —
 * base64 of them still compresses by ~25%, raw binary would not). Brotli at quality 1 was
 * measured against deflate and zstd (README, "Where the bytes go"). Decoding checks every
 * length, so a truncated or corrupt value is an error, never wrong bytes.
 */
import zlib from "node:zlib";

export const FRAME_MARK = Buffer.from([0x00, 0x4d, 0x5a, 0x01]);
export const FRAME_HEADER = 9;
const STORED = 0;
const BROTLI = 1;
/** A frame is compressed only if that saves at least this share of its bytes. */
export const MIN_SAVING = 0.1;
/** No frame the writer makes is near this; a larger length means corruption. */
const MAX_FRAME = 64 * 1024 * 1024;

/**
 * log2 of brotli's window for a piece of `size` bytes: the smallest window that holds the whole
 * piece (brotli's is 2^lgwin - 16 bytes; 10 is its least), at most 18 (a frame is at most ~320 KB:
 * 256 KB sees nearly all of it and keeps each encoder small). A window larger than the piece
 * finds nothing more, but the encoder allocates and clears it: smtp-source's 10 KB message took
 * 22 µs at 18 and 14 µs at 14 (best of 7, quiet moments), to the same bytes; quoted text the same
 * either way. A small share of a message's ~3 ms (README, "Benchmark").
 */
export function brotliWindow(size: number): number {
  return Math.min(18, Math.max(10, Math.ceil(Math.log2(size + 16))));
}

const BROTLI_OPTS = (size: number): zlib.BrotliOptions => ({
  params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1, [zlib.constants.BROTLI_PARAM_LGWIN]: brotliWindow(size), [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size },
});

export class FrameError extends Error {}

/** A frame as its header and its stored bytes, not yet joined (the caller joins them with what goes beside them, in one copy). */
function frameParts(raw: Buffer, packed: Buffer | null): [Buffer, Buffer] {
  const use = packed && packed.length <= raw.length * (1 - MIN_SAVING) ? packed : null;
  const header = Buffer.allocUnsafe(FRAME_HEADER);
  header[0] = use ? BROTLI : STORED;
  header.writeUInt32BE(raw.length, 1);
  header.writeUInt32BE((use ?? raw).length, 5);
  return [header, use ?? raw];
}

function frame(raw: Buffer, packed: Buffer | null): Buffer {
  return Buffer.concat(frameParts(raw, packed));
}

/** One frame of `raw` as its two parts, compressed if that pays (on this thread); `stored: true` frames the bytes as they are. */
export function encodeFrameParts(raw: Buffer, stored = false): [Buffer, Buffer] {
  return frameParts(raw, raw.length && !stored ? zlib.brotliCompressSync(raw, BROTLI_OPTS(raw.length)) : null);
}

/**
 * The same in libuv's thread pool (the writer's 256 KB pieces while DATA still arrives, and
 * a last piece of at least OFF_THREAD_MIN bytes): the event loop serves the other sessions
 * meanwhile, and the work runs on another core.
 */
export function encodeFrameAsync(raw: Buffer): Promise<Buffer> {
  if (!raw.length) return Promise.resolve(frame(raw, null));
  return new Promise((resolve, reject) => zlib.brotliCompress(raw, { ...BROTLI_OPTS(raw.length), chunkSize: poolChunk(raw.length) }, (err, packed) => err ? reject(err) : resolve(frame(raw, packed))));
}

/** Whether a stored value (or its first bytes) is in the framed layout; plain values are format 1's. */
export function isFramed(head: Buffer): boolean {
  return head.length >= FRAME_MARK.length && head.subarray(0, FRAME_MARK.length).equals(FRAME_MARK);
}

/** The header of the frame at `off` in `buf`, or null when fewer than FRAME_HEADER bytes are there. */
export function frameHeader(buf: Buffer, off: number): { kind: number; rawLength: number; storedLength: number } | null {
  if (buf.length - off < FRAME_HEADER) return null;
  const kind = buf[off], rawLength = buf.readUInt32BE(off + 1), storedLength = buf.readUInt32BE(off + 5);
  if ((kind !== STORED && kind !== BROTLI) || rawLength > MAX_FRAME || storedLength > MAX_FRAME || (kind === STORED && rawLength !== storedLength)) {
    throw new FrameError(`corrupt frame header (kind ${kind}, lengths ${rawLength}/${storedLength})`);
  }
  return { kind, rawLength, storedLength };
}

/**
 * The output buffer of an off-thread (de)compression: the whole result in one, so that it is
 * one trip to the pool and back (zlib's default, 16 KiB, made a 60 KB message four, each with
 * its callback and a copy on this thread: more of its CPU than doing it here).
 */
const poolChunk = (bytes: number) => Math.max(16 * 1024, bytes + 1024);

/**
 * Below this many bytes a piece is (de)compressed on the calling thread. Measured (2,000
 * pieces, 8 in flight): off-thread, a 60 KB piece cost this thread as much as doing it here
 * (node's zlib stream around each call) and the process 1.7–3× the CPU; a 250 KB one half of
 * this thread's time, for 1.7× the CPU. The 256 KB pieces written while DATA arrives go to
 * the pool; a message's last piece, and a small message's frames on delivery, only from here up.
 */
export const OFF_THREAD_MIN = 128 * 1024;

function decodeFrame(kind: number, rawLength: number, stored: Buffer): Buffer {
  if (kind === STORED) return stored;
  let out: Buffer;
  try { out = zlib.brotliDecompressSync(stored); } catch { throw new FrameError("corrupt compressed frame"); }
  if (out.length !== rawLength) throw new FrameError(`frame decoded to ${out.length} bytes, its header says ${rawLength}`);
  return out;
}

/** The complete frames in `buf` from `off`, in order, each with the offset just past it; stops at a partial one. */
function* completeFrames(buf: Buffer, off: number): Generator<{ kind: number; rawLength: number; stored: Buffer; end: number }> {
  for (;;) {
    const h = frameHeader(buf, off);
    if (!h || buf.length - off - FRAME_HEADER < h.storedLength) return;
    const end = off + FRAME_HEADER + h.storedLength;
    yield { kind: h.kind, rawLength: h.rawLength, stored: buf.subarray(off + FRAME_HEADER, end), end };
    off = end;
  }
}

/**
 * Decodes a framed value pushed in pieces of any size (as GETRANGE reads it): push() returns
 * the message bytes of every frame completed so far; end() throws if a frame was left short.
 */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private marked = false;
  /** Message bytes decoded so far. */
  decoded = 0;

  push(piece: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, piece]) : piece;
    if (!this.marked) {
      if (this.pending.length < FRAME_MARK.length) return [];
      if (!isFramed(this.pending)) throw new FrameError("not a framed value");
      this.pending = this.pending.subarray(FRAME_MARK.length);
      this.marked = true;
    }
    const out: Buffer[] = [];
    let off = 0;
    for (const f of completeFrames(this.pending, 0)) {
      const body = decodeFrame(f.kind, f.rawLength, f.stored);
      off = f.end;
      this.decoded += body.length;
      if (body.length) out.push(body);
    }
    this.pending = this.pending.subarray(off);
    return out;
  }

  /** Bytes still needed before the next frame can be decoded (at least 1 while one is open). */
  wanted(): number {
    if (!this.marked) return FRAME_MARK.length - this.pending.length;
    const h = frameHeader(this.pending, 0);
    return h ? FRAME_HEADER + h.storedLength - this.pending.length : FRAME_HEADER - this.pending.length;
  }

  end(): void {
    if (!this.marked || this.pending.length) throw new FrameError("framed value truncated");
  }
}

function decodeFrameAsync(kind: number, rawLength: number, stored: Buffer): Promise<Buffer> {
  if (kind === STORED || stored.length < OFF_THREAD_MIN) return Promise.resolve(decodeFrame(kind, rawLength, stored));
  return new Promise((resolve, reject) => zlib.brotliDecompress(stored, { chunkSize: poolChunk(rawLength) }, (err, out) => {
    if (err) return reject(new FrameError("corrupt compressed frame"));
    if (out.length !== rawLength) return reject(new FrameError(`frame decoded to ${out.length} bytes, its header says ${rawLength}`));
    resolve(out);
  }));
}

/** A whole framed value's message bytes, its larger frames decompressed in libuv's thread pool (the drain's messages). */
export async function decodeFramedAsync(value: Buffer): Promise<Buffer> {
  if (!isFramed(value)) throw new FrameError("not a framed value");
  // every header checked before any decoding starts: a corrupt one throws with nothing in flight
  const frames = [...completeFrames(value, FRAME_MARK.length)];
  if ((frames.at(-1)?.end ?? FRAME_MARK.length) !== value.length) throw new FrameError("framed value truncated");
  const out = (await Promise.all(frames.map((f) => decodeFrameAsync(f.kind, f.rawLength, f.stored)))).filter((b) => b.length);
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}

/** A whole framed value's message bytes. */
export function decodeFramed(value: Buffer): Buffer {
  const d = new FrameDecoder();
  const parts = d.push(value);
  d.end();
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

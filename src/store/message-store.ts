/**
 * The durable store of message bytes in Redis, one key per spooled copy:
 * Keyspace.messageRaw(id). Bytes are written as they arrive (see SpoolWriter), compressed
 * piece by piece into frames (./frame-codec.ts), read back whole or frame by frame for
 * delivery, and deleted when the message reaches a final state. Values written before spool
 * format 2 are plain bytes and are read as they are. Every key carries a TTL past the longest
 * a message may live, so nothing stays behind if a job is lost.
 */
import { Readable } from "node:stream";
import type { ChainableCommander, Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";
import { headerBlock } from "../mail/header-end.js";
import { decodeFramedAsync, encodeFrameAsync, encodeFrameParts, FRAME_HEADER, FRAME_MARK, FrameDecoder, frameHeader, isFramed, OFF_THREAD_MIN } from "./frame-codec.js";

/** Above this many buffered bytes a message is streamed to Redis instead of held in memory. */
export const SPOOL_CHUNK = 256 * 1024;
/** At most this many bytes of a message's header are quoted in a DSN. */
const HEADERS_QUOTED = 65_536;

export class MessageStore {
  constructor(private readonly redis: Redis, private readonly keys: Keyspace, private readonly ttlMs: number) {}

  writer(id: string): SpoolWriter { return new SpoolWriter(this.redis, this.keys, id, this.ttlMs); }

  /**
   * The bytes for one delivery, `prepend` (our added headers) first: a Buffer for ordinary messages, or for large ones a factory
   * of streams that read SPOOL_CHUNK at a time (GETRANGE), so that many large deliveries at
   * once do not each hold a whole message in memory. null when the message is gone.
   */
  async open(id: string, prepend = "", sizeHint?: number): Promise<Buffer | (() => Readable) | null> {
    const key = this.keys.messageRaw(id);
    const head = Buffer.from(prepend, "latin1");
    // the size recorded at accept saying "small" spares the STRLEN: one GET is all it takes
    let small = sizeHint !== undefined && sizeHint <= 4 * SPOOL_CHUNK;
    let stored = 0;
    let framed = false;
    if (!small) {
      const [[, len], [, first]] = (await this.redis.pipeline().strlen(key).getrangeBuffer(key, 0, FRAME_MARK.length + FRAME_HEADER - 1).exec())! as [[unknown, number], [unknown, Buffer]];
      if (len === 0 && !(await this.redis.exists(key))) return null;
      stored = len;
      framed = isFramed(first);
      // a framed value whose first frame is short was written in one piece (under SPOOL_CHUNK)
      small = framed ? (frameHeader(first, FRAME_MARK.length)?.rawLength ?? 0) < SPOOL_CHUNK : len <= 4 * SPOOL_CHUNK;
    }
    if (small) {
      const value = await this.redis.getBuffer(key);
      return value ? Buffer.concat([head, isFramed(value) ? await decodeFramedAsync(value) : value]) : null;
    }
    const redis = this.redis;
    return () => Readable.from((async function* () {
      yield head;
      const decoder = framed ? new FrameDecoder() : null;
      for (let off = 0; off < stored;) {
        // framed: one frame a GETRANGE, with the next frame's header read along
        const want = decoder ? decoder.wanted() + FRAME_HEADER : SPOOL_CHUNK;
        const chunk = await redis.getrangeBuffer(key, off, Math.min(stored, off + want) - 1);
        if (chunk.length === 0) throw new Error(`message ${id} vanished while being read`);
        off += chunk.length;
        if (!decoder) { yield chunk; continue; }
        for (const bytes of decoder.push(chunk)) yield bytes;
      }
      decoder?.end();
    })());
  }

  /**
   * The first `max` bytes of a stored message (fewer if it is shorter; empty when it is gone):
   * one GETRANGE for plain values, one or two for the first frame of a framed one.
   */
  async head(id: string, max: number): Promise<Buffer> {
    const key = this.keys.messageRaw(id);
    const first = await this.redis.getrangeBuffer(key, 0, max - 1);
    if (!isFramed(first)) return first;
    const decoder = new FrameDecoder();
    const out: Buffer[] = [];
    let have = 0;
    let off = 0;
    let piece = first;
    let asked = max;
    for (let reads = 0; reads < 64; reads++) {
      off += piece.length;
      for (const b of decoder.push(piece)) { out.push(b); have += b.length; }
      if (have >= max || piece.length < asked) break; // enough, or the value ended
      asked = decoder.wanted() + FRAME_HEADER;
      piece = await this.redis.getrangeBuffer(key, off, off + asked - 1);
    }
    return Buffer.concat(out).subarray(0, max);
  }

  /**
   * The header block of a stored message (at most 64 KB, whole lines, without the last line
   * end), for DSNs and the API. Where it ends is src/mail/header-end.ts's rule, the one
   * ingress measured maxHeaderSize against, so a DSN never quotes body lines as headers.
   */
  async headers(id: string): Promise<string> {
    const head = (await this.head(id, HEADERS_QUOTED)).toString("latin1");
    return headerBlock(head, head.length === HEADERS_QUOTED).replace(/\r?\n$/, "");
  }

  async remove(id: string): Promise<void> {
    await this.redis.del(this.keys.messageRaw(id), this.keys.messagePart(id));
  }
}

/**
 * A last chunk shorter than this is framed on its own, as it is: it is what smtp-server held
 * back while looking for the end of DATA (a message's last bytes, a chunk of its own whenever
 * the terminator came in a read of its own), and joining it to the rest copied the whole
 * message once more. Every copy of a message's bytes is memory V8 counts against its old
 * generation until the next full collection (README, "Benchmark").
 */
const TAIL_ALONE = 1024;

/**
 * Collects one message's bytes. Small messages stay in memory and are written with one SET
 * at commit; past SPOOL_CHUNK the bytes go to Redis with APPEND as they arrive, so a large
 * message never sits whole in this process while it is received. Each SPOOL_CHUNK piece is
 * one frame (compressed in the thread pool while the next piece arrives; the last, smaller
 * one at commit). APPEND grows a string by doubling (up to 1 MB at a time), so the part key
 * is committed with COPY, which allocates the final value at its size, not with RENAME.
 */
export class SpoolWriter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private spilled = false;
  /** How many commands commitInto() added to its MULTI. */
  private commands = 0;
  /** The last piece, encoded by seal() (off this thread) for commitInto(). */
  private sealed?: { raw: Buffer; frame: Buffer };
  size = 0;

  constructor(private readonly redis: Redis, private readonly keys: Keyspace, readonly id: string, private readonly ttlMs: number) {}

  async write(chunk: Buffer): Promise<void> {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.size += chunk.length;
    if (this.buffered >= SPOOL_CHUNK) await this.spill();
  }

  private async spill(): Promise<void> {
    const data = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    const part = this.keys.messagePart(this.id);
    const frame = await encodeFrameAsync(data);
    if (!this.spilled) {
      this.spilled = true;
      // a part key always has a TTL: an abandoned transfer cleans itself up
      await this.redis.multi().set(part, Buffer.concat([FRAME_MARK, frame]), "PX", this.ttlMs).exec();
    } else {
      await this.redis.append(part, frame);
    }
  }

  /**
   * Adds to `m` the commands that make the message durable under its final key (and under
   * `copies`, one per extra recipient domain), so that the bytes, their record and their
   * indexes are written in one MULTI: one round trip (fsynced with AOF always) before the 250.
   * The caller checks the MULTI's results with `committed()`.
   */
  commitInto(m: ChainableCommander, copies: string[] = []): void {
    const raw = this.keys.messageRaw(this.id);
    const { piece, tail } = this.takeRest();
    const sealed = this.sealed?.raw === piece ? this.sealed.frame : undefined;
    this.sealed = undefined;
    this.chunks = [];
    this.buffered = 0;
    // the piece's frame (compressed if that pays), then the tail's as it is; joined once, with the mark
    const frames = (): Buffer[] => [
      ...(sealed ? [sealed] : piece.length ? encodeFrameParts(piece) : []),
      ...(tail ? encodeFrameParts(tail, true) : []),
    ];
    this.commands = 0;
    if (!this.spilled) {
      m.set(raw, Buffer.concat([FRAME_MARK, ...frames()]), "PX", this.ttlMs);
      this.commands++;
    } else {
      const part = this.keys.messagePart(this.id);
      const f = frames();
      if (f.length) { m.append(part, f.length === 1 ? f[0]! : Buffer.concat(f)); this.commands++; }
      m.copy(part, raw).del(part).pexpire(raw, this.ttlMs);
      this.commands += 3;
    }
    for (const id of copies) {
      m.copy(raw, this.keys.messageRaw(id)).pexpire(this.keys.messageRaw(id), this.ttlMs);
      this.commands += 2;
    }
  }

  /**
   * What write() collected and did not spill: the piece to compress, and a short last chunk to
   * frame on its own (TAIL_ALONE); kept as the only chunks, so that seal() and commitInto()
   * see the same split.
   */
  private takeRest(): { piece: Buffer; tail: Buffer | null } {
    const last = this.chunks.at(-1);
    const tail = this.chunks.length >= 2 && last!.length > 0 && last!.length < TAIL_ALONE ? last! : null;
    const body = tail ? this.chunks.slice(0, -1) : this.chunks;
    const piece = body.length === 1 ? body[0]! : Buffer.concat(body);
    this.chunks = tail ? [piece, tail] : piece.length ? [piece] : [];
    return { piece, tail };
  }

  /**
   * Compresses what is left to commit in libuv's thread pool (when it is at least
   * OFF_THREAD_MIN bytes), so that commitInto() only frames it: call it before building the
   * MULTI. Without it commitInto() compresses on this thread.
   */
  async seal(): Promise<void> {
    const { piece } = this.takeRest();
    if (piece.length >= OFF_THREAD_MIN) this.sealed = { raw: piece, frame: await encodeFrameAsync(piece) };
  }

  /** Makes the message durable on its own (a DSN: no record to write beside it). */
  async commit(): Promise<void> {
    await this.seal();
    const m = this.redis.multi();
    this.commitInto(m);
    this.committed(await m.exec());
  }

  /** Throws unless the first commands of this MULTI's results (those commitInto added) all succeeded. */
  committed(res: [Error | null, unknown][] | null): void {
    if (!res) throw new Error("spool commit aborted");
    for (const [err, value] of res.slice(0, this.commands)) {
      if (err) throw err;
      if (value === 0) throw new Error(`spool copy of ${this.id} failed`); // COPY to an existing key, PEXPIRE of a missing one
    }
  }

  /** Drops what was collected, in memory and in the part key; may be called again. */
  async abort(): Promise<void> {
    this.sealed = undefined;
    this.chunks = [];
    this.buffered = 0;
    if (this.spilled) {
      this.spilled = false;
      await this.redis.del(this.keys.messagePart(this.id)).catch(() => undefined);
    }
  }
}

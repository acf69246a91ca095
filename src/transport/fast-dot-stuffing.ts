/**
 * nodemailer's SMTP client dot-stuffs the DATA it sends (a "." at a line start doubled, bare
 * CR and bare LF made CRLF) one byte at a time in JavaScript: in the drain of the realistic
 * mix that loop was 14% of the delivery process's CPU (README, "Benchmark"). This installs,
 * once per process, a transform with the same output that lets Buffer.indexOf (memchr) find
 * the only bytes that matter — CR and LF — and looks at their neighbours: a few JS steps per
 * line instead of per byte, and sends the last piece and the end marker in one write.
 * test/unit/transport/fast-dot-stuffing.test.ts holds it to the original's output on random
 * input split at random places.
 */
import { createRequire } from "node:module";
import type { Transform, TransformCallback } from "node:stream";
// the ES module build: the one `import SMTPConnection from "nodemailer/lib/smtp-connection"` loads
import DataStream from "nodemailer/lib/smtp-connection/data-stream";

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const INSERT_LF = Buffer.from("\n");
const INSERT_LF_DOT = Buffer.from("\n.");
const INSERT_CR = Buffer.from("\r");
const INSERT_DOT = Buffer.from(".");

type DataStreamLike = Transform & { inByteCount: number; outByteCount: number; lastByte: number | false; held?: Buffer };

/**
 * What nodemailer's DataStream._transform pushes for `chunk`, given the last byte of the
 * previous chunk (`false` before the first): the same bytes, found by scanning line ends.
 */
export function stuffChunk(chunk: Buffer, lastByte: number | false): Buffer {
  const parts: Buffer[] = [];
  let from = 0; // chunk[from..] not yet copied
  const cut = (at: number, insert: Buffer) => {
    if (at > from) parts.push(chunk.subarray(from, at));
    parts.push(insert);
    from = at;
  };
  // the first byte against the previous chunk's last
  const first = chunk[0];
  if (lastByte === CR && first !== LF) cut(0, first === DOT ? INSERT_LF_DOT : INSERT_LF);
  else if (first === LF && lastByte !== CR) cut(0, INSERT_CR);
  else if (first === DOT && (lastByte === LF || lastByte === false)) cut(0, INSERT_DOT);
  // then every CR and LF inside the chunk, and the byte after each
  let cr = chunk.indexOf(CR, 0);
  let lf = chunk.indexOf(LF, 0);
  while (cr !== -1 || lf !== -1) {
    const i = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
    const next = i + 1 < chunk.length ? chunk[i + 1] : -1;
    if (chunk[i] === CR) {
      // a bare CR (not followed by LF in this chunk) becomes CRLF, and a dot after it is stuffed
      if (next !== -1 && next !== LF) cut(i + 1, next === DOT ? INSERT_LF_DOT : INSERT_LF);
      cr = chunk.indexOf(CR, i + 1);
    } else {
      // a bare LF becomes CRLF (the byte before it is in this chunk, or the last one)
      const prev = i ? chunk[i - 1] : lastByte;
      if (i > 0 && prev !== CR) cut(i, INSERT_CR);
      if (next === DOT) cut(i + 1, INSERT_DOT);
      lf = chunk.indexOf(LF, i + 1);
    }
  }
  if (!parts.length) return chunk;
  if (from < chunk.length) parts.push(chunk.subarray(from));
  return Buffer.concat(parts);
}

function fastTransform(this: DataStreamLike, chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback): void {
  if (!chunk || !chunk.length) return done();
  const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
  this.inByteCount += buf.length;
  const out = stuffChunk(buf, this.lastByte);
  this.outByteCount += out.length;
  // each piece is held until the next one (or the end marker) comes, so the last goes out with
  // the marker: one socket write for a stored message instead of two (the drain writes ~5 per
  // message; on loopback each write runs the receiver's TCP path in our thread)
  if (this.held) this.push(this.held);
  this.held = out;
  this.lastByte = buf[buf.length - 1]!;
  done();
}

/** nodemailer's end marker for the last byte sent, after the held piece. */
function flushWithMarker(this: DataStreamLike, done: TransformCallback): void {
  const marker = Buffer.from(this.lastByte === LF ? ".\r\n" : this.lastByte === CR ? "\n.\r\n" : "\r\n.\r\n");
  this.outByteCount += marker.length;
  this.push(this.held ? Buffer.concat([this.held, marker]) : marker);
  this.held = undefined;
  done();
}

let installed = false;

type DataStreamClass = { prototype: { _transform: unknown; _flush: unknown } };

/** Installs the transform in nodemailer's DataStream, in its ES module build (ours) and its CommonJS one (a dependency's). */
export function installFastDotStuffing(): void {
  if (installed) return;
  installed = true;
  const cjs = createRequire(import.meta.url)("nodemailer/lib/smtp-connection/data-stream") as DataStreamClass;
  for (const cls of [DataStream as unknown as DataStreamClass, cjs]) {
    cls.prototype._transform = fastTransform;
    cls.prototype._flush = flushWithMarker;
  }
}

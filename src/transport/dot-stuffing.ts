/**
 * Dot-stuffing of DATA as the SMTP client sends it (smtp-client.ts): a "." at a line start
 * doubled, bare CR and bare LF made CRLF — nodemailer's rules, byte for byte
 * (test/unit/transport/dot-stuffing.test.ts holds it to nodemailer's own transform on random
 * input split at random places). Buffer.indexOf (memchr) finds the only bytes that matter, CR
 * and LF, and their neighbours are looked at: a few JS steps per line instead of per byte
 * (nodemailer's per-byte loop was 14% of the drain's CPU: README, "Benchmark").
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const INSERT_LF = Buffer.from("\n");
const INSERT_LF_DOT = Buffer.from("\n.");
const INSERT_CR = Buffer.from("\r");
const INSERT_DOT = Buffer.from(".");

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

/** The end of DATA after a body whose last byte was `lastByte` (`false`: an empty body): the line is ended first if it was not. */
export function endMarker(lastByte: number | false): Buffer {
  return Buffer.from(lastByte === LF ? ".\r\n" : lastByte === CR ? "\n.\r\n" : "\r\n.\r\n");
}

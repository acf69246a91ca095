/**
 * Queue ids: 10 characters of time (base-36 milliseconds, so ids sort by arrival) and 10
 * random ones. Safe in Redis keys, URLs and file names.
 *
 * The random characters come from a pool: randomBytes is called for POOL_BYTES at a time and
 * each id takes the bytes it needs from it, since a randomBytes(10) per message showed in the
 * accept path's CPU profile (~2.5%). A byte maps to a character by rejection sampling: only
 * bytes below the largest multiple of the alphabet's length (231 = 7 × 33) are used, so every
 * character is equally likely (a plain `b % 33` favoured the first 25 characters 8:7).
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTVWXYZ"; // no I, O, U: easy to read aloud
/** Bytes at or above this would make `b % 33` uneven: skipped. */
const UNBIASED_BELOW = 256 - (256 % ALPHABET.length);
/** Random bytes fetched per randomBytes call: about 370 ids. */
const POOL_BYTES = 4096;

let pool = Buffer.alloc(0);
let used = 0;

/** The next random character (refills the pool when it runs out). */
function randomChar(): string {
  for (;;) {
    if (used >= pool.length) { pool = randomBytes(POOL_BYTES); used = 0; }
    const b = pool[used++]!;
    if (b < UNBIASED_BELOW) return ALPHABET[b % ALPHABET.length]!;
  }
}

export function newQueueId(now = Date.now()): string {
  const time = now.toString(36).toUpperCase().padStart(10, "0");
  let rand = "";
  for (let i = 0; i < 10; i++) rand += randomChar();
  return time + rand;
}

export const QUEUE_ID_PATTERN = /^[0-9A-Z]{20}(\.\d+)?$/;

/** The id shared by a message's per-domain copies (`<id>`, `<id>.2`, `<id>.3`, ...). */
export const baseId = (id: string) => id.replace(/\.\d+$/, "");

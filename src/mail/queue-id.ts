/**
 * Queue ids: 10 characters of time (base-36 milliseconds, so ids sort by arrival) and 10
 * random ones. Safe in Redis keys, URLs and file names.
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTVWXYZ"; // no I, O, U: easy to read aloud

export function newQueueId(now = Date.now()): string {
  const time = now.toString(36).toUpperCase().padStart(10, "0");
  const bytes = randomBytes(10);
  let rand = "";
  for (const b of bytes) rand += ALPHABET[b % ALPHABET.length];
  return time + rand;
}

export const QUEUE_ID_PATTERN = /^[0-9A-Z]{20}(\.\d+)?$/;

/** The id shared by a message's per-domain copies (`<id>`, `<id>.2`, `<id>.3`, ...). */
export const baseId = (id: string) => id.replace(/\.\d+$/, "");

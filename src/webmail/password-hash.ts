/**
 * Password hashes: scrypt (node:crypto) with a random 16-byte salt per hash, stored as
 * `scrypt$<log2 N>$<r>$<p>$<salt base64>$<key base64>`; verified with timingSafeEqual. At
 * most MAX_PARALLEL hashes run at once (each takes ~32 MiB and tens of ms), so a burst of
 * logins cannot exhaust memory. A password is never logged, stored or returned.
 */
import crypto from "node:crypto";

const LOG_N = 15;
const R = 8;
const P = 1;
const KEY_LEN = 32;
const MAX_PARALLEL = 4;

let running = 0;
const waiting: (() => void)[] = [];

async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL) await new Promise<void>((r) => waiting.push(r));
  running++;
  try { return await fn(); } finally { running--; waiting.shift()?.(); }
}

function scrypt(password: string, salt: Buffer, logN: number, r: number, p: number, len: number): Promise<Buffer> {
  const N = 2 ** logN;
  return withSlot(() => new Promise((resolve, reject) => {
    crypto.scrypt(password.normalize("NFC"), salt, len, { N, r, p, maxmem: 256 * N * r }, (err, key) => (err ? reject(err) : resolve(key)));
  }));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const key = await scrypt(password, salt, LOG_N, R, P, KEY_LEN);
  return `scrypt$${LOG_N}$${R}$${P}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/** True when `password` matches `stored`; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9+/=]{8,})\$([A-Za-z0-9+/=]{16,})$/.exec(stored);
  if (!m) return false;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (logN < 10 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 4) return false;
  const expected = Buffer.from(m[5], "base64");
  const key = await scrypt(password, Buffer.from(m[4], "base64"), logN, r, p, expected.length);
  return key.length === expected.length && crypto.timingSafeEqual(key, expected);
}

let dummy: Promise<string> | undefined;
/** A valid hash of a random password: verifying against it costs what a real check costs. */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomBytes(24).toString("base64"));
  return dummy;
}

/** A readable random password (about 80 bits): four groups of four letters and digits. */
export function generatePassword(): string {
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  const groups: string[] = [];
  for (let g = 0; g < 4; g++) {
    let s = "";
    for (let i = 0; i < 4; i++) s += alphabet[crypto.randomInt(alphabet.length)];
    groups.push(s);
  }
  return groups.join("-");
}

/**
 * One password check for a login or a password change, in the order that keeps lock-outs
 * exact and the CPU bounded: take a hashing slot (per IP and in total, in-process), reserve
 * the attempt in Redis (it counts as a failure from now on), only then run scrypt, and finally
 * give the reservation back (right password) or keep it and maybe lock (wrong one). An unknown
 * address is checked against a dummy hash, so it costs what a real one costs.
 */
import { dummyHash, verifyPassword } from "../password-hash.js";
import type { Deps } from "./context.js";

export type PasswordCheck =
  | { outcome: "right" }
  | { outcome: "wrong"; lockedAccount: boolean; lockedIp: boolean }
  | { outcome: "locked"; retryAfterMs: number; scope: "account" | "ip" }
  | { outcome: "busy"; status: 429 | 503; retryAfterMs: number; scope: "ip" | "total" };

/** Slots free up within a scrypt run or two: this is how long a refused client should wait. */
const BUSY_RETRY_MS = 2000;

export async function checkPassword(deps: Pick<Deps, "slots" | "limiter">, ip: string, subject: string, password: string, hash: string | undefined): Promise<PasswordCheck> {
  const slot = deps.slots.acquire(ip);
  if (!slot.ok) return { outcome: "busy", status: slot.scope === "ip" ? 429 : 503, retryAfterMs: BUSY_RETRY_MS, scope: slot.scope };
  try {
    const attempt = await deps.limiter.reserve(subject, ip);
    if (!attempt.allowed) return { outcome: "locked", retryAfterMs: attempt.retryAfterMs, scope: attempt.scope };
    const right = (await verifyPassword(password, hash ?? await dummyHash())) && hash !== undefined;
    if (right) {
      await deps.limiter.success(attempt);
      return { outcome: "right" };
    }
    return { outcome: "wrong", ...await deps.limiter.failure(attempt) };
  } finally {
    slot.release();
  }
}

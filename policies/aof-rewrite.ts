/**
 * When the embedded Redis's AOF is rewritten (src/redis/aof-compaction.ts asks with
 * BGREWRITEAOF; Redis's own trigger is off). Redis's rule, a rewrite once the file has grown
 * 100% past the last rewrite's size (from 64 MB), fits data rewritten in place; a spool is
 * appended during an outage and deleted by the drain. While it grows its AOF is nearly all
 * live data (0.9 AOF byte per byte of Redis's dataset memory after 3,200 mix messages), so a
 * rewrite then forks Redis and writes the whole spool again for nothing: under Redis's rule a
 * spool growing to N MB is rewritten at 64, 128, 256 … MB, ~2N MB more written during the
 * outage's busiest hours (a 1,000-message mix accept with one ran ~15–25% slower: README,
 * "Benchmark"). Purged messages (delivered ones once `retention.delivered` is over) leave
 * their bytes dead in the AOF: it is rewritten once those dead bytes are at least the live
 * ones and at least AOF_REWRITE_MIN_BYTES, so the file stays under twice the live data (or
 * that minimum) and a growing spool is never rewritten.
 * Pure.
 */
export const AOF_REWRITE_MIN_BYTES = 64 * 1024 * 1024;

export interface AofFacts {
  /** Redis `aof_current_size`: the whole AOF (base and increments). */
  aofBytes: number;
  /** Redis `used_memory_dataset`, standing in for the live data's AOF bytes. */
  liveBytes: number;
  /** A rewrite running or scheduled, or the AOF still loading. */
  busy: boolean;
}

export function aofRewriteDue(f: AofFacts): boolean {
  const dead = f.aofBytes - f.liveBytes;
  return !f.busy && dead >= Math.max(f.liveBytes, AOF_REWRITE_MIN_BYTES);
}

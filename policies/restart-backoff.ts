/**
 * When to start again a worker process that died: at once-ish the first time (200 ms), then
 * doubling up to 10 s, so that a process that dies at every start (a broken config file it
 * reads, a full disk) does not fork five times a second forever. A process that stayed up a
 * minute counts as healthy again: its next death starts from 200 ms. Pure, per worker slot.
 */
export const RESTART_FIRST_MS = 200;
export const RESTART_MAX_MS = 10_000;
/** Up at least this long: the previous deaths are forgotten. */
export const RESTART_HEALTHY_MS = 60_000;

export interface RestartState { failures: number }

export function initialRestart(): RestartState { return { failures: 0 }; }

/** The delay before the next fork after a death `upMs` after the previous fork, and the state to keep. */
export function nextRestart(s: RestartState, upMs: number): { delayMs: number; state: RestartState } {
  const failures = upMs >= RESTART_HEALTHY_MS ? 0 : s.failures;
  const delayMs = Math.min(RESTART_MAX_MS, RESTART_FIRST_MS * 2 ** failures);
  return { delayMs, state: { failures: failures + 1 } };
}

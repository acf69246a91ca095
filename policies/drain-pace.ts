/**
 * How many deliveries a domain's primary gets at once, adapted like TCP congestion control:
 * after the primary comes back, slow start (double every step from 1); a "too busy" signal
 * (421, 451/452 with a busy text, timeouts) or replies slower than `slowMs` halve it and
 * switch to additive increase (+1 per quiet step); never above `max`, never below 1.
 * Pure: state in, state out.
 */
export interface PaceState { concurrency: number; slowStart: boolean }
export interface PaceSignals { ok: number; busy: number; avgLatencyMs: number }

export function initialPace(): PaceState { return { concurrency: 1, slowStart: true }; }

export function nextPace(s: PaceState, sig: PaceSignals, max: number, slowMs: number): PaceState {
  if (sig.busy > 0 || (sig.ok > 0 && sig.avgLatencyMs > slowMs)) {
    return { concurrency: Math.max(1, Math.floor(s.concurrency / 2)), slowStart: false };
  }
  if (sig.ok === 0) return s; // nothing learned this step
  const grown = s.slowStart ? s.concurrency * 2 : s.concurrency + 1;
  return { concurrency: Math.min(max, grown), slowStart: s.slowStart && grown < max };
}

/** Whether a reply from the primary means "slow down" rather than a verdict on the message. */
export function isBusyReply(code: number | undefined, text: string): boolean {
  if (code === 421) return true;
  if ((code === 451 || code === 452 || code === 450) && /busy|too many|try (again )?later|resources|load|rate/i.test(text)) return true;
  return code === undefined && /timeout|timed out/i.test(text);
}

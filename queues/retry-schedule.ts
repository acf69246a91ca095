/**
 * The retry table, Postfix-like: the first retry after `first`, each later one `factor`
 * times longer, never more than `max` apart, until the message is `maxLifetime` old.
 * With the defaults (5m, ×2, 1h, 5d):
 *
 *   attempt  wait   cumulative
 *   1 → 2    5m     5m
 *   2 → 3    10m    15m
 *   3 → 4    20m    35m
 *   4 → 5    40m    1h15m
 *   5 → 6    1h     2h15m   (then every hour, about 120 attempts until 5d)
 *
 * A ±10% jitter keeps messages that failed together from retrying in lock-step.
 */
export interface RetryPolicy { first: number; max: number; factor: number }

export function retryDelay(attemptsMade: number, p: RetryPolicy, random: () => number = Math.random): number {
  const n = Math.max(1, attemptsMade);
  const base = Math.min(p.max, p.first * Math.pow(p.factor, n - 1));
  const jitter = 1 + (random() * 0.2 - 0.1);
  return Math.max(1, Math.round(Math.min(p.max, base * jitter)));
}

/** Whether a message that has just failed temporarily is too old for another try. */
export function isExpired(receivedAt: number, maxLifetime: number, now = Date.now()): boolean {
  return now - receivedAt >= maxLifetime;
}

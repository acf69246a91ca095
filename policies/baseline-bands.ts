/**
 * What traffic is normal for one bucket of one series: an expected value and a band, learned
 * from the series itself. The learned detector (./baseline.ts) compares each bucket with it.
 * - hour-of-week: with `weeks` full weeks of history, the median and MAD (median absolute
 *   deviation, ×1.4826 to read as a standard deviation) of every bucket of the same hour of
 *   the week in each of the last `weeks` weeks. Median and MAD ignore the outliers they are
 *   meant to find: a spam run or a holiday in one of four weeks does not move them.
 * - hour-of-day (cold start, fewer weeks): the same hour of the last days (at most 14), the
 *   band `coldWidth` times wider (weekdays and weekends are mixed).
 * - fixed (less than a day): a wide band, 0 … 4 × the larger of the median so far and the floor.
 * The deviation never counts as less than √expected (counts are Poisson-like: a slot that was
 * 3, 3, 3, 3 does not make 5 an anomaly). Pure: arrays in, bands out; buckets are found by
 * index (bucket i one week earlier is i − week/bucket), so the server and the replay index the
 * same way. Daylight-saving shifts move a slot by an hour for a week; the band absorbs it.
 */
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;

export type Profile = "hour-of-week" | "hour-of-day" | "fixed" | "threshold" | "ewma";
export interface Band { expected: number; low: number; high: number; profile: Profile }
export interface BandOptions {
  /** Weeks of history the hour-of-week profile needs and uses. */
  weeks: number;
  /** Band half-width in robust standard deviations. */
  width: number;
  /** Messages per hour below which nothing alerts (converted to the bucket). */
  floor: number;
}
/** How much wider the hour-of-day band is than the hour-of-week one. */
export const COLD_WIDTH = 1.5;
/** Days the hour-of-day profile reads at most. */
const COLD_DAYS = 14;
/** Robust σ from the MAD of a normal distribution. */
const MAD_SIGMA = 1.4826;

export function median(xs: number[]): number {
  if (!xs.length) return 0;
  const s = Float64Array.from(xs).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median and robust σ (≥ √median, ≥ 1 count's worth) of a sample. */
export function robust(xs: number[]): { m: number; sigma: number } {
  const m = median(xs);
  const mad = median(xs.map((x) => Math.abs(x - m)));
  return { m, sigma: Math.max(MAD_SIGMA * mad, Math.sqrt(Math.max(m, 1))) };
}

/** The floor (messages per hour) in messages per bucket. */
export const floorPerBucket = (floor: number, bucketMs: number) => (floor * bucketMs) / HOUR;

/**
 * The band of bucket `i` of `values` (index 0 = the series' first bucket, which starts at
 * `start` ms), from the buckets before it only.
 */
export function seasonalBand(values: ArrayLike<number>, i: number, start: number, bucketMs: number, o: BandOptions): Band {
  const perHour = Math.max(1, Math.round(HOUR / bucketMs));
  const hourStart = i - Math.floor(((start + i * bucketMs) % HOUR) / bucketMs);
  const sameHour = (back: number, count: number): number[] => {
    const out: number[] = [];
    for (let k = 1; k <= count; k++) {
      const from = hourStart - k * back;
      for (let j = from; j < from + perHour; j++) if (j >= 0 && j < i) out.push(values[j]!);
    }
    return out;
  };
  const perWeek = Math.round(WEEK / bucketMs);
  const perDay = Math.round(DAY / bucketMs);
  if (hourStart >= o.weeks * perWeek) {
    const { m, sigma } = robust(sameHour(perWeek, o.weeks));
    return { expected: m, low: Math.max(0, m - o.width * sigma), high: m + o.width * sigma, profile: "hour-of-week" };
  }
  if (hourStart >= perDay) {
    const { m, sigma } = robust(sameHour(perDay, Math.min(COLD_DAYS, Math.floor(hourStart / perDay))));
    const half = o.width * COLD_WIDTH * sigma;
    return { expected: m, low: Math.max(0, m - half), high: m + half, profile: "hour-of-day" };
  }
  const m = median(Array.from({ length: i }, (_, j) => values[j]!));
  return { expected: m, low: 0, high: 4 * Math.max(m, floorPerBucket(o.floor, bucketMs), 1), profile: "fixed" };
}

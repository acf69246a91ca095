/**
 * Config of the traffic series and the learned baselines (`baselines`, issue 14). The series
 * (src/observability/traffic-series.ts) count per domain per bucket in Redis; the detector
 * reads them back. Everything has a default: the series are on with no config at all.
 *
 * baselines:
 *   bucket: 5m        # length of one bucket; divides an hour (1m … 1h)
 *   retention: 56d    # how long a bucket is kept after it ends (8 weeks)
 *   queueSample: 1m   # how often each node samples the queue depth (a bucket keeps its largest sample)
 *   enabled: true     # the learned detector (policies/baseline.ts) raises anomalies as continuity events
 *   weeks: 4          # weeks of history of the hour-of-week profile (fewer: hour-of-day, then a fixed band)
 *   holdoff: 3        # buckets in a row an anomaly must last (and be gone before it clears)
 *   floor: 60         # messages per hour below which nothing alerts
 *   width: 4          # band half-width in robust standard deviations (1.4826 × MAD)
 */
import { z } from "zod";
import { parseDuration } from "./duration.js";
import { duration } from "./zod-duration.js";

const HOUR = 3_600_000;

export const baselinesSchema = z
  .strictObject({
    /** Length of one traffic bucket; a whole number of seconds that divides an hour. */
    bucket: z.string().default("5m").transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null || ms < 60_000 || ms > HOUR || HOUR % ms !== 0 || ms % 1000 !== 0) {
        ctx.addIssue({ code: "custom", message: `expected a duration from "1m" to "1h" that divides an hour, like "5m", got "${text}"` });
        return z.NEVER;
      }
      return ms;
    }),
    /** How long traffic buckets are kept (Redis TTL past the bucket's end). */
    retention: duration("56d"),
    /** How often each node samples the queue depth per domain into the series. */
    queueSample: duration("1m"),
    /** Raise traffic-surge, traffic-silent, dictionary-attack and queue-growth events from the series (checked every `continuity.checkInterval`). */
    enabled: z.boolean().default(true),
    /** Weeks of history the hour-of-week profile learns from (fewer: the hour-of-day profile, then a wide fixed band). */
    weeks: z.number().int().min(1).max(12).default(4),
    /** Buckets in a row an anomaly must last before it is raised (and be gone before it clears). */
    holdoff: z.number().int().min(1).max(48).default(3),
    /** Messages per hour below which nothing alerts: the excess over the usual must reach it, and a domain must usually have this much to be called silent. */
    floor: z.number().min(0).max(1_000_000).default(60),
    /** Band half-width in robust standard deviations (1.4826 × MAD). */
    width: z.number().min(1).max(20).default(4),
  })
  .prefault({});

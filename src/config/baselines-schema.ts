/**
 * Config of the traffic series and the learned baselines (`baselines`, issue 14). The series
 * (src/observability/traffic-series.ts) count per domain per bucket in Redis; the detector
 * reads them back. Everything has a default: the series are on with no config at all.
 *
 * baselines:
 *   bucket: 5m        # length of one bucket; divides an hour (1m … 1h)
 *   retention: 56d    # how long a bucket is kept after it ends (8 weeks)
 *   queueSample: 1m   # how often each node samples the queue depth (a bucket keeps its largest sample)
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
  })
  .prefault({});

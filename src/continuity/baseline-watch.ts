/**
 * The learned baselines on the server: at every `continuity.checkInterval`, once a traffic
 * bucket is complete, each domain's series (src/observability/traffic-series.ts: `weeks`
 * weeks and a day back) go through the detector the replay runs (policies/baseline.ts
 * `assess`, median/MAD bands): a raised verdict opens a continuity event of its kind
 * (traffic-surge, traffic-silent, dictionary-attack, queue-growth) with an alert, a cleared one
 * closes it (./condition-watch.ts applyVerdict: the event store lets one node win each).
 * Reading weeks of buckets is the costly part, so one node per domain and bucket does it: the
 * first to SET NX Keyspace.baselineTurn. What the detector sees at MX 20:
 *   accepted = messages accepted + recipients deferred because the primary is up (rejected.backup:
 *              the traffic of an `acceptWhen: primaryDown` domain that should have gone to MX 10)
 *   rejected = recipients refused as unknown (rejected.unknown-recipient)
 *   queued   = the sampled queue depth
 * The series start at the domain's first bucket with any traffic, so a new install is in cold
 * start (hour-of-day, then a fixed band) until it has `weeks` weeks. A failed check is logged
 * (CONTINUITY_FAILED, step "baseline") and tried at the next bucket.
 */
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { Keyspace } from "../redis/keyspace.js";
import type { TrafficSeries } from "../observability/traffic-series.js";
import { DAY, WEEK } from "../../policies/baseline-bands.js";
import { assess, seasonalBands, type BaselineOptions, type DomainSeries, type Verdict as BaselineVerdict } from "../../policies/baseline.js";
import type { ContinuityEvents } from "./continuity-event.js";
import type { AlertSink } from "./alert-sink.js";
import { applyVerdict } from "./condition-watch.js";
import { Repeater } from "./repeater.js";

const METRICS = ["accepted", "rejected.backup", "rejected.unknown-recipient", "queue"] as const;

/**
 * The detector's input for a domain over [from, to) (bucket-aligned), from its first bucket with
 * any traffic; null without traffic. The server reads `weeks` weeks and a day back; the console's
 * band (src/console/baseline-band.ts) reads the same way over its window and that much before.
 */
export async function readDomainSeries(traffic: TrafficSeries, domain: string, from: number, to: number): Promise<DomainSeries | null> {
  const bucketMs = traffic.options.bucketMs;
  const r = await traffic.read({ domain, metrics: METRICS, from, to, step: bucketMs });
  const first = r.points.findIndex((p) => METRICS.some((m) => (p[m] ?? 0) > 0));
  if (first < 0) return null;
  const pts = r.points.slice(first);
  return {
    domain, start: pts[0]!.t, bucketMs,
    accepted: pts.map((p) => (p.accepted ?? 0) + (p["rejected.backup"] ?? 0)),
    rejected: pts.map((p) => p["rejected.unknown-recipient"] ?? 0),
    queued: pts.map((p) => p.queue ?? 0),
  };
}

export class BaselineWatch {
  private repeater?: Repeater;
  private judged = -1;

  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly traffic: TrafficSeries,
              private readonly events: ContinuityEvents, private readonly alerts: AlertSink, private readonly log: Logger) {}

  private get options(): BaselineOptions {
    const b = this.config.baselines;
    return { weeks: b.weeks, holdoff: b.holdoff, floor: b.floor, width: b.width };
  }

  /** A domain's series up to the last complete bucket before `now`; null without any traffic yet. */
  async series(domain: string, now = Date.now()): Promise<DomainSeries | null> {
    const bucketMs = this.traffic.options.bucketMs;
    const to = Math.floor(now / bucketMs) * bucketMs;
    return readDomainSeries(this.traffic, domain, to - this.options.weeks * WEEK - DAY, to);
  }

  /** The detector's verdicts for a domain's last complete bucket (empty without traffic). */
  async verdicts(domain: string, now = Date.now()): Promise<BaselineVerdict[]> {
    const s = await this.series(domain, now);
    if (!s) return [];
    const up = (await this.redis.hget(this.keys.primary(domain), "state")) !== "down";
    return assess(s, s.accepted.length - 1, seasonalBands(s, this.options), this.options, up);
  }

  /** Judges each domain's newest complete bucket once (this node, if it wins the turn). */
  async check(now = Date.now()): Promise<void> {
    const bucketMs = this.traffic.options.bucketMs;
    const bucket = Math.floor(now / bucketMs) - 1;
    if (!this.config.baselines.enabled || bucket <= this.judged) return;
    this.judged = bucket;
    for (const domain of Object.keys(this.config.domains)) {
      try {
        const turn = await this.redis.set(this.keys.baselineTurn(domain, bucket), "1", "PX", 2 * bucketMs, "NX");
        if (turn !== "OK") continue;
        for (const v of await this.verdicts(domain, now)) {
          if (v.state === "keep") continue;
          // the anomaly began with the first of the holdoff's buckets
          await applyVerdict(this.events, this.alerts, this.log, { kind: v.kind, domain, active: v.state === "raise", summary: v.summary, startedAt: v.at - (this.options.holdoff - 1) * bucketMs,
            data: { at: v.at, actual: v.actual, expected: v.expected, low: v.low, high: v.high, profile: v.profile, bucketMinutes: bucketMs / 60_000 } }, now);
        }
      } catch (err) {
        this.log.warn({ event: "CONTINUITY_FAILED", domain, step: "baseline", err: (err as Error).message }, "baseline check failed");
      }
    }
  }

  start(): void {
    this.repeater = new Repeater(this.config.continuity.checkInterval, () => this.check());
    this.repeater.start();
  }

  async stop(): Promise<void> { await this.repeater?.stop(); }
}

/**
 * Traffic series: per domain, per fixed bucket (baselines.bucket, 5 min by default), what
 * came in and went out — accepted messages, their recipients and bytes, refusals by reason
 * class, deliveries, bounces, deferrals, and the sampled queue depth — kept in Redis for
 * baselines.retention (8 weeks) and shared by every node (HINCRBY is atomic). The learned
 * baselines (issue 14) and the console read them back through readTrafficSeries().
 *
 * Layout (chosen for memory, measured in test/integration/traffic.test.ts and the README):
 *   key    <prefix>:traffic:{<domain>}:<bucket seconds>:<chunk>   a hash per domain per chunk
 *          of CHUNK buckets (an hour at 5 min); the {<domain>} tag keeps a domain on one slot
 *   field  <bucket index in chunk><metric code>, e.g. "7a" = accepted in the 8th bucket
 *   TTL    EXPIREAT the chunk's end + retention (the same value from every writer)
 * A chunk holds a few dozen small fields, so Redis keeps it as a listpack (tens of bytes per
 * field) rather than a hashtable; a hash per day would pass hash-max-listpack-entries and
 * cost several times more. Refusals before the domain is known (connection limits, MAIL,
 * relay attempts) go to the domain "*".
 *
 * Writes are batched in memory, not sent per message: record() only adds its counts to a
 * map keyed by domain, chunk and field (and the domain's running totals), and a flush writes
 * what has accumulated — HINCRBYs summed, one EXPIREAT per chunk — as one pipeline per domain
 * (a domain's keys share its {<domain>} tag: one slot, Cluster-safe) at most every `flushMs`
 * (1 s; an unref'd timer armed by the first count after a flush, no permanent interval), at
 * once when more than `maxPending` fields wait (memory stays bounded), on flush()/close()
 * (the SMTP and delivery sides' stop) and before this instance's own reads. Why: the accept
 * path is CPU-bound, and a 7-command pipeline per accepted message just for statistics was a
 * third of its Redis round trips; now it is one pipeline per domain per second whatever the
 * rate. The price: readers see a count up to ~1 s late, and a kill -9 loses at most the
 * last second of counts — acceptable for statistics, never for mail (the message itself is
 * committed before its 250). Writes never delay or fail a session; a failed flush drops its
 * counts and is reported to `onError` (the caller logs TRAFFIC_WRITE_FAILED through
 * RepeatedErrors); it is not retried, since a pipeline that failed midway may have applied
 * part of its HINCRBYs and a retry would count them twice.
 * The queue depth is a gauge read from the shared Redis, so every node samples the same
 * figure: a bucket keeps its largest sample (a one-key Lua max, whichever node wrote it), so
 * a queue that filled and drained within a bucket still shows its peak; a step wider than a
 * bucket shows its largest bucket too.
 */
import type { Redis } from "ioredis";
import { LuaScript } from "../redis/lua-script.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "./log.js";
import { repeatedErrors } from "./repeated-errors.js";

/** Refusals by class: a fixed set, so Prometheus labels and series stay bounded. */
export const REJECT_REASONS = ["unknown-recipient", "relay", "policy", "size", "virus", "spam", "rate", "backup", "tempfail", "other"] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export const COUNTER_METRICS = ["accepted", "recipients", "bytes", "delivered", "bounced", "deferred"] as const;
export type CounterMetric = (typeof COUNTER_METRICS)[number];
/** Every series name: the counters, `queue` (sampled depth) and `rejected.<reason>`; `rejected` alone is their sum on read. */
export type TrafficMetric = CounterMetric | "queue" | `rejected.${RejectReason}`;
export const TRAFFIC_METRICS: readonly TrafficMetric[] = [...COUNTER_METRICS, "queue", ...REJECT_REASONS.map((r) => `rejected.${r}` as const)];
/** What a read may ask for: any series, or `rejected` (every reason added up). */
export type TrafficQueryMetric = TrafficMetric | "rejected";
export const QUERY_METRICS: readonly TrafficQueryMetric[] = [...TRAFFIC_METRICS, "rejected"];

/** Buckets per Redis hash. */
export const CHUNK = 12;
/** The series of refusals made before any domain is known. */
export const GLOBAL_DOMAIN = "*";

/** Short field codes: the field names are most of a chunk's bytes. */
const CODES: Record<TrafficMetric, string> = {
  accepted: "a", recipients: "n", bytes: "b", delivered: "d", bounced: "x", deferred: "f", queue: "q",
  "rejected.unknown-recipient": "ru", "rejected.relay": "rl", "rejected.policy": "rp", "rejected.size": "rs",
  "rejected.virus": "rv", "rejected.spam": "rm", "rejected.rate": "rr", "rejected.backup": "rb",
  "rejected.tempfail": "rt", "rejected.other": "ro",
};
const BY_CODE = new Map(Object.entries(CODES).map(([m, c]) => [c, m as TrafficMetric]));

/** The rule names the SMTP side counts (RejectCounter) → their class. Unlisted: "other". */
const REASON_CLASS: Record<string, RejectReason> = {
  "unknown-recipient": "unknown-recipient",
  "relay-domain": "relay", "ip-literal": "relay",
  syntax: "policy", "invalid-helo": "policy", "tls-required": "policy", "mail-loop": "policy",
  "nul-byte": "policy", "line-too-long": "policy",
  "message-too-big": "size", "header-too-big": "size", "too-large": "size",
  virus: "virus", spam: "spam",
  "rate-limit": "rate", "too-many-connections": "rate", "too-many-connections-ip": "rate",
  "too-many-transactions": "rate", "too-many-recipients": "rate",
  "backup-deferred": "backup",
  "storage-down": "tempfail", "store-error": "tempfail", "replica-ack-timeout": "tempfail",
  "filters-busy": "tempfail", "filters-saturated": "tempfail", "filter-fault": "tempfail",
  "rcpt-check-error": "tempfail", "shutting-down": "tempfail", "unverified-recipient": "tempfail",
};

/** The class of an SMTP refusal reason (the `reason` of its reply). */
export function reasonClass(reason: string): RejectReason {
  return REASON_CLASS[reason] ?? "other";
}

/** The keys written here (src/redis/keyspace.ts names them; observability sits below redis). */
export interface TrafficKeys { traffic(domain: string, bucketSeconds: number, chunk: number): string; trafficTotals(domain: string): string }

export interface TrafficOptions {
  /** Bucket length, ms (a whole number of seconds). */
  bucketMs: number;
  /** How long a bucket is kept after it ends, ms. */
  retentionMs: number;
  /** Called (not awaited) when a fire-and-forget write fails. */
  onError?: (err: Error) => void;
  /** How long counts wait in memory before they are written, ms (default FLUSH_MS). */
  flushMs?: number;
  /** More distinct fields than this waiting: written at once (default MAX_PENDING). */
  maxPending?: number;
}

/** Counts wait at most this long in memory before a flush writes them. */
export const FLUSH_MS = 1000;
/** Pending fields (chunk fields and totals, every domain) past which a flush starts at once. */
export const MAX_PENDING = 10_000;
/** How long close() waits for the last writes (Redis may be gone at shutdown). */
const CLOSE_WAIT_MS = 1000;

/** One domain's counts not yet written: chunk → field → n, and metric → n for the totals. */
interface PendingCounts { chunks: Map<number, Map<string, number>>; totals: Map<string, number> }

export interface TrafficQuery {
  domain: string;
  metrics: readonly TrafficQueryMetric[];
  /** Epoch ms, rounded down to a step. */
  from: number;
  /** Epoch ms, exclusive, rounded up to a step. */
  to: number;
  /** ms, a multiple of the bucket. */
  step: number;
}

export type TrafficPoint = { t: number } & Partial<Record<TrafficQueryMetric, number>>;
export interface TrafficSeriesResult { domain: string; bucket: number; step: number; from: number; to: number; points: TrafficPoint[] }

/** Where one instant falls: the chunk (key) and the bucket index inside it. */
export function bucketOf(at: number, bucketMs: number): { bucket: number; chunk: number; index: number } {
  const bucket = Math.floor(at / bucketMs);
  return { bucket, chunk: Math.floor(bucket / CHUNK), index: bucket % CHUNK };
}

/** The hash field of one metric in one bucket. */
export function fieldOf(index: number, metric: TrafficMetric): string {
  return `${index}${CODES[metric]}`;
}

/** The inverse of fieldOf; null for a field this version does not know. */
export function parseField(field: string): { index: number; metric: TrafficMetric } | null {
  const m = /^(\d+)([a-z]+)$/.exec(field);
  const metric = m ? BY_CODE.get(m[2]!) : undefined;
  return m && metric ? { index: Number(m[1]), metric } : null;
}

/** When a chunk's key expires (epoch seconds): its last bucket's end plus the retention. */
export function expiryOf(chunk: number, o: Pick<TrafficOptions, "bucketMs" | "retentionMs">): number {
  return Math.ceil(((chunk + 1) * CHUNK * o.bucketMs + o.retentionMs) / 1000);
}

/** HSET the field to ARGV[2] if that is larger than what it holds; EXPIREAT ARGV[3]. One key: Cluster-safe. */
const MAX_SCRIPT = new LuaScript(`local v = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
if tonumber(ARGV[2]) > v then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('EXPIREAT', KEYS[1], ARGV[3])
return 1`);

/** Gauges are merged over a step by taking the largest sample; counters are added. */
const isGauge = (m: TrafficMetric) => m === "queue";

export class TrafficSeries {
  private pending = new Map<string, PendingCounts>();
  /** Distinct fields in `pending` (chunk fields plus totals): the memory bound. */
  private pendingFields = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly redis: Redis, private readonly keys: TrafficKeys, readonly options: TrafficOptions) {}

  private key(domain: string, chunk: number): string {
    return this.keys.traffic(domain, this.options.bucketMs / 1000, chunk);
  }

  /** Adds counts to one domain's bucket at `at`, in memory until the next flush; never throws, never touches Redis itself. */
  record(domain: string, counts: Partial<Record<CounterMetric | `rejected.${RejectReason}`, number>>, at = Date.now()): void {
    let fields: Map<string, number> | undefined;
    let totals: Map<string, number> | undefined;
    let index = 0;
    for (const [metric, by] of Object.entries(counts) as [TrafficMetric, number][]) {
      if (!by) continue;
      if (!fields) {
        const b = bucketOf(at, this.options.bucketMs);
        index = b.index;
        let d = this.pending.get(domain);
        if (!d) this.pending.set(domain, d = { chunks: new Map(), totals: new Map() });
        fields = d.chunks.get(b.chunk);
        if (!fields) d.chunks.set(b.chunk, fields = new Map());
        totals = d.totals;
      }
      const n = Math.round(by);
      this.add(fields, fieldOf(index, metric), n);
      // the running totals behind mxspool_traffic_total (same slot: the same pipeline on a Cluster too)
      this.add(totals!, metric, n);
    }
    if (!fields) return;
    if (this.pendingFields > (this.options.maxPending ?? MAX_PENDING)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs ?? FLUSH_MS).unref();
  }

  private add(m: Map<string, number>, field: string, n: number): void {
    const v = m.get(field);
    if (v === undefined) this.pendingFields++;
    m.set(field, (v ?? 0) + n);
  }

  /**
   * Writes every pending count (one pipeline per domain) and resolves once they and the
   * writes already under way are answered. Never rejects: a failure goes to `onError`.
   */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    this.pendingFields = 0;
    for (const [domain, d] of batch) {
      const p = this.redis.pipeline();
      for (const [chunk, fields] of d.chunks) {
        const key = this.key(domain, chunk);
        for (const [field, n] of fields) p.hincrby(key, field, n);
        p.expireat(key, expiryOf(chunk, this.options));
      }
      const totalsKey = this.keys.trafficTotals(domain);
      for (const [metric, n] of d.totals) p.hincrby(totalsKey, metric, n);
      this.run(p);
    }
    await Promise.all(this.writing);
  }

  /** The last flush at a stop: writes what is pending, waiting at most about a second for Redis. */
  async close(): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => { t = setTimeout(resolve, CLOSE_WAIT_MS).unref(); })]);
    clearTimeout(t);
  }

  /** Every counter ever recorded for these domains (never expire): { domain: { metric: n } }, for /metrics. */
  async totals(domains: readonly string[]): Promise<Record<string, Record<string, number>>> {
    await this.flush(); // what this instance counted first
    // one command per domain, not one pipeline: each domain's totals are in its own slot on a Cluster
    const hashes = await Promise.all(domains.map((d) => this.redis.hgetall(this.keys.trafficTotals(d))));
    return Object.fromEntries(domains.map((d, i) => [d, Object.fromEntries(Object.entries(hashes[i] ?? {}).map(([k, v]) => [k, Number(v)]))]));
  }

  /** Counts one SMTP refusal under its reason class. */
  recordRejection(domain: string | undefined, reason: string, at = Date.now()): void {
    this.record(domain ?? GLOBAL_DOMAIN, { [`rejected.${reasonClass(reason)}`]: 1 }, at);
  }

  /** The queue depths sampled now; the bucket keeps its largest sample (from any node). One call per domain (its own slot). */
  sampleQueue(depths: Record<string, number>, at = Date.now()): void {
    const { chunk, index } = bucketOf(at, this.options.bucketMs);
    for (const [domain, depth] of Object.entries(depths)) {
      const key = this.key(domain, chunk);
      this.track(MAX_SCRIPT.run(this.redis, [key], [fieldOf(index, "queue"), String(Math.max(0, Math.round(depth))), String(expiryOf(chunk, this.options))]));
    }
  }

  private run(p: ReturnType<Redis["pipeline"]>): void {
    this.track(p.exec().then((res) => {
      const err = res?.find(([e]) => e)?.[0];
      if (err) throw err;
    }));
  }

  /** A write flush() and close() wait for; its error goes to onError. */
  private track(write: Promise<unknown>): void {
    const done: Promise<void> = write.then(() => undefined, (err: Error) => this.options.onError?.(err)).finally(() => this.writing.delete(done));
    this.writing.add(done);
  }

  /** Reads one domain's series, bucket counts added up per step (gauges: the largest sample). Missing buckets read as 0. */
  async read(q: TrafficQuery): Promise<TrafficSeriesResult> {
    await this.flush(); // what this instance counted first
    const { bucketMs } = this.options;
    const from = Math.floor(q.from / q.step) * q.step;
    const to = Math.ceil(q.to / q.step) * q.step;
    const first = bucketOf(from, bucketMs).chunk;
    const last = bucketOf(to - 1, bucketMs).chunk;
    const p = this.redis.pipeline();
    for (let c = first; c <= last; c++) p.hgetall(this.key(q.domain, c));
    const res = (await p.exec()) ?? [];
    const points: TrafficPoint[] = [];
    for (let t = from; t < to; t += q.step) {
      const point: TrafficPoint = { t };
      for (const m of q.metrics) point[m] = 0;
      points.push(point);
    }
    const wanted = new Set<string>(q.metrics);
    const rejectedSum = wanted.has("rejected");
    res.forEach(([err, hash], i) => {
      if (err) throw err;
      const chunk = first + i;
      for (const [field, raw] of Object.entries(hash as Record<string, string>)) {
        const f = parseField(field);
        if (!f) continue;
        const t = (chunk * CHUNK + f.index) * bucketMs;
        if (t < from || t >= to) continue;
        const point = points[Math.floor((t - from) / q.step)]!;
        const v = Number(raw);
        const add = (m: TrafficQueryMetric) => { point[m] = isGauge(f.metric) ? Math.max(point[m] ?? 0, v) : (point[m] ?? 0) + v; };
        if (wanted.has(f.metric)) add(f.metric);
        if (rejectedSum && f.metric.startsWith("rejected.")) add("rejected");
      }
    });
    return { domain: q.domain, bucket: bucketMs, step: q.step, from, to, points };
  }
}

/** The free-function form: the same as `series.record(domain, { [metric]: n }, at)`. */
export function recordTraffic(series: TrafficSeries, domain: string, metric: CounterMetric | `rejected.${RejectReason}`, n = 1, at = Date.now()): void {
  series.record(domain, { [metric]: n }, at);
}

/** The free-function form of series.read(). */
export function readTrafficSeries(series: TrafficSeries, q: TrafficQuery): Promise<TrafficSeriesResult> {
  return series.read(q);
}

/** The series as configured (`baselines`), its write errors logged as TRAFFIC_WRITE_FAILED (a storm collapsed to a line every 10 s). */
export function configuredTraffic(config: Config, redis: Redis, keys: TrafficKeys, log: Logger): TrafficSeries {
  return new TrafficSeries(redis, keys, {
    bucketMs: config.baselines.bucket, retentionMs: config.baselines.retention,
    onError: (err) => repeatedErrors(log).warn({ event: "TRAFFIC_WRITE_FAILED", err: err.message }, "could not record traffic"),
  });
}

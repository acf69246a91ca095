/**
 * The Prometheus metrics (prom-client) behind GET /metrics. The source of truth is Redis —
 * counters every process adds to — so this process's metrics are set from one snapshot of
 * it on each scrape (`render(snapshot)`), never counted here:
 *   mxspool_messages_accepted_total, mxspool_recipients_accepted_total
 *   mxspool_messages_rejected_total{reason}        refusals at SMTP time, by reason
 *   mxspool_backup_deferred_total{domain}         RCPTs deferred by acceptWhen: primaryDown (primary up)
 *   mxspool_messages_finished_total{state}         delivered | bounced | deleted
 *   mxspool_queue_messages{state}                  messages per state now (queue depth)
 *   mxspool_outbound_messages{state}               the share of mxspool_queue_messages that users sent (outbound)
 *   mxspool_delivery_attempts_total{result}        delivered | deferred | bounced | unreachable
 *   mxspool_delivery_latency_seconds               histogram, acceptance → the primary's 250
 *   mxspool_primary_up{domain}, mxspool_queue_paused{domain}
 *   mxspool_scanner_up{scanner}, mxspool_scanner_latency_seconds{scanner}  (last scan)
 *   mxspool_alerts_sent_total{channel}, mxspool_alerts_failed_total{channel}  webhook | email;
 *                                                  failed counts each failed attempt (retried)
 *   mxspool_outage_active{domain}                  1 while an outage event is open and the primary not back
 *   mxspool_outage_seconds_total{domain}           time primaries were away (finished outages + the open one)
 *   mxspool_time_to_detect_seconds{domain}         first failed probe → declared down, of the last outage
 *   mxspool_drill_last_timestamp_seconds{domain}   when the domain's last failover drill ran (Keyspace.drillLast)
 *   mxspool_drill_last_passed{domain}              1 if that drill passed, 0 if it failed
 *   mxspool_traffic_total{domain,kind,reason}     the traffic series' running totals per domain ("*": refused before a
 *                                                  domain was known): kind accepted | recipients | delivered | bounced |
 *                                                  deferred | rejected (reason: its class, a fixed set; "" for the others)
 *   mxspool_traffic_bytes_total{domain}            bytes accepted per domain
 *   mxspool_redis_bytes_per_queued_message, mxspool_redis_memory_limit_bytes,
 *   mxspool_outage_hours_left                      what the spool costs (absent when unknown)
 *   mxspool_redis_used_memory_bytes                Redis used_memory now
 *   mxspool_queue_oldest_seconds                   age of the oldest message still waiting (queued, deferred, active); 0 when none
 * A counter here can go down when Redis is reset; Prometheus reads that as a counter reset.
 */
import { Counter, Gauge, Registry, type Metric } from "prom-client";
import { LATENCY_BUCKETS } from "./delivery-stats.js";

export interface MetricsSnapshot {
  counters: Record<string, number>;
  rejected: Record<string, number>;
  /** RCPTs deferred per domain by `acceptWhen: primaryDown` while the primary was up. */
  backupDeferred: Record<string, number>;
  queue: Record<string, number>;
  /** Outbound messages per state (records flagged "outbound"; "active" is not split out). */
  outbound?: Record<string, number>;
  attempts: Record<string, number>;
  /** The raw latency hash: a field per bucket bound ("0.5", ..., "inf"), sum_ms, count. */
  latency: Record<string, string>;
  primaries: { domain: string; state: string; queuePaused: boolean }[];
  scanners: { name: string; state: string; lastLatencyMs: number | null }[];
  capacity?: { bytesPerQueuedMessage: number | null; limitBytes: number; outageHoursLeft: number | null; usedMemory?: number };
  /** Seconds since the oldest waiting message arrived (0: none waiting). */
  oldestWaitingSeconds?: number;
  /** The alert stats hash: `sent:<channel>`, `failed:<channel>` → count. */
  alerts?: Record<string, number>;
  outages?: { domain: string; active: boolean; secondsTotal: number; timeToDetectSeconds?: number }[];
  /** The last drill of each domain drilled so far. */
  drills?: { domain: string; at: number; passed: boolean }[];
  /** The traffic series' totals: domain → metric (accepted, bytes, rejected.<reason>, ...) → count. */
  traffic?: Record<string, Record<string, number>>;
}

type Values = { value: number; labels?: Record<string, string | number>; metricName?: string }[];

/** A histogram whose buckets are counted elsewhere (Redis): prom-client formats it, nothing observes here. */
class ExternalHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  values: Values = [];
  constructor(readonly name: string, readonly help: string) {}
  async get() { return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values }; }
  reset() { this.values = []; }

  set(raw: Record<string, string>): void {
    let cumulative = 0;
    const values: Values = [];
    for (const b of LATENCY_BUCKETS) {
      cumulative += Number(raw[String(b)] ?? 0);
      values.push({ metricName: `${this.name}_bucket`, labels: { le: b }, value: cumulative });
    }
    const count = Number(raw.count ?? 0);
    values.push({ metricName: `${this.name}_bucket`, labels: { le: "+Inf" }, value: Math.max(count, cumulative + Number(raw.inf ?? 0)) });
    values.push({ metricName: `${this.name}_sum`, value: Number(raw.sum_ms ?? 0) / 1000 });
    values.push({ metricName: `${this.name}_count`, value: count });
    this.values = values;
  }
}

export class Metrics {
  readonly registry = new Registry();
  private readonly r = [this.registry];
  private readonly accepted = new Counter({ name: "mxspool_messages_accepted_total", help: "Messages accepted (250 after DATA), one per domain copy", registers: this.r });
  private readonly rcptAccepted = new Counter({ name: "mxspool_recipients_accepted_total", help: "Recipients in accepted messages", registers: this.r });
  private readonly rejected = new Counter({ name: "mxspool_messages_rejected_total", help: "SMTP refusals by reason", labelNames: ["reason"], registers: this.r });
  private readonly backupDeferred = new Counter({ name: "mxspool_backup_deferred_total", help: "Recipients deferred (450 4.7.1) at the backup MX while the domain's primary was up (acceptWhen: primaryDown)", labelNames: ["domain"], registers: this.r });
  private readonly finished = new Counter({ name: "mxspool_messages_finished_total", help: "Messages that reached a final state", labelNames: ["state"], registers: this.r });
  private readonly outbound = new Gauge({ name: "mxspool_outbound_messages", help: "Messages users sent (outbound), per state now: queued, deferred, held; retained delivered, bounced, deleted", labelNames: ["state"], registers: this.r });
  private readonly queue = new Gauge({ name: "mxspool_queue_messages", help: "Messages per state now (queued, deferred, active, held; retained delivered, bounced, deleted)", labelNames: ["state"], registers: this.r });
  private readonly attempts = new Counter({ name: "mxspool_delivery_attempts_total", help: "Delivery attempts to the primary by result", labelNames: ["result"], registers: this.r });
  private readonly latency = new ExternalHistogram("mxspool_delivery_latency_seconds", "Time from acceptance to delivery at the primary");
  private readonly primaryUp = new Gauge({ name: "mxspool_primary_up", help: "1 when the domain's primary answers probes, 0 when down or not yet probed", labelNames: ["domain"], registers: this.r });
  private readonly paused = new Gauge({ name: "mxspool_queue_paused", help: "1 when the domain's delivery queue is paused (primary down or admin pause)", labelNames: ["domain"], registers: this.r });
  private readonly scannerUp = new Gauge({ name: "mxspool_scanner_up", help: "1 when the content scanner answers, 0 when down (absent: not configured or not yet seen)", labelNames: ["scanner"], registers: this.r });
  private readonly bytesPerQueued = new Gauge({ name: "mxspool_redis_bytes_per_queued_message", help: "Redis memory per queued message now (MEMORY USAGE of a sample of queued messages)", registers: this.r });
  private readonly memoryLimit = new Gauge({ name: "mxspool_redis_memory_limit_bytes", help: "Redis maxmemory, or the machine's memory when Redis has no limit", registers: this.r });
  private readonly usedMemory = new Gauge({ name: "mxspool_redis_used_memory_bytes", help: "Redis used_memory now (what the spool and everything else in that Redis take)", registers: this.r });
  private readonly oldestWaiting = new Gauge({ name: "mxspool_queue_oldest_seconds", help: "Age of the oldest message still waiting for delivery (queued, deferred, active); 0 when none waits", registers: this.r });
  private readonly outageHours = new Gauge({ name: "mxspool_outage_hours_left", help: "Hours of outage that still fit under the memory limit at the last 24 h's arrival rate", registers: this.r });
  private readonly scannerLatency = new Gauge({ name: "mxspool_scanner_latency_seconds", help: "Latency of the scanner's last scan (the slowest across processes)", labelNames: ["scanner"], registers: this.r });
  private readonly outageActive = new Gauge({ name: "mxspool_outage_active", help: "1 while the domain's primary is in an outage (event open, not recovered)", labelNames: ["domain"], registers: this.r });
  private readonly outageSeconds = new Counter({ name: "mxspool_outage_seconds_total", help: "Seconds the domain's primary was away, over every recorded outage", labelNames: ["domain"], registers: this.r });
  private readonly timeToDetect = new Gauge({ name: "mxspool_time_to_detect_seconds", help: "From the first failed probe to the down decision, in the domain's last outage", labelNames: ["domain"], registers: this.r });

  private readonly alertsSent = new Counter({ name: "mxspool_alerts_sent_total", help: "Continuity alerts delivered, per channel (webhook, email)", labelNames: ["channel"], registers: this.r });
  private readonly drillAt = new Gauge({ name: "mxspool_drill_last_timestamp_seconds", help: "When the domain's last failover drill ran (unix seconds)", labelNames: ["domain"], registers: this.r });
  private readonly drillPassed = new Gauge({ name: "mxspool_drill_last_passed", help: "1 if the domain's last failover drill passed, 0 if it failed", labelNames: ["domain"], registers: this.r });
  private readonly alertsFailed = new Counter({ name: "mxspool_alerts_failed_total", help: "Failed attempts to send a continuity alert, per channel (each is retried until alerts.maxAge)", labelNames: ["channel"], registers: this.r });

  private readonly traffic = new Counter({ name: "mxspool_traffic_total", help: "Traffic per configured domain (\"*\": refused before a domain was known): kind accepted (messages), recipients, delivered, bounced, deferred (recipients), rejected (by reason class)", labelNames: ["domain", "kind", "reason"], registers: this.r });
  private readonly trafficBytes = new Counter({ name: "mxspool_traffic_bytes_total", help: "Bytes accepted per configured domain", labelNames: ["domain"], registers: this.r });

  constructor() {
    this.registry.registerMetric(this.latency as unknown as Metric<string>);
  }

  get contentType(): string { return this.registry.contentType; }

  async render(s: MetricsSnapshot): Promise<string> {
    for (const m of [this.accepted, this.rcptAccepted, this.rejected, this.backupDeferred, this.finished, this.queue, this.outbound, this.attempts, this.primaryUp, this.paused, this.scannerUp, this.scannerLatency, this.alertsSent, this.alertsFailed, this.outageActive, this.outageSeconds, this.timeToDetect, this.drillAt, this.drillPassed, this.bytesPerQueued, this.memoryLimit, this.outageHours, this.traffic, this.trafficBytes, this.usedMemory, this.oldestWaiting]) m.reset();
    if (s.oldestWaitingSeconds !== undefined) this.oldestWaiting.set(s.oldestWaitingSeconds);
    if (s.capacity) {
      if (s.capacity.bytesPerQueuedMessage !== null) this.bytesPerQueued.set(s.capacity.bytesPerQueuedMessage);
      this.memoryLimit.set(s.capacity.limitBytes);
      if (s.capacity.outageHoursLeft !== null) this.outageHours.set(s.capacity.outageHoursLeft);
      if (s.capacity.usedMemory !== undefined) this.usedMemory.set(s.capacity.usedMemory);
    }
    this.accepted.inc(s.counters.accepted ?? 0);
    this.rcptAccepted.inc(s.counters.rcpt_accepted ?? 0);
    for (const [reason, n] of Object.entries(s.rejected)) this.rejected.inc({ reason }, Math.max(0, n));
    for (const [domain, n] of Object.entries(s.backupDeferred)) this.backupDeferred.inc({ domain }, Math.max(0, n));
    for (const state of ["delivered", "bounced", "deleted"]) this.finished.inc({ state }, Math.max(0, s.counters[state] ?? 0));
    for (const [state, n] of Object.entries(s.queue)) this.queue.set({ state }, n);
    for (const [state, n] of Object.entries(s.outbound ?? {})) this.outbound.set({ state }, n);
    for (const result of ["delivered", "deferred", "bounced", "unreachable"]) this.attempts.inc({ result }, Math.max(0, s.attempts[result] ?? 0));
    this.latency.set(s.latency);
    for (const p of s.primaries) {
      this.primaryUp.set({ domain: p.domain }, p.state === "up" ? 1 : 0);
      this.paused.set({ domain: p.domain }, p.queuePaused ? 1 : 0);
    }
    for (const sc of s.scanners) {
      if (sc.state !== "unknown") this.scannerUp.set({ scanner: sc.name }, sc.state === "up" ? 1 : 0);
      if (sc.lastLatencyMs !== null) this.scannerLatency.set({ scanner: sc.name }, sc.lastLatencyMs / 1000);
    }
    for (const channel of ["webhook", "email"]) {
      this.alertsSent.inc({ channel }, Math.max(0, s.alerts?.[`sent:${channel}`] ?? 0));
      this.alertsFailed.inc({ channel }, Math.max(0, s.alerts?.[`failed:${channel}`] ?? 0));
    }
    for (const o of s.outages ?? []) {
      this.outageActive.set({ domain: o.domain }, o.active ? 1 : 0);
      this.outageSeconds.inc({ domain: o.domain }, Math.max(0, o.secondsTotal));
      if (o.timeToDetectSeconds !== undefined) this.timeToDetect.set({ domain: o.domain }, o.timeToDetectSeconds);
    }
    for (const dr of s.drills ?? []) {
      this.drillAt.set({ domain: dr.domain }, dr.at / 1000);
      this.drillPassed.set({ domain: dr.domain }, dr.passed ? 1 : 0);
    }
    for (const [domain, t] of Object.entries(s.traffic ?? {})) {
      for (const [metric, n] of Object.entries(t)) {
        if (metric === "bytes") this.trafficBytes.inc({ domain }, Math.max(0, n));
        else if (metric.startsWith("rejected.")) this.traffic.inc({ domain, kind: "rejected", reason: metric.slice("rejected.".length) }, Math.max(0, n));
        else this.traffic.inc({ domain, kind: metric, reason: "" }, Math.max(0, n));
      }
    }
    return this.registry.metrics();
  }
}

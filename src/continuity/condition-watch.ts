/**
 * Checks the continuity conditions on a timer (`continuity.checkInterval`) and keeps one
 * event per condition: opened when a verdict (./conditions.ts) turns active, closed when it
 * turns inactive. Facts come from Redis (primary states, the waiting indexes, the scanner
 * reports, INFO memory and persistence) and the certificate file. Every node with a monitor runs it; the
 * event store lets one node win each open and close, and only that node alerts
 * (`<kind>.opened`, `<kind>.closed`). A failed check is logged and tried again next time.
 */
import { zrangeByScoreMerged } from "../redis/sharded-reads.js";
import { infoNumber } from "../redis/info-field.js";
import crypto from "node:crypto";
import fs from "node:fs";
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { Keyspace } from "../redis/keyspace.js";
import { readScannerReports } from "../observability/scanner-report.js";
import type { ContinuityEvents } from "./continuity-event.js";
import type { AlertSink } from "./alert-sink.js";
import { Repeater } from "./repeater.js";
import { aofProblem, certExpiry, queueStale, redisMemory, scannerDown, type Verdict } from "./conditions.js";

/** How many of the oldest waiting messages per state are read to find each domain's oldest. */
const OLDEST_SCAN = 200;

export class ConditionWatch {
  private repeater?: Repeater;

  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly events: ContinuityEvents,
              private readonly alerts: AlertSink, private readonly log: Logger, private readonly certFile?: string) {}

  /** The verdicts of every condition now. */
  async verdicts(now = Date.now()): Promise<Verdict[]> {
    const c = this.config.continuity;
    const out: Verdict[] = [];
    const oldest = await this.oldestWaiting();
    for (const domain of Object.keys(this.config.domains)) {
      const up = (await this.redis.hget(this.keys.primary(domain), "state")) === "up";
      out.push(queueStale(domain, up, oldest.get(domain), c.staleQueueAfter, now));
    }
    const byScanner = new Map<string, string[]>();
    for (const r of await readScannerReports(this.redis, this.keys, now)) {
      for (const s of r.health?.scanners ?? []) if (s.state) byScanner.set(s.name, [...(byScanner.get(s.name) ?? []), s.state]);
    }
    out.push(scannerDown(byScanner));
    const info = await this.redis.info("memory");
    const field = (k: string) => infoNumber(info, k);
    out.push(redisMemory(field("used_memory"), field("maxmemory") || field("total_system_memory"), c.redisMemoryPercent));
    const persistence = await this.redis.info("persistence");
    const text = (k: string) => new RegExp(`^${k}:(\\S+)`, "m").exec(persistence)?.[1];
    out.push(aofProblem({ aofEnabled: text("aof_enabled") === "1", aofWrite: text("aof_last_write_status"), aofRewrite: text("aof_last_bgrewrite_status"), rdbSave: text("rdb_last_bgsave_status") }));
    if (this.certFile && fs.existsSync(this.certFile)) {
      const cert = new crypto.X509Certificate(fs.readFileSync(this.certFile));
      out.push(certExpiry(this.certFile, Date.parse(cert.validTo), c.certExpiryDays, now));
    }
    return out;
  }

  /** Opens the events of active verdicts and closes those of inactive ones. */
  async check(now = Date.now()): Promise<void> {
    let verdicts: Verdict[];
    try { verdicts = await this.verdicts(now); } catch (err) {
      this.log.warn({ event: "CONTINUITY_FAILED", domain: "", step: "check", err: (err as Error).message }, "continuity check failed");
      return;
    }
    for (const v of verdicts) {
      try { await this.apply(v, now); } catch (err) {
        this.log.warn({ event: "CONTINUITY_FAILED", domain: v.domain ?? "", step: v.kind, err: (err as Error).message }, "continuity event step failed");
      }
    }
  }

  private apply(v: Verdict, now: number): Promise<void> { return applyVerdict(this.events, this.alerts, this.log, v, now); }

  /** Per domain, the arrival time of its oldest queued or deferred message (among the oldest OLDEST_SCAN of each). */
  private async oldestWaiting(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const state of ["queued", "deferred"]) {
      const entries = await zrangeByScoreMerged(this.redis, this.keys.shards().map((n) => this.keys.indexState(n, state)), "-inf", "+inf", OLDEST_SCAN);
      // one command each, sent together (not one pipeline: on Redis Cluster the records live on several nodes)
      const domains = await Promise.all(entries.map((e) => this.redis.hget(this.keys.messageMeta(e.id), "domain")));
      for (let i = 0; i < entries.length; i++) {
        const d = domains[i];
        const at = entries[i]!.score;
        if (d && at < (out.get(d) ?? Infinity)) out.set(d, at);
      }
    }
    return out;
  }

  start(): void {
    this.repeater = new Repeater(this.config.continuity.checkInterval, () => this.check());
    this.repeater.start();
  }

  async stop(): Promise<void> { await this.repeater?.stop(); }
}

/**
 * Opens the event of an active verdict and closes the event of an inactive one; the event store
 * lets one node win each, and only that node logs and alerts (`<kind>.opened`, `<kind>.closed`).
 * Also used by the learned baselines (./baseline-watch.ts).
 */
export async function applyVerdict(events: ContinuityEvents, alerts: AlertSink, log: Logger, v: Verdict, now: number): Promise<void> {
  const open = await events.current(v.kind, v.domain);
  if (v.active && !open) {
    const ev = await events.open({ kind: v.kind, domain: v.domain, startedAt: v.startedAt ?? now, detectedAt: now, summary: v.summary, data: v.data });
    if (!ev) return;
    log.warn({ event: "CONTINUITY_OPENED", kind: v.kind, domain: v.domain ?? "", id: ev.id }, v.summary);
    await alerts.publish({ type: `${v.kind}.opened`, domain: v.domain, at: now, event: ev, text: `mxspool: ${v.summary}` }, `${ev.id}:opened`);
  } else if (!v.active && open) {
    const patch = { state: "closed" as const, closedAt: now, data: { closedBy: v.summary } };
    if (!(await events.transition(open.id, "closed", patch))) return;
    log.info({ event: "CONTINUITY_CLOSED", kind: v.kind, domain: v.domain ?? "", id: open.id }, `${open.summary}: over (${v.summary})`);
    const ev = { ...open, ...patch, data: { ...open.data, ...patch.data } };
    await alerts.publish({ type: `${v.kind}.closed`, domain: v.domain, at: now, event: ev, text: `mxspool: over: ${open.summary}` }, `${open.id}:closed`);
  }
}

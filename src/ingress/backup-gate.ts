/**
 * Backup-only acceptance at RCPT (`domains.<d>.acceptWhen: primaryDown`). Reads the monitor's
 * verdict on the domain's primary (Keyspace.primary, written by src/monitor/primary-monitor.ts)
 * through a per-process cache of `cacheMs`, so a busy SMTP process asks Redis at most once
 * per domain per second, not once per RCPT; asks policies/accept-when.ts for the verdict.
 *
 * A deferral is backup traffic (mail aimed at this MX while the primary is healthy: spammers
 * pick the highest MX on purpose). Each one is counted per domain (Keyspace.backupDeferred,
 * mxspool_backup_deferred_total{domain}), logged as BACKUP_TRAFFIC_DEFERRED, and counted in a
 * window (Keyspace.backupWindow); when the window's count reaches the threshold a
 * ContinuityEvent of kind "backup-traffic" is opened, if an event store is wired (optional:
 * without one only the counter and the log line remain). Counting never delays the reply
 * and its failures are only logged.
 */
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { Keyspace } from "../redis/keyspace.js";
import { reply, type SmtpReply } from "../mail/reply.js";
import { acceptWhen, backupTrafficCrossed } from "../../policies/accept-when.js";
import type { ContinuityEvents } from "../continuity/continuity-event.js";
import type { AlertSink } from "../continuity/alert-sink.js";

interface Seen { state: "up" | "down" | "unknown"; lastProbe?: number; readAt: number }

export interface BackupGateOptions {
  /** How long one read of a primary's state serves this process. */
  cacheMs: number;
  /** Deferrals of one domain within `windowMs` that make a backup-traffic event. */
  threshold: number;
  windowMs: number;
  events?: ContinuityEvents;
  /** Where the event is announced (the durable alert queue); absent: recorded only. */
  alerts?: AlertSink;
}

export const BACKUP_TRAFFIC_DEFAULTS = { cacheMs: 1000, threshold: 20, windowMs: 10 * 60_000 };

export class BackupGate {
  private seen = new Map<string, Seen>();
  private reading = new Map<string, Promise<Seen>>();
  private readonly opts: BackupGateOptions;

  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly log: Logger,
              opts: Partial<BackupGateOptions> = {}) {
    this.opts = { ...BACKUP_TRAFFIC_DEFAULTS, ...opts };
  }

  /** null = this recipient may be accepted as far as acceptWhen goes; otherwise the 450 to send. */
  async check(address: string, domain: string, client: string): Promise<SmtpReply | null> {
    const mode = this.config.domains[domain]?.acceptWhen ?? "always";
    if (mode === "always") return null;
    const s = await this.primaryState(domain);
    const now = Date.now();
    const r = acceptWhen({
      acceptWhen: mode, domain, address, primary: s.state,
      probeAgeMs: s.lastProbe === undefined ? undefined : now - s.lastProbe,
      // three intervals plus a probe timeout: a monitor that missed that many has stopped
      staleAfterMs: 3 * this.config.monitor.interval + this.config.monitor.timeout,
    });
    if (!r) return null;
    void this.record(domain, address, client, now);
    return reply(r.code, r.enhanced, r.text, r.reason);
  }

  private primaryState(domain: string): Promise<Seen> {
    const s = this.seen.get(domain);
    if (s && Date.now() - s.readAt < this.opts.cacheMs) return Promise.resolve(s);
    const inflight = this.reading.get(domain);
    if (inflight) return inflight;
    const p = this.redis.hmget(this.keys.primary(domain), "state", "lastProbe").then(([state, lastProbe]) => {
      const seen: Seen = {
        state: state === "up" || state === "down" ? state : "unknown",
        lastProbe: lastProbe ? Number(lastProbe) : undefined,
        readAt: Date.now(),
      };
      this.seen.set(domain, seen);
      return seen;
    }).finally(() => this.reading.delete(domain));
    this.reading.set(domain, p);
    return p;
  }

  private async record(domain: string, rcpt: string, client: string, now: number): Promise<void> {
    try {
      const window = Math.floor(now / this.opts.windowMs);
      const key = this.keys.backupWindow(domain, window);
      const res = await this.redis.multi()
        .hincrby(this.keys.backupDeferred(), domain, 1)
        .incr(key)
        .pexpire(key, 2 * this.opts.windowMs)
        .exec();
      const count = Number(res?.[1]?.[1] ?? 0);
      this.log.info({ event: "BACKUP_TRAFFIC_DEFERRED", domain, rcpt, client, inWindow: count }, `deferred ${rcpt}: the primary of ${domain} is up`);
      if (!this.opts.events || !backupTrafficCrossed(count, this.opts.threshold)) return;
      const summary = `${count} deliveries to ${domain} tried at the backup MX within ${Math.round(this.opts.windowMs / 60_000)} min while its primary was up`;
      const ev = await this.opts.events.open({
        kind: "backup-traffic", domain, startedAt: window * this.opts.windowMs, detectedAt: now, summary,
        data: { deferrals: count, windowMs: this.opts.windowMs, threshold: this.opts.threshold, lastClient: client },
      });
      if (!ev) return; // another process crossed the threshold first: it records and announces
      // a burst, not a state that lasts: closed as it is recorded (no reminders), so the next
      // window's burst opens an event of its own
      await this.opts.events.transition(ev.id, "closed", { state: "closed", closedAt: now });
      await this.opts.alerts?.publish({ type: "backup-traffic.detected", domain, at: now, event: { ...ev, state: "closed", closedAt: now }, text: `mxspool: ${summary} (a spam run aimed at MX 20, or senders that cannot reach the primary)` }, `${ev.id}:detected`);
    } catch (err) {
      this.log.warn({ event: "BACKUP_TRAFFIC_RECORD_FAILED", domain, err: (err as Error).message }, "backup traffic could not be recorded");
    }
  }
}

/**
 * Turns the monitor's view of a primary into one outage event per outage: the monitor calls
 * down() when it decides a domain's primary is down (started = its first failed probe,
 * detected = the decision) and up() on the first good probe after (recovered); a timer
 * closes the event once the domain's delivery queue is empty with the primary up (drained),
 * recording what the outage held (./outage-facts.ts). Every node with a monitor runs one; the
 * event store lets exactly one win each step, and only the winner logs and alerts. A failure
 * here is logged and retried by the next probe or check: it never stops the monitor.
 */
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { Keyspace } from "../redis/keyspace.js";
import type { DeliveryQueues } from "../../queues/delivery-queue.js";
import type { ContinuityEvent, ContinuityEvents } from "./continuity-event.js";
import type { AlertSink } from "./alert-sink.js";
import { Repeater } from "./repeater.js";
import { outageFacts } from "./outage-facts.js";

/** What the monitor tells the tracker (src/monitor/primary-monitor.ts calls it). */
export interface OutageObserver {
  down(domain: string, f: { startedAt: number; detectedAt: number; error: string }): Promise<void>;
  up(domain: string, at: number): Promise<void>;
}

/** The sum of the reasons counted in the rejected hash (all domains: the SMTP refusals are not per domain). */
async function rejectedTotal(redis: Redis, keys: Keyspace): Promise<number> {
  return Object.values(await redis.hgetall(keys.rejected())).reduce((n, v) => n + Number(v), 0);
}

export const secs = (ms: number) => `${Math.round(ms / 100) / 10}s`;

export class OutageTracker implements OutageObserver {
  private repeater?: Repeater;

  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly events: ContinuityEvents,
              private readonly queues: DeliveryQueues, private readonly alerts: AlertSink, private readonly log: Logger) {}

  async down(domain: string, f: { startedAt: number; detectedAt: number; error: string }): Promise<void> {
    await this.guard(domain, "down", async () => {
      const ev = await this.events.open({ kind: "outage", domain, startedAt: f.startedAt, detectedAt: f.detectedAt,
        summary: `primary of ${domain} down: ${f.error}`.slice(0, 300), data: { error: f.error, rejectedBefore: await rejectedTotal(this.redis, this.keys) } });
      if (!ev) return;
      await this.redis.hset(this.keys.continuityStats(), `detect_ms:${domain}`, String(f.detectedAt - f.startedAt));
      this.log.warn({ event: "OUTAGE_STARTED", domain, id: ev.id, startedAt: f.startedAt, detectedAt: f.detectedAt }, `outage of ${domain} started (${ev.id})`);
      await this.publish(ev, "started", f.detectedAt, `mxspool: primary of ${domain} is down since ${new Date(f.startedAt).toISOString()} (${f.error}); mail is spooled`);
    });
  }

  async up(domain: string, at: number): Promise<void> {
    await this.guard(domain, "up", async () => {
      const ev = await this.events.current("outage", domain);
      if (!ev || ev.recoveredAt) return;
      const facts = await outageFacts(this.redis, this.keys, domain, ev.startedAt, at, at);
      const data = { spooled: { messages: facts.messages, recipients: facts.recipients, bytes: facts.bytes } };
      if (!(await this.events.transition(ev.id, "recovered", { recoveredAt: at, data }))) return;
      await this.redis.hincrby(this.keys.continuityStats(), `outage_ms:${domain}`, Math.max(0, at - ev.startedAt));
      this.log.info({ event: "OUTAGE_RECOVERED", domain, id: ev.id, outageMs: at - ev.startedAt }, `primary of ${domain} back after ${secs(at - ev.startedAt)}`);
      await this.publish({ ...ev, recoveredAt: at, data: { ...ev.data, ...data } }, "recovered", at,
        `mxspool: primary of ${domain} is back after ${secs(at - ev.startedAt)}; draining ${facts.messages} spooled message(s)`);
    });
  }

  /** Closes the recovered outages whose queue is empty while the primary is up. */
  async checkDrained(now = Date.now()): Promise<void> {
    for (const domain of Object.keys(this.config.domains)) {
      await this.guard(domain, "drain", async () => {
        const ev = await this.events.current("outage", domain);
        if (!ev?.recoveredAt) return;
        if ((await this.redis.hget(this.keys.primary(domain), "state")) !== "up") return;
        const c = await this.queues.get(domain).getJobCounts("wait", "active", "delayed", "prioritized", "waiting-children");
        if (Object.values(c).some((n) => n > 0)) return;
        const facts = await outageFacts(this.redis, this.keys, domain, ev.startedAt, ev.recoveredAt, ev.recoveredAt);
        const rejected = Math.max(0, (await rejectedTotal(this.redis, this.keys)) - Number(ev.data.rejectedBefore ?? 0));
        const drainedAt = Math.max(now, ev.recoveredAt);
        const patch: Partial<ContinuityEvent> = { state: "closed", drainedAt, closedAt: drainedAt,
          summary: `primary of ${domain} down ${secs(ev.recoveredAt - ev.startedAt)}; ${facts.messages} message(s) spooled, drained in ${secs(drainedAt - ev.recoveredAt)}`,
          data: { facts, rejected } };
        if (!(await this.events.transition(ev.id, "drained", patch))) return;
        this.log.info({ event: "OUTAGE_DRAINED", domain, id: ev.id, messages: facts.messages, drainMs: drainedAt - ev.recoveredAt }, `outage of ${domain} closed: queue drained`);
        await this.publish({ ...ev, ...patch, data: { ...ev.data, ...patch.data } } as ContinuityEvent, "drained", drainedAt, `mxspool: ${patch.summary}`);
      });
    }
  }

  start(): void {
    this.repeater = new Repeater(Math.min(this.config.monitor.interval, 10_000), () => this.checkDrained());
    this.repeater.start();
  }

  async stop(): Promise<void> { await this.repeater?.stop(); }

  private async publish(ev: ContinuityEvent, transition: string, at: number, text: string): Promise<void> {
    await this.alerts.publish({ type: `outage.${transition}`, domain: ev.domain, at, event: ev, text }, `${ev.id}:${transition}`);
  }

  private async guard(domain: string, step: string, fn: () => Promise<void>): Promise<void> {
    try { await fn(); } catch (err) { this.log.warn({ event: "CONTINUITY_FAILED", domain, step, err: (err as Error).message }, `continuity event step ${step} failed`); }
  }
}

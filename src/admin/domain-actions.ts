/**
 * What an admin can do to a domain's delivery and what it can see of its primary:
 *   pause   sets `adminPaused` in the primary hash and pauses the queue; the monitor then
 *           never resumes it, whatever the primary does
 *   resume  clears `adminPaused`; resumes the queue only if the primary is up (otherwise the
 *           monitor resumes it when the primary returns)
 *   flush   deliver now, ignoring backoff: promotes every delayed job and asks for a probe
 *   probe   asks the monitor (over the probe channel) to probe now and waits for the result
 * The primary state is the monitor's (Keyspace.primary); this never probes itself.
 */
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { DeliveryQueues } from "../../queues/delivery-queue.js";
import type { Keyspace } from "../redis/keyspace.js";
import { failure, ok, type Actor, type Outcome } from "./outcome.js";

export interface PrimaryView {
  domain: string;
  state: "up" | "down" | "unknown";
  since: number | null;
  lastProbe: number | null;
  lastError: string | null;
  endpoint: string | null;
  /** The configured primaries, or "mx". */
  primary: string[] | "mx";
  adminPaused: boolean;
  queuePaused: boolean;
}

export interface FlushDone { domain: string; promoted: number; queuePaused: boolean }

const num = (s: string | undefined) => (s ? Number(s) : null);

export class DomainActions {
  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly queues: DeliveryQueues, private readonly log: Logger) {}

  private key(domain: string) { return this.keys.primary(domain); }

  known(domain: string): boolean { return Boolean(this.config.domains[domain]) && this.queues.domains().includes(domain); }

  private unknown(domain: string) { return failure("not-found", "UNKNOWN_DOMAIN", `${domain} is not a configured domain`); }

  async primary(domain: string): Promise<PrimaryView> {
    const [h, queuePaused] = await Promise.all([this.redis.hgetall(this.key(domain)), this.queues.get(domain).isPaused()]);
    const state = h.state === "up" || h.state === "down" ? h.state : "unknown";
    return {
      domain, state, since: num(h.since), lastProbe: num(h.lastProbe), lastError: h.lastError || null, endpoint: h.endpoint || null,
      primary: this.config.domains[domain].primary, adminPaused: h.adminPaused === "1", queuePaused,
    };
  }

  primaries(): Promise<PrimaryView[]> {
    return Promise.all(this.queues.domains().map((d) => this.primary(d)));
  }

  async pause(domain: string, actor: Actor): Promise<Outcome<PrimaryView>> {
    if (!this.known(domain)) return this.unknown(domain);
    // the flag first: a monitor probe in between then sees it and leaves the queue paused
    await this.redis.hset(this.key(domain), { adminPaused: "1", adminPausedBy: actor.name, adminPausedAt: String(Date.now()) });
    await this.queues.get(domain).pause();
    this.log.warn({ event: "DOMAIN_PAUSED", domain, actor: actor.name, ip: actor.ip }, `delivery to ${domain} paused by an admin`);
    return ok(await this.primary(domain));
  }

  async resume(domain: string, actor: Actor): Promise<Outcome<PrimaryView>> {
    if (!this.known(domain)) return this.unknown(domain);
    await this.redis.hdel(this.key(domain), "adminPaused", "adminPausedBy", "adminPausedAt");
    const up = (await this.redis.hget(this.key(domain), "state")) === "up";
    if (up) await this.queues.get(domain).resume();
    this.log.info({ event: "DOMAIN_RESUMED", domain, actor: actor.name, ip: actor.ip, primaryUp: up },
      up ? `delivery to ${domain} resumed by an admin` : `admin pause of ${domain} lifted; the queue opens when the primary is up`);
    return ok(await this.primary(domain));
  }

  async flush(domain: string, actor: Actor): Promise<Outcome<FlushDone>> {
    if (!this.known(domain)) return this.unknown(domain);
    const q = this.queues.get(domain);
    const promoted = await q.getDelayedCount();
    await q.promoteJobs({ count: 1000 });
    await this.redis.publish(this.keys.probeChannel(), domain);
    const queuePaused = await q.isPaused();
    this.log.info({ event: "DOMAIN_FLUSHED", domain, promoted, queuePaused, actor: actor.name, ip: actor.ip }, `queue of ${domain} flushed`);
    return ok({ domain, promoted, queuePaused });
  }

  /** probed: false when the monitor did not report back within the wait (the probe still runs). */
  async probe(domain: string, actor: Actor): Promise<Outcome<{ probed: boolean; primary: PrimaryView }>> {
    if (!this.known(domain)) return this.unknown(domain);
    const before = Number((await this.redis.hget(this.key(domain), "lastProbe")) ?? 0);
    const listeners = await this.redis.publish(this.keys.probeChannel(), domain);
    if (!listeners) return failure("unavailable", "NO_MONITOR", "no primary monitor is running (it runs with the worker role)");
    this.log.info({ event: "PROBE_REQUESTED", domain, actor: actor.name, ip: actor.ip }, `probe of ${domain} requested`);
    const eps = this.config.domains[domain].primary;
    const waitMs = Math.min(30_000, (this.config.monitor.timeout + 1000) * (Array.isArray(eps) ? eps.length : 3) + 1000);
    const end = Date.now() + waitMs;
    while (Date.now() < end) {
      if (Number((await this.redis.hget(this.key(domain), "lastProbe")) ?? 0) > before) return ok({ probed: true, primary: await this.primary(domain) });
      await new Promise((r) => setTimeout(r, 100));
    }
    return ok({ probed: false, primary: await this.primary(domain) });
  }
}

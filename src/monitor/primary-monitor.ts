/**
 * Watches every domain's primary and opens or closes its delivery queue accordingly.
 * Every `monitor.interval` (and at once when a delivery reports the primary unreachable,
 * through the probe channel) it probes the endpoints in order; the first that answers makes
 * the domain "up". A domain that goes down has its queue paused, so waiting mail spends no
 * attempts; one that comes back is resumed, so the drain starts within one interval.
 * A primary that was up is declared down after `monitor.failuresBeforeDown` consecutive
 * failed probes; each down and up decision is told to the outage tracker (src/continuity/),
 * which records the outage as a continuity event. After a good probe, what the primary said
 * (banner, EHLO, certificate) with its addresses and the domain's MX set goes to the
 * fingerprint recorder (./fingerprint-recorder.ts) in the background: a change of the
 * primary becomes a primary-change event, raised by one node.
 * State lives in Redis (Keyspace.primary) so every node and the API see it.
 */
import type { Redis } from "ioredis";
import { LuaScript } from "../redis/lua-script.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { repeatedErrors } from "../observability/repeated-errors.js";
import type { DeliveryQueues } from "../../queues/delivery-queue.js";
import type { Keyspace } from "../redis/keyspace.js";
import type { PrimaryEndpoints } from "../transport/primary-endpoints.js";
import type { OutageObserver } from "../continuity/outage-tracker.js";
import { probeEndpoint, type ProbeSeen } from "./probe.js";
import type { FingerprintRecorder } from "./fingerprint-recorder.js";

export interface PrimaryState { state: "up" | "down" | "unknown"; since: number; lastProbe: number; lastError?: string; endpoint?: string }

/** HSET the probe's result, keeping `since` when the state did not change; returns { previous state or "", since }. */
const SWAP_STATE = new LuaScript(`local was = redis.call('HGET', KEYS[1], 'state') or ''
local since = ARGV[2]
if was == ARGV[1] then since = redis.call('HGET', KEYS[1], 'since') or ARGV[2] end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'since', since, 'lastProbe', ARGV[2], 'lastError', ARGV[3], 'endpoint', ARGV[4])
return {was, since}`);

export class PrimaryMonitor {
  private timer?: NodeJS.Timeout;
  private running = new Map<string, Promise<void>>();
  private states = new Map<string, PrimaryState>();
  private stopped = false;
  /** Per domain: consecutive failed probes and the time of the first of them. */
  private failures = new Map<string, { count: number; firstAt: number }>();
  /** Told of each down and up decision (the outage events); its failures never stop the monitor. */
  outages?: OutageObserver;
  /** Called when a domain's primary comes (back) up, before its queue is resumed. */
  onUp?: (domain: string) => Promise<void>;
  /** Records the primary's fingerprint after each good probe (monitor.fingerprint); off when unset. */
  fingerprints?: FingerprintRecorder;
  /** The fingerprint being recorded, per domain (one at a time; stop() waits for them). */
  private recording = new Map<string, Promise<void>>();

  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly subscriber: Redis,
              private readonly queues: DeliveryQueues, private readonly endpoints: PrimaryEndpoints, private readonly log: Logger) {}

  async start(): Promise<void> {
    await this.subscriber.subscribe(this.keys.probeChannel());
    this.subscriber.on("message", (_ch: string, domain: string) => { if (this.config.domains[domain]) void this.probe(domain); });
    await this.probeAll();
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(async () => { await this.probeAll(); tick(); }, this.config.monitor.interval);
    };
    tick();
  }

  state(domain: string): PrimaryState | undefined { return this.states.get(domain); }

  async probeAll(): Promise<void> {
    await Promise.all(Object.keys(this.config.domains).map((d) => this.probe(d)));
  }

  /**
   * Probes one domain; concurrent requests for the same domain share one probe. Never rejects:
   * a probe whose Redis writes fail (Redis gone, or closed at a stop) is logged and the next
   * one tries again — its callers are a timer and a pub/sub message, where a rejection would
   * end the process.
   */
  probe(domain: string): Promise<void> {
    const inflight = this.running.get(domain);
    if (inflight) return inflight;
    const p = this.doProbe(domain)
      .catch((err: Error) => { repeatedErrors(this.log).warn({ event: "PROBE_FAILED", domain, err: err.message }, `probe of ${domain} not recorded`); })
      .finally(() => this.running.delete(domain));
    this.running.set(domain, p);
    return p;
  }

  private async doProbe(domain: string): Promise<void> {
    const eps = await this.endpoints.resolve(domain, 0);
    let up = false;
    let endpoint: string | undefined;
    let seen: ProbeSeen | undefined;
    const errors: string[] = [];
    for (const ep of eps) {
      const r = await probeEndpoint(ep, this.config.hostname, this.config.monitor.timeout);
      if (r.up) { up = true; endpoint = `${ep.host}:${ep.port}`; seen = r.seen; break; }
      errors.push(`${ep.host}:${ep.port}: ${r.error}`);
    }
    if (!eps.length) errors.push("no primary endpoint (MX lookup empty or failed)");
    const now = Date.now();
    const prev = this.states.get(domain);
    const failed = up ? undefined : { count: (this.failures.get(domain)?.count ?? 0) + 1, firstAt: this.failures.get(domain)?.firstAt ?? now };
    if (failed) this.failures.set(domain, failed); else this.failures.delete(domain);
    // a primary that was up stays up until failuresBeforeDown probes in a row failed
    if (!up && prev?.state === "up" && failed!.count < this.config.monitor.failuresBeforeDown) {
      this.states.set(domain, { ...prev, lastProbe: now, lastError: errors.join("; ") });
      await this.redis.hset(this.keys.primary(domain), { lastProbe: String(now), lastError: errors.join("; ") });
      return;
    }
    const key = this.keys.primary(domain);
    // every node probes; the swap in Redis tells exactly one of them that the state changed
    const [was, since] = (await SWAP_STATE.run(this.redis, [key], [up ? "up" : "down", String(now), up ? "" : errors.join("; "), endpoint ?? ""])) as [string, string];
    const changed = was !== (up ? "up" : "down");
    const state: PrimaryState = { state: up ? "up" : "down", since: Number(since), lastProbe: now, lastError: up ? undefined : errors.join("; "), endpoint };
    this.states.set(domain, state);
    if (this.stopped) return;
    const queue = this.queues.get(domain);
    if (!up) {
      if (changed) this.log.warn({ event: "PRIMARY_DOWN", domain, error: state.lastError }, `primary for ${domain} is down; holding its mail`);
      if (!(await queue.isPaused())) await queue.pause();
      // every down probe asks (a node that restarted mid-outage finds the event open: a no-op)
      await this.outages?.down(domain, { startedAt: failed!.firstAt, detectedAt: prev?.state === "down" ? prev.since : now, error: state.lastError ?? "" });
    } else {
      if (changed) {
        this.log.info({ event: "PRIMARY_UP", domain, endpoint }, `primary for ${domain} is up; delivering`);
        await this.onUp?.(domain);
      }
      // every up probe tells (the recovery is recorded once; a failed write is retried next probe)
      await this.outages?.up(domain, state.since);
      if (seen) this.fingerprint(domain, endpoint!, seen, eps.map((e) => `${e.host}:${e.port}`));
      const adminPaused = async () => (await this.redis.hget(key, "adminPaused")) === "1";
      if (!(await adminPaused()) && (await queue.isPaused())) {
        await queue.resume();
        // an admin may have paused between our read and our resume (the flag is set before the
        // queue is paused): read the flag again and give the pause back
        if (await adminPaused()) await queue.pause();
      }
    }
  }

  /** In the background (a slow MX look-up never delays the up/down decision), one per domain at a time. */
  private fingerprint(domain: string, endpoint: string, seen: ProbeSeen, addresses: string[]): void {
    const rec = this.fingerprints;
    if (!rec || this.recording.has(domain)) return;
    const p = (async () => {
      let timer: NodeJS.Timeout | undefined;
      // the MX set within monitor.timeout, else unknown (the recorder keeps the last one)
      const mx = await Promise.race([this.endpoints.mxSet(domain), new Promise<null>((r) => { timer = setTimeout(() => r(null), this.config.monitor.timeout); })]);
      clearTimeout(timer);
      await rec.record(domain, { endpoint, seen, addresses, mx });
    })().catch((err: Error) => this.log.warn({ event: "FINGERPRINT_FAILED", domain, err: err.message }, `primary fingerprint of ${domain} not recorded`))
      .finally(() => this.recording.delete(domain));
    this.recording.set(domain, p);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.running.values()]);
    await Promise.allSettled([...this.recording.values()]);
    await this.subscriber.unsubscribe().catch(() => undefined);
  }
}

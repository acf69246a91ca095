/**
 * Primary change detection: after each good probe the monitor hands what the primary said
 * (greeting, EHLO, STARTTLS certificate) with the addresses it probed and the domain's MX set;
 * this builds the fingerprint (policies/primary-change.ts), swaps it into Redis with one Lua
 * compare (Keyspace.primaryFingerprint) and keeps the history list. Every node probes, but
 * only the node whose write changed the stored fingerprint diffs it: each change becomes one
 * closed `primary-change` continuity event, one log line and one alert. A restart that sees
 * the same primary writes nothing. Failures are logged and never stop the monitor.
 */
import { hmgetMany, zrangeByScoreMerged } from "../redis/sharded-reads.js";
import type { Redis } from "ioredis";
import { LuaScript } from "../redis/lua-script.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { Keyspace } from "../redis/keyspace.js";
import type { EventStore } from "../continuity/event-store.js";
import type { AlertSink } from "../continuity/alert-sink.js";
import { FINAL } from "../store/message-records.js";
import { capabilitiesFromEhlo, normaliseBanner, primaryChanges, type MxRecord, type PrimaryChange, type PrimaryFingerprint } from "../../policies/primary-change.js";
import type { ProbeSeen } from "./probe.js";

/**
 * Stores the fingerprint if it differs from the stored one and pushes it on the history.
 * KEYS: 1 fingerprint, 2 history.   ARGV: 1 fingerprint JSON, 2 history entry JSON, 3 history length.
 * Returns nil when unchanged, else the previous fingerprint ("" when there was none).
 */
const SWAP = new LuaScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return false end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return cur or ''
`);

/** How many of a domain's records the queued-larger count reads at most. */
const SIZE_SCAN = 2000;
const DAY = 86_400_000;

export interface FingerprintEntry { at: number; fingerprint: PrimaryFingerprint; changes: PrimaryChange[] }

/** The history, newest first (the API and `mxspool primary history` read it). */
export async function fingerprintHistory(redis: Redis, keys: Keyspace, domain: string, limit = 1000): Promise<FingerprintEntry[]> {
  return (await redis.lrange(keys.primaryHistory(domain), 0, limit - 1)).map((s) => JSON.parse(s) as FingerprintEntry);
}

export class FingerprintRecorder {
  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly events: EventStore,
              private readonly alerts: AlertSink, private readonly log: Logger) {}

  async record(domain: string, p: { endpoint: string; seen: ProbeSeen; addresses: string[]; mx: MxRecord[] | null }, now = Date.now()): Promise<PrimaryChange[]> {
    const stored = await this.redis.get(this.keys.primaryFingerprint(domain));
    const before = stored ? (JSON.parse(stored) as PrimaryFingerprint) : null;
    const capabilities = capabilitiesFromEhlo(p.seen.ehlo);
    // a failed STARTTLS handshake or a DNS timeout is not a change: keep what we knew
    const cert = p.seen.cert ?? (capabilities.includes("STARTTLS") ? before?.cert ?? null : null);
    const fp: PrimaryFingerprint = {
      endpoint: p.endpoint, banner: normaliseBanner(p.seen.greeting), capabilities, cert,
      certExpiresSoon: !!cert && cert.validTo - now < this.config.monitor.certExpiryWarnDays * DAY,
      addresses: [...p.addresses].sort(), mx: p.mx ?? before?.mx ?? null,
    };
    const json = JSON.stringify(fp);
    const facts = { hostname: this.config.hostname, certExpiryWarnDays: this.config.monitor.certExpiryWarnDays, now };
    // the count of queued messages a smaller SIZE refuses needs Redis: read before the pure diff
    const newSize = before ? primaryChanges(before, fp, facts).find((c) => c.field === "size")?.new : undefined;
    const larger = typeof newSize === "number" && newSize > 0 ? await this.queuedLarger(domain, newSize) : 0;
    const changes = primaryChanges(before, fp, { ...facts, queuedLargerThan: () => larger });
    const entry: FingerprintEntry = { at: now, fingerprint: fp, changes };
    const was = (await SWAP.run(this.redis, [this.keys.primaryFingerprint(domain), this.keys.primaryHistory(domain)],
      [json, JSON.stringify(entry), String(this.config.monitor.fingerprintHistory)])) as string | null;
    // nothing changed, or another node stored this fingerprint first and raised its events
    if (was === null) return [];
    // another node stored a different one between our read and our swap: diff against that
    const raised = was === (stored ?? "") ? changes : primaryChanges(was ? (JSON.parse(was) as PrimaryFingerprint) : null, fp, { ...facts, queuedLargerThan: () => larger });
    for (const c of raised) await this.raise(domain, c, fp, now);
    return raised;
  }

  private async raise(domain: string, c: PrimaryChange, fp: PrimaryFingerprint, now: number): Promise<void> {
    const ev = await this.events.record({ kind: "primary-change", domain, startedAt: now, detectedAt: now, summary: c.meaning.slice(0, 300),
      data: { field: c.field, old: c.old, new: c.new, severity: c.severity, endpoint: fp.endpoint } });
    const line = { event: "PRIMARY_CHANGED" as const, domain, id: ev.id, field: c.field, old: c.old, new: c.new };
    if (c.severity === "warning") this.log.warn(line, `primary of ${domain}: ${c.meaning}`);
    else this.log.info(line, `primary of ${domain}: ${c.meaning}`);
    await this.alerts.publish({ type: "primary-change.changed", domain, at: now, event: ev, text: `mxspool: primary of ${domain}: ${c.meaning}` }, `${ev.id}:changed`);
  }

  /** Messages of `domain` still to deliver that are larger than `bytes` (the newest SIZE_SCAN records). */
  private async queuedLarger(domain: string, bytes: number): Promise<number> {
    const ids = (await zrangeByScoreMerged(this.redis, this.keys.shards().map((n) => this.keys.indexDomain(n, domain)), "-inf", "+inf", SIZE_SCAN, "desc")).map((e) => e.id);
    if (!ids.length) return 0;
    const rows = await hmgetMany(this.redis, ids.map((id) => this.keys.messageMeta(id)), ["size", "state"]);
    return rows.filter(([err, v]) => {
      const [size, state] = (v ?? []) as [string | null, string | null];
      return !err && state !== null && !FINAL.includes(state as (typeof FINAL)[number]) && Number(size) > bytes;
    }).length;
  }
}

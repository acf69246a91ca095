/**
 * `mxspool drill DOMAIN`: a failover drill that never touches the primary's own MX role.
 * Pauses the domain's delivery (as in an outage), sends a message marked
 * `X-Mxspool-Drill: <id>` through our own SMTP listener as an outside sender would, checks it
 * is spooled and visible in the records, resumes, and waits for the primary's 250. Reports
 * the figures (accept latency, time to spool, time to first delivery after resume) and
 * pass/fail with the reason; records the result in Redis (Keyspace.drillLast/drillLastPassed,
 * which the doctor reads) and, when an event store is wired, as a 'drill' ContinuityEvent.
 * The message uses the null sender, so a refused drill never sends a bounce anywhere.
 */
import { randomBytes } from "node:crypto";
import nodemailer from "nodemailer";
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Keyspace } from "../redis/keyspace.js";
import type { Logger } from "../observability/log.js";
import type { MessageRecords } from "../store/message-records.js";
import type { DomainActions } from "../admin/domain-actions.js";
import type { ContinuityEvents } from "../continuity/continuity-event.js";
import { connectableUrl } from "../config/host-port.js";

export interface DrillResult {
  id: string;
  domain: string;
  recipient: string;
  passed: boolean;
  reason?: string;
  at: number;
  queueId?: string;
  /** Milliseconds: DATA sent → our 250; 250 → record visible; resume → the primary's 250 (the record's delivery time). */
  figures: { acceptMs?: number; spoolMs?: number; deliveryMs?: number };
}

export interface DrillDeps { config: Config; redis: Redis; keys: Keyspace; records: MessageRecords; domains: DomainActions; log: Logger; events?: ContinuityEvents }

const POLL_MS = 100;

export function drillRecipient(config: Config, domain: string): string {
  return config.drills.recipient ?? config.domains[domain]?.probeRecipient ?? `postmaster@${domain}`;
}

async function until<T>(timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return undefined;
}

/** Drills running in this process, by domain: a second drill of the same domain would resume it under the first. */
const running = new Map<string, DrillDeps>();

export async function runDrill(d: DrillDeps, domain: string): Promise<DrillResult> {
  if (running.has(domain)) return { id: "", domain, recipient: drillRecipient(d.config, domain), passed: false, reason: `a drill of ${domain} is already running`, at: Date.now(), figures: {} };
  running.set(domain, d);
  try { return await drill(d, domain); } finally { running.delete(domain); }
}

export const drillRunning = (domain: string): boolean => running.has(domain);

/**
 * Starts a drill and returns its id at once (the API answers 202; the result lands in
 * Keyspace.drillLast, read by GET /api/drill/{domain}); null if one is already running here.
 */
export function startDrill(d: DrillDeps, domain: string): string | null {
  if (running.has(domain)) return null;
  const id = newDrillId();
  void runDrillWithId(d, domain, id).catch((err) =>
    finish(d, { id, domain, recipient: drillRecipient(d.config, domain), passed: false, reason: `the drill could not run: ${(err as Error).message}`, at: Date.now(), figures: {} }, undefined).catch(() => undefined));
  return id;
}

async function runDrillWithId(d: DrillDeps, domain: string, id: string): Promise<DrillResult> {
  running.set(domain, d);
  try { return await drill(d, domain, id); } finally { running.delete(domain); }
}

/** On shutdown: lift the pause of every domain a drill of this process holds, so none stays paused. */
export async function abandonDrills(): Promise<void> {
  await Promise.all([...running].map(([domain, d]) => d.domains.resume(domain, { name: "drill" }).catch(() => undefined)));
}

const newDrillId = () => `drill_${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;

async function drill(d: DrillDeps, domain: string, id = newDrillId()): Promise<DrillResult> {
  const { config } = d;
  const recipient = drillRecipient(config, domain);
  const result: DrillResult = { id, domain, recipient, passed: false, at: Date.now(), figures: {} };
  const actor = { name: "drill" };
  const before = await d.domains.primary(domain);
  if (before.adminPaused) return finish(d, { ...result, reason: `delivery to ${domain} is paused by an admin; resume it first` }, undefined);
  const event = await d.events?.open({ kind: "drill", domain, startedAt: result.at, summary: `failover drill of ${domain}`, data: { drillId: id, recipient } }).catch(() => null) ?? undefined;
  const paused = await d.domains.pause(domain, actor);
  if (!paused.ok) return finish(d, { ...result, reason: `cannot pause ${domain}` }, event?.id);
  let resumedAt: number | undefined;
  try {
    const url = new URL(connectableUrl(config.smtp.listen[0], "smtp"));
    const transport = nodemailer.createTransport({ host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port), secure: false, tls: { rejectUnauthorized: false }, connectionTimeout: 10_000, greetingTimeout: 15_000, socketTimeout: 30_000 });
    const t0 = Date.now();
    let response: string;
    try {
      const info = await transport.sendMail({
        envelope: { from: "", to: [recipient] }, from: `mxspool drill <postmaster@${config.hostname}>`, to: recipient,
        subject: `mxspool failover drill ${id}`, headers: { "X-Mxspool-Drill": id },
        text: `A failover drill of ${domain} by mxspool on ${config.hostname}: this message went through the secondary MX while delivery was paused. No action is needed.\n`,
      });
      response = info.response;
    } catch (err) {
      return await finish(d, { ...result, reason: `our SMTP listener refused the drill message: ${(err as Error).message}` }, event?.id);
    } finally { transport.close(); }
    const accepted = Date.now();
    result.figures.acceptMs = accepted - t0;
    const queueId = /queued as ([0-9A-Z]+)/.exec(response)?.[1];
    if (!queueId) return await finish(d, { ...result, reason: `no queue id in our 250 reply (${response})` }, event?.id);
    result.queueId = queueId;
    const seen = await until(10_000, async () => (await d.records.get(queueId)) ?? undefined);
    if (!seen) return await finish(d, { ...result, reason: `message ${queueId} is not visible in the records` }, event?.id);
    result.figures.spoolMs = Date.now() - accepted;
    if (seen.state !== "queued" && seen.state !== "deferred") return await finish(d, { ...result, reason: `message ${queueId} was ${seen.state} while delivery was paused` }, event?.id);
    await d.domains.resume(domain, actor);
    resumedAt = Date.now();
    const final = await until(config.drills.timeout, async () => {
      const r = await d.records.get(queueId);
      return r && (r.state === "delivered" || r.state === "bounced" || (r.state === "deferred" && r.lastError)) ? r : undefined;
    });
    if (!final) {
      const p = await d.domains.primary(domain);
      return await finish(d, { ...result, reason: `not delivered within ${config.drills.timeout / 1000} s after resume (primary ${p.state}${p.lastError ? `: ${p.lastError}` : ""})` }, event?.id);
    }
    if (final.state !== "delivered") {
      const reply = Object.values(final.outcomes).find((o) => o.reply)?.reply ?? final.lastError ?? final.state;
      return await finish(d, { ...result, reason: `the primary did not accept the drill message: ${reply}` }, event?.id);
    }
    result.figures.deliveryMs = Math.max(0, (final.finalAt ?? Date.now()) - resumedAt);
    return await finish(d, { ...result, passed: true }, event?.id);
  } finally {
    if (resumedAt === undefined) await d.domains.resume(domain, actor).catch(() => undefined);
  }
}

/** The last drill of each domain that has one (time and result), for the drill metrics. */
export async function lastDrills(redis: Redis, keys: Keyspace, domains: string[]): Promise<{ domain: string; at: number; passed: boolean }[]> {
  if (!domains.length) return [];
  const raw = await redis.mget(domains.map((dom) => keys.drillLast(dom)));
  return domains.flatMap((domain, i) => {
    const r = raw[i] ? (JSON.parse(raw[i]!) as Partial<DrillResult>) : undefined;
    return r && typeof r.at === "number" ? [{ domain, at: r.at, passed: r.passed === true }] : [];
  });
}

async function finish(d: DrillDeps, r: DrillResult, eventId: string | undefined): Promise<DrillResult> {
  const json = JSON.stringify(r);
  await d.redis.set(d.keys.drillLast(r.domain), json);
  if (r.passed) await d.redis.set(d.keys.drillLastPassed(r.domain), json);
  const f = r.figures;
  const summary = r.passed
    ? `drill of ${r.domain} passed: accepted in ${f.acceptMs} ms, spooled in ${f.spoolMs} ms, delivered ${f.deliveryMs} ms after resume`
    : `drill of ${r.domain} failed: ${r.reason}`;
  if (eventId) await d.events?.transition(eventId, "closed", { state: "closed", closedAt: Date.now(), summary, data: { ...r } }).catch(() => undefined);
  const fields = { domain: r.domain, drillId: r.id, queueId: r.queueId, ...f, reason: r.reason };
  if (r.passed) d.log.info({ event: "DRILL_PASSED", ...fields }, summary);
  else d.log.warn({ event: "DRILL_FAILED", ...fields }, summary);
  return r;
}

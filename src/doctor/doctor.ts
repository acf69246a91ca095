/**
 * `mxspool doctor`'s I/O: gathers the facts each check of checks.ts judges — DNS (MX and
 * their addresses, through dns.servers when set), an RCPT probe of each primary (no message
 * is sent), Redis INFO persistence/memory, CONFIG GET maxmemory and TIME, free space of
 * dataDir, the sentinels' view of the master and its replicas (with redis.sentinels), clamd
 * VERSION / spamd PING, the STARTTLS certificate, the webmail users file and the last passed
 * drill. Runs in the mxspool that serves POST /api/doctor, so the CLI needs no
 * access to Redis, the certificate key or the scanners. Every probe is bounded; a check that
 * cannot gather its facts says so in its own line and never stops the others.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { X509Certificate } from "node:crypto";
import { Resolver } from "node:dns/promises";
import { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Keyspace } from "../redis/keyspace.js";
import { zcardAll, zcountAll } from "../redis/sharded-reads.js";
import type { ScannerAddress } from "../config/scanner-address.js";
import { parseHostPort } from "../config/host-port.js";
import { configuredTarget, type SentinelTarget } from "../redis/connection.js";
import { PrimaryEndpoints } from "../transport/primary-endpoints.js";
import { rcptCallout } from "../ingress/rcpt-callout.js";
import { connectScanner } from "../filters/scanner-connect.js";
import { tlsFiles } from "../smtp/tls.js";
import { UsersFile } from "../webmail/users-file.js";
import { usersFilePath } from "../webmail/accounts.js";
import { dkimTxtRecord, publishedKey } from "../outbound/dkim-keys.js";
import * as C from "./checks.js";

export type { Check } from "./checks.js";

const PROBE_TIMEOUT_MS = 10_000;
/** Bytes per message when the spool holds too few messages to measure it (a typical mail with headers). */
const DEFAULT_MESSAGE_BYTES = 64 * 1024;

export interface DoctorResult { ok: boolean; exitCode: number; checks: C.Check[] }

export function resolverFor(config: Config): Resolver {
  const r = new Resolver({ timeout: 3000, tries: 2 });
  if (config.dns.servers?.length) r.setServers(config.dns.servers);
  return r;
}

async function mxFacts(resolver: Resolver, domain: string): Promise<C.MxFact[] | { error: string }> {
  let records: { exchange: string; priority: number }[];
  try { records = await resolver.resolveMx(domain); } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ENOTFOUND" || code === "ENODATA") return [];
    return { error: code ?? (err as Error).message };
  }
  const has = async (name: string) => {
    const [a, aaaa] = await Promise.all([resolver.resolve4(name).catch(() => []), resolver.resolve6(name).catch(() => [])]);
    return a.length + aaaa.length > 0;
  };
  return Promise.all(records.map(async (r) => ({ ...r, resolves: await has(r.exchange) })));
}

async function primaryProbe(config: Config, endpoints: PrimaryEndpoints, domain: string) {
  const recipient = config.domains[domain].probeRecipient;
  let eps: { host: string; port: number }[];
  try {
    const p = config.domains[domain].primary;
    eps = p === "mx" ? await endpoints.resolve(domain, 0) : p.map(parseHostPort);
  } catch (err) { return { endpoint: "(primary)", recipient, code: null, text: (err as Error).message }; }
  const ep = eps[0];
  if (!ep) return { endpoint: "(primary)", recipient, code: null, text: "no primary found" };
  const endpoint = `${ep.host}:${ep.port}`;
  const r = await rcptCallout(ep.host, ep.port, config.hostname, recipient ?? `postmaster@${domain}`, PROBE_TIMEOUT_MS);
  return { endpoint, recipient, code: r.code, text: r.text };
}

const info = (text: string, field: string) => new RegExp(`^${field}:(.*)$`, "m").exec(text)?.[1]?.trim();

async function redisChecks(redis: Redis, keys: Keyspace): Promise<C.Check[]> {
  const [persistence, memory] = await Promise.all([redis.info("persistence"), redis.info("memory")]);
  // a managed Redis may refuse CONFIG: null, and the check says it could not read the value
  const configGet = async (k: string) => { try { const r = (await redis.call("CONFIG", "GET", k)) as string[]; return r[1] ?? null; } catch { return null; } };
  const out: C.Check[] = [C.redisPersistenceCheck({
    aofEnabled: info(persistence, "aof_enabled") === "1",
    aofLastWriteOk: (info(persistence, "aof_last_write_status") ?? "ok") === "ok",
    rdbOnly: Boolean((await configGet("save"))?.trim()),
  })];
  const [maxmemory, policy] = [await configGet("maxmemory"), await configGet("maxmemory-policy")];
  const used = Number(info(memory, "used_memory") ?? 0);
  const now = Date.now();
  // usual rate: messages that arrived in the last 24 h (the all-messages index is scored by arrival ms)
  const all = keys.shards().map((n) => keys.indexAll(n));
  const [lastDay, stored] = await Promise.all([zcountAll(redis, all, now - 86_400_000, now), zcardAll(redis, all)]);
  const bytesPerMessage = stored >= 20 ? Math.max(1024, used / stored) : DEFAULT_MESSAGE_BYTES;
  out.push(C.redisMemoryCheck({ maxmemory: maxmemory === null ? null : Number(maxmemory), used, policy, bytesPerMessage, messagesPerHour: lastDay / 24 }));
  const [sec, micro] = (await redis.time()).map(Number);
  out.push(C.clockCheck(Date.now(), Number(sec) * 1000 + Math.floor(Number(micro) / 1000)));
  return out;
}

/** A flat [field, value, ...] reply of SENTINEL MASTER / REPLICAS as a map. */
const fields = (flat: unknown): Map<string, string> => {
  const a = Array.isArray(flat) ? flat.map(String) : [];
  return new Map(a.flatMap((v, i) => (i % 2 ? [] : [[v, a[i + 1] ?? ""] as [string, string]])));
};

/** What the sentinel with the newest configuration says of the master (all asked at once, each bounded). */
async function sentinelFacts(t: SentinelTarget): Promise<C.SentinelFacts | { error: string }> {
  const errors: string[] = [];
  const views = await Promise.all(t.sentinels.map(async ({ host, port }): Promise<C.SentinelView | undefined> => {
    const s = new Redis({
      host, port, username: t.sentinelUsername, password: t.sentinelPassword, tls: t.sentinelTls ? {} : undefined,
      lazyConnect: true, connectTimeout: 3_000, commandTimeout: 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false,
    });
    s.on("error", () => { /* the reply or the connect says it */ });
    try {
      await s.connect();
      const master = fields(await s.call("SENTINEL", "MASTER", t.name));
      // the address as the sentinel gives it to clients: the leader of a failover already names the promoted replica
      const [ip, mport] = (await s.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", t.name)) as [string, string];
      const replicas = ((await s.call("SENTINEL", "REPLICAS", t.name)) as unknown[]).map(fields);
      const up = (f: Map<string, string>) => !/s_down|o_down|disconnected/.test(f.get("flags") ?? "") && f.get("master-link-status") === "ok";
      const flags = master.get("flags") ?? "";
      return {
        epoch: Number(master.get("config-epoch") ?? 0),
        failingOver: flags.includes("failover_in_progress"),
        facts: {
          master: `${ip}:${mport}`,
          masterDown: /s_down|o_down/.test(flags),
          sentinels: Number(master.get("num-other-sentinels") ?? 0) + 1,
          quorum: Number(master.get("quorum") ?? 0),
          downAfterMs: Number(master.get("down-after-milliseconds") ?? 0),
          replicas: replicas.length,
          replicasInSync: replicas.filter(up).length,
        },
      };
    } catch (err) {
      errors.push(`${host}:${port}: ${(err as Error).message}`);
      return undefined;
    } finally {
      s.disconnect();
    }
  }));
  return C.newestView(views.filter((v): v is C.SentinelView => v !== undefined))?.facts ?? { error: errors.join("; ") || "no sentinel configured" };
}

function talk(address: ScannerAddress, timeoutMs: number, say: string, done: (reply: string) => boolean): Promise<{ reply?: string; error?: string }> {
  return connectScanner(address, timeoutMs).then((c) => new Promise((resolve) => {
    if (!c.ok) return resolve({ error: c.failure.detail ?? "down" });
    let buf = "";
    const t = setTimeout(() => { c.socket.destroy(); resolve({ error: `no reply within ${timeoutMs} ms` }); }, timeoutMs);
    c.socket.on("data", (d) => { buf += d.toString("latin1"); if (done(buf)) { clearTimeout(t); c.socket.destroy(); resolve({ reply: buf }); } });
    c.socket.on("error", (e) => { clearTimeout(t); resolve({ error: e.message }); });
    c.socket.on("close", () => { clearTimeout(t); resolve(buf ? { reply: buf } : { error: "connection closed" }); });
    c.socket.write(say);
  }));
}

async function scannerChecks(config: Config, now: number): Promise<C.Check[]> {
  const out: C.Check[] = [];
  const clam = config.filters.clamav;
  if (clam) {
    // "ClamAV 1.0.3/27110/Tue Dec  1 08:21:43 2026"
    const r = await talk(clam.address, Math.min(clam.timeout, PROBE_TIMEOUT_MS), "zVERSION\0", (b) => b.includes("\0") || b.includes("\n"));
    out.push(C.scannerCheck({ name: "clamav", answered: Boolean(r.reply), error: r.error, signatureDate: r.reply ? C.clamdSignatureDate(r.reply) : undefined }, now));
  }
  const spam = config.filters.spamassassin;
  if (spam) {
    const r = await talk(spam.address, Math.min(spam.timeout, PROBE_TIMEOUT_MS), "PING SPAMC/1.5\r\n\r\n", (b) => b.includes("\n"));
    const pong = r.reply?.includes("PONG");
    out.push(C.scannerCheck({ name: "spamassassin", answered: Boolean(pong), error: r.error ?? (r.reply ? `answered ${r.reply.trim().slice(0, 60)}` : undefined) }, now));
  }
  return out;
}

function certFacts(config: Config): Parameters<typeof C.certCheck>[0] {
  if (!config.smtp.tls.enabled) return null;
  const source = tlsFiles(config).cert;
  try { return { source, validTo: Date.parse(new X509Certificate(fs.readFileSync(source)).validTo) }; } catch (err) {
    return { source, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
}

function webmailFacts(config: Config): Parameters<typeof C.webmailUsersCheck>[0] {
  if (!config.webmail.enabled) return { enabled: false };
  const file = usersFilePath(config);
  const r = new UsersFile(file).read();
  return r.ok ? { enabled: true, file, users: r.users.size } : { enabled: true, file, error: r.problem };
}

async function diskFacts(config: Config): Promise<Parameters<typeof C.diskCheck>[0]> {
  try {
    const s = await fs.promises.statfs(config.dataDir);
    return { path: config.dataDir, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch (err) { return { path: config.dataDir, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message }; }
}

async function addressesOf(resolver: Resolver, host: string): Promise<string[]> {
  const [a, aaaa] = await Promise.all([resolver.resolve4(host).catch(() => []), resolver.resolve6(host).catch(() => [])]);
  return [...a, ...aaaa];
}

async function dkimFacts(config: Config, resolver: Resolver, domain: string): Promise<Parameters<typeof C.dkimCheck>[1]> {
  const d = config.domains[domain].dkim;
  if (!d) return { configured: false };
  let expected: string | null = null;
  try { expected = publishedKey(dkimTxtRecord(fs.readFileSync(path.resolve(config.dataDir, d.privateKey), "utf8"))); } catch { /* said by the check */ }
  try {
    const txt = await resolver.resolveTxt(`${d.selector}._domainkey.${domain}`);
    return { configured: true, selector: d.selector, expected, published: txt.map((chunks) => publishedKey(chunks.join(""))).filter((p): p is string => Boolean(p)) };
  } catch (err) {
    return { configured: true, selector: d.selector, expected, published: { error: (err as { code?: string }).code ?? (err as Error).message } };
  }
}

/** The SPF record's own mechanisms (ip4, ip6, a, mx) against mxspool's addresses; include/redirect noted, not followed. */
async function spfFacts(config: Config, resolver: Resolver, domain: string): Promise<C.SpfFacts> {
  const relay = config.outbound.relay?.address;
  let record: C.SpfFacts["record"];
  try {
    record = (await resolver.resolveTxt(domain)).map((c) => c.join("")).find((t) => /^v=spf1(\s|$)/i.test(t)) ?? null;
  } catch (err) {
    const code = (err as { code?: string }).code;
    record = code === "ENOTFOUND" || code === "ENODATA" ? null : { error: code ?? (err as Error).message };
  }
  const senders = relay ? [] : await addressesOf(resolver, config.hostname);
  if (typeof record !== "string") return { record, relay, senders, covered: [], unfollowed: [] };
  const allowed = new net.BlockList();
  const unfollowed: string[] = [];
  for (const term of record.split(/\s+/).slice(1)) {
    const m = /^[+?~-]?(ip4|ip6|a|mx|include|redirect|exists)(?:[:=]([^/\s]*))?(?:\/(\d+))?/i.exec(term);
    if (!m || /^[-~?]/.test(term)) continue; // only pass mechanisms allow
    const [, mech, arg, len] = m;
    const kind = mech.toLowerCase();
    const add = (ip: string, bits?: number) => {
      const family = net.isIPv6(ip) ? "ipv6" : "ipv4";
      if (!net.isIP(ip)) return;
      if (bits === undefined) allowed.addAddress(ip, family); else allowed.addSubnet(ip, bits, family);
    };
    if (kind === "ip4" || kind === "ip6") { if (arg) add(arg, len === undefined ? undefined : Number(len)); continue; }
    if (kind === "include" || kind === "redirect" || kind === "exists") { unfollowed.push(`${kind}:${arg ?? ""}`); continue; }
    const target = arg || domain;
    const hosts = kind === "a" ? [target] : (await resolver.resolveMx(target).catch(() => [])).map((r) => r.exchange);
    for (const h of hosts) for (const ip of await addressesOf(resolver, h)) add(ip);
  }
  return { record, relay, senders, covered: senders.filter((ip) => allowed.check(ip, net.isIPv6(ip) ? "ipv6" : "ipv4")), unfollowed };
}

/** Runs every check; `alerts` is what POST /api/alerts/test said (or that it is absent). */
export async function runDoctor(config: Config, redis: Redis, keys: Keyspace, alerts: Parameters<typeof C.alertsCheck>[0] = { configured: false }): Promise<DoctorResult> {
  const now = Date.now();
  const resolver = resolverFor(config);
  const endpoints = new PrimaryEndpoints(config);
  const domains = Object.keys(config.domains);
  const perDomain = await Promise.all(domains.map(async (d) => {
    const lastPassed = await redis.get(keys.drillLastPassed(d)).catch(() => null);
    const passedAt = lastPassed ? Number((JSON.parse(lastPassed) as { at?: number }).at ?? 0) || null : null;
    return [
      C.mxCheck(d, config.hostname, await mxFacts(resolver, d)),
      C.primaryCheck(d, await primaryProbe(config, endpoints, d)),
      C.drillCheck(d, config.drills.every, passedAt, now),
      // mail users send during an outage: receivers check DKIM and SPF
      ...(config.outbound.enabled ? [C.dkimCheck(d, await dkimFacts(config, resolver, d)), C.spfCheck(d, await spfFacts(config, resolver, d))] : []),
    ];
  }));
  const redisPart = await redisChecks(redis, keys).catch((err): C.Check[] => [{ name: "redis", status: "fail", detail: `not answering: ${(err as Error).message}`, hint: "start Redis / check redis.url" }]);
  // the sentinels as the real connections reach them (src/redis/connection.ts)
  const target = configuredTarget(config.redis);
  const sentinelPart = target && "sentinels" in target ? [C.sentinelCheck(await sentinelFacts(target), config.redis.minReplicasAcked)] : [];
  const checks = [
    ...perDomain.flat(), ...redisPart, ...sentinelPart, C.diskCheck(await diskFacts(config)), ...(await scannerChecks(config, now)),
    C.certCheck(certFacts(config), now), C.webmailUsersCheck(webmailFacts(config)), C.alertsCheck(alerts),
  ];
  const exitCode = C.exitCode(checks);
  return { ok: exitCode === 0, exitCode, checks };
}

/**
 * The doctor's verdicts: pure functions from facts (gathered by doctor.ts) to one
 * { name, status, detail, hint } per check. No I/O here, so every rule is tested from a table
 * (test/unit/doctor/checks.test.ts). `fail` means mail is or will be lost or refused; `warn`
 * means the set-up is weaker than it should be; the exit code is 1 on any fail.
 */
export type CheckStatus = "ok" | "warn" | "fail";
export interface Check { name: string; status: CheckStatus; detail: string; hint?: string }

const ok = (name: string, detail: string): Check => ({ name, status: "ok", detail });
const warn = (name: string, detail: string, hint: string): Check => ({ name, status: "warn", detail, hint });
const fail = (name: string, detail: string, hint: string): Check => ({ name, status: "fail", detail, hint });

export const exitCode = (checks: Check[]): number => (checks.some((c) => c.status === "fail") ? 1 : 0);

/** An MX record and whether its exchange has an address (A or AAAA). */
export interface MxFact { exchange: string; priority: number; resolves: boolean }

/**
 * A domain's MX set-up: mxspool (our `hostname`) listed, with a larger preference number than
 * the primary's (lowest other) MX, and no MX pointing at a name without an address.
 */
export function mxCheck(domain: string, hostname: string, mx: MxFact[] | { error: string }): Check {
  const name = `mx:${domain}`;
  const me = hostname.toLowerCase().replace(/\.$/, "");
  if (!Array.isArray(mx)) return fail(name, `MX look-up failed: ${mx.error}`, `publish MX records for ${domain}: the primary (e.g. 10) and ${me} with a larger number (e.g. 20)`);
  if (!mx.length) return fail(name, "no MX records", `publish MX records for ${domain}: the primary (e.g. 10) and ${me} with a larger number (e.g. 20)`);
  const dangling = mx.filter((r) => !r.resolves);
  if (dangling.length) return fail(name, `MX ${dangling.map((r) => r.exchange).join(", ")} has no address (A/AAAA)`, "remove that MX record or give the name an address");
  const ours = mx.filter((r) => r.exchange.toLowerCase().replace(/\.$/, "") === me);
  const others = mx.filter((r) => !ours.includes(r));
  if (!ours.length) return fail(name, `${me} is not among the MX records (${mx.map((r) => `${r.priority} ${r.exchange}`).join(", ")})`, `add "MX 20 ${me}" (a larger number than the primary's) or set hostname to the name the MX record uses`);
  if (!others.length) return warn(name, `only ${me} is listed as MX; no primary MX`, "list the primary as MX with a smaller number, so senders try it first");
  const primaryPref = Math.min(...others.map((r) => r.priority));
  const ourPref = Math.min(...ours.map((r) => r.priority));
  if (ourPref <= primaryPref) return fail(name, `${me} has preference ${ourPref}, the primary ${primaryPref}: senders prefer mxspool (or pick at random)`, `give ${me} a larger preference number than ${primaryPref}`);
  return ok(name, `primary MX preference ${primaryPref}, ${me} ${ourPref}`);
}

/** The primary answering RCPT for the probe recipient (code null: could not be asked). */
export function primaryCheck(domain: string, probe: { endpoint: string; recipient?: string; code: number | null; text: string }): Check {
  const name = `primary:${domain}`;
  if (probe.code === null) return fail(name, `${probe.endpoint} cannot be asked: ${probe.text}`, "check that the primary is up and reachable from here (firewall, port)");
  if (!probe.recipient) return warn(name, `${probe.endpoint} answers SMTP; no probe recipient to ask for`, `set domains.${domain}.probeRecipient to an address the primary accepts`);
  if (probe.code >= 200 && probe.code < 300) return ok(name, `${probe.endpoint} accepts ${probe.recipient} (${probe.text})`);
  return fail(name, `${probe.endpoint} refuses ${probe.recipient}: ${probe.text}`, `the primary must accept mail for ${probe.recipient} from this host; check its relay/recipient settings or domains.${domain}.probeRecipient`);
}

export interface RedisPersistence { aofEnabled: boolean; aofLastWriteOk: boolean; rdbOnly: boolean }

export function redisPersistenceCheck(p: RedisPersistence): Check {
  const name = "redis:persistence";
  if (!p.aofEnabled) return fail(name, p.rdbOnly ? "AOF is off (RDB snapshots only: mail accepted since the last snapshot is lost on a crash)" : "AOF is off: a restart loses the spool", "set appendonly yes and appendfsync always (or everysec) in redis.conf");
  if (!p.aofLastWriteOk) return fail(name, "the last AOF write failed", "check the disk under Redis' dir (full? read-only?) and the Redis log");
  return ok(name, "AOF on");
}

export interface RedisMemory { maxmemory: number | null; used: number; policy: string | null; bytesPerMessage: number; messagesPerHour: number }

/** How many hours of outage fit: (maxmemory − used) / (bytes per message × usual messages per hour). */
export function outageHours(m: RedisMemory): number | null {
  if (!m.maxmemory || m.messagesPerHour <= 0) return null;
  return Math.max(0, m.maxmemory - m.used) / (m.bytesPerMessage * m.messagesPerHour);
}

export function redisMemoryCheck(m: RedisMemory): Check {
  const name = "redis:memory";
  const mb = (b: number) => `${Math.round(b / 1048576)} MB`;
  if (m.policy && m.policy !== "noeviction") return fail(name, `maxmemory-policy is ${m.policy}: Redis may evict spooled mail`, "set maxmemory-policy noeviction");
  if (m.maxmemory === null) return warn(name, `${mb(m.used)} used; maxmemory cannot be read (CONFIG GET refused)`, "check maxmemory on the Redis host");
  if (m.maxmemory === 0) return warn(name, `${mb(m.used)} used, no maxmemory: the spool can grow until the host runs out of memory`, "set maxmemory (with noeviction) to what the host can spare");
  const hours = outageHours(m);
  const left = `${mb(m.maxmemory - m.used)} of ${mb(m.maxmemory)} free`;
  if (hours === null) return ok(name, `${left}; no mail in the last 24 h to estimate an outage from`);
  const fits = `${left}: about ${hours < 10 ? hours.toFixed(1) : Math.round(hours)} h of outage at ${Math.round(m.messagesPerHour)} msg/h × ${Math.round(m.bytesPerMessage / 1024)} KB`;
  if (hours < 4) return fail(name, fits, "raise maxmemory: an outage of a few hours would fill it");
  if (hours < 48) return warn(name, fits, "raise maxmemory to hold at least two days of mail");
  return ok(name, fits);
}

export function diskCheck(p: { path: string; freeBytes: number; totalBytes: number } | { path: string; error: string }): Check {
  const name = "disk";
  if ("error" in p) return warn(name, `cannot read free space of ${p.path}: ${p.error}`, "check that dataDir exists");
  const pct = p.totalBytes ? (100 * p.freeBytes) / p.totalBytes : 0;
  const detail = `${Math.round(p.freeBytes / 1048576)} MB free (${pct.toFixed(0)} %) on ${p.path}`;
  if (pct < 5) return fail(name, detail, "free disk space: the AOF needs room to grow and to be rewritten");
  if (pct < 15) return warn(name, detail, "free disk space before an outage fills the AOF");
  return ok(name, detail);
}

/** The signature date in clamd's VERSION reply ("ClamAV 1.0.3/27110/Tue Dec  1 08:21:43 2026"); null if it has none. */
export function clamdSignatureDate(reply: string): number | null {
  const date = /\/\d+\/(.+)$/.exec(reply.replace(/\0/g, "").trim())?.[1];
  const ms = date ? Date.parse(date) : NaN;
  return Number.isNaN(ms) ? null : ms;
}

/** A scanner: whether it answered, and for clamd the date of its signatures. */
export function scannerCheck(s: { name: string; answered: boolean; error?: string; signatureDate?: number | null }, now: number): Check {
  const name = `scanner:${s.name}`;
  if (!s.answered) return fail(name, `not answering: ${s.error ?? "no reply"}`, `start ${s.name} or fix filters.${s.name}.address`);
  if (s.signatureDate === undefined) return ok(name, "answering");
  if (s.signatureDate === null) return warn(name, "answering; signature date unknown", "check freshclam");
  const days = (now - s.signatureDate) / 86_400_000;
  const detail = `answering, signatures ${days.toFixed(1)} days old`;
  if (days > 7) return fail(name, detail, "run freshclam (is its timer or service running?)");
  if (days > 2) return warn(name, detail, "check freshclam updates");
  return ok(name, detail);
}

export function certCheck(c: { source: string; validTo: number } | { source: string; error: string } | null, now: number): Check {
  const name = "tls:certificate";
  if (!c) return ok(name, "STARTTLS is off");
  if ("error" in c) return fail(name, `cannot read ${c.source}: ${c.error}`, "fix smtp.tls.cert/key");
  const days = (c.validTo - now) / 86_400_000;
  const detail = `${c.source} expires ${new Date(c.validTo).toISOString().slice(0, 10)} (${Math.floor(days)} days)`;
  if (days < 0) return fail(name, detail.replace("expires", "expired"), "renew the certificate (senders may refuse STARTTLS)");
  if (days < 14) return warn(name, detail, "renew the certificate");
  return ok(name, detail);
}

export function webmailUsersCheck(w: { enabled: false } | { enabled: true; file: string; users: number } | { enabled: true; file: string; error: string }): Check {
  const name = "webmail:users";
  if (!w.enabled) return ok(name, "webmail off");
  if ("error" in w) return fail(name, `cannot read ${w.file}: ${w.error}`, "create users with `mxspool user add ADDRESS`");
  if (!w.users) return warn(name, `no users in ${w.file}: nobody can read spooled mail during an outage`, "add users with `mxspool user add ADDRESS`");
  return ok(name, `${w.users} user(s)`);
}

/** What the sentinels say of the master mxspool uses (SENTINEL MASTER, GET-MASTER-ADDR-BY-NAME and REPLICAS, from the sentinel with the newest configuration: newestView). */
export interface SentinelFacts {
  master: string;
  /** The sentinels see the master down (s_down / o_down): a failover may be under way. */
  masterDown: boolean;
  /** The sentinels that know of each other, this one included. */
  sentinels: number;
  quorum: number;
  downAfterMs: number;
  replicas: number;
  /** Replicas up (no s_down, not disconnected) with their link to the master up. */
  replicasInSync: number;
}

/** One sentinel's answer, and how new the configuration behind it is. */
export interface SentinelView { epoch: number; failingOver: boolean; facts: SentinelFacts }

/**
 * The answer of the sentinel with the newest configuration: the highest config-epoch, and at
 * the same epoch one not in the middle of a failover — Sentinel's own rule for which
 * configuration wins. Right after a failover the sentinels that have not heard of it yet still
 * name the old master (docker/redis-start.sh chooses the same way).
 */
export function newestView(views: SentinelView[]): SentinelView | undefined {
  return [...views].sort((a, b) => b.epoch - a.epoch || Number(a.failingOver) - Number(b.failingOver))[0];
}

/**
 * A sentinel below 2 s of down-after judges a master it has just switched to before its first
 * ping (once a second) is answered: a second failover, possibly to a node that never synced
 * (README "Failure cases", measured in sentinel.test.ts at 1 s).
 */
export const MIN_SAFE_DOWN_AFTER_MS = 2_000;

/** The replicated Redis under Sentinel: can every 250 get its replica acknowledgements, and can a failover go well? */
export function sentinelCheck(f: SentinelFacts | { error: string }, minReplicasAcked: number): Check {
  const name = "redis:sentinel";
  if ("error" in f) return fail(name, `no sentinel answers: ${f.error}`, "check redis.sentinels, redis.name and that the sentinels run");
  const state = `master ${f.master}, ${f.replicasInSync} of ${f.replicas} replica(s) in sync, ${f.sentinels} sentinel(s) (quorum ${f.quorum}), down-after ${f.downAfterMs} ms`;
  if (f.replicasInSync < minReplicasAcked) {
    return fail(name, `${state}: redis.minReplicasAcked is ${minReplicasAcked}, so every message is refused (451 4.3.0)`, "bring a replica back in sync with the master (or lower redis.minReplicasAcked)");
  }
  const weak: [string, string][] = [];
  if (f.masterDown) weak.push(["the sentinels see the master down: a failover may be under way", "run the doctor again in a minute; if it stays, look at the master's host and the sentinels' logs"]);
  if (minReplicasAcked > 0 && f.replicasInSync === minReplicasAcked) {
    weak.push(["one more replica lost and every message is refused", `run at least ${minReplicasAcked + 1} replicas for redis.minReplicasAcked ${minReplicasAcked}`]);
  }
  if (f.sentinels < 3) weak.push([`${f.sentinels} sentinel(s): a failover needs a majority of them`, "run 3 sentinels (quorum 2) on separate hosts"]);
  if (f.downAfterMs < MIN_SAFE_DOWN_AFTER_MS) {
    weak.push(["a down-after this short can fail a just-promoted master over again, to a node that may never have synced", `set sentinel down-after-milliseconds to ${MIN_SAFE_DOWN_AFTER_MS} or more (docker/sentinel.conf has 5000)`]);
  }
  if (weak.length) return warn(name, `${state}; ${weak.map(([d]) => d).join("; ")}`, weak.map(([, h]) => h).join("; "));
  return ok(name, state);
}

/** This host's clock against Redis' (every node compares times written by the others). */
export function clockCheck(localMs: number, redisMs: number): Check {
  const name = "clock";
  const skew = Math.abs(localMs - redisMs);
  const detail = `${skew} ms off Redis' clock`;
  if (skew > 60_000) return fail(name, detail, "run an NTP client (chrony, systemd-timesyncd) on this host and the Redis host");
  if (skew > 2_000) return warn(name, detail, "run an NTP client on this host and the Redis host");
  return ok(name, detail);
}

export function drillCheck(domain: string, everyMs: number | undefined, lastPassedAt: number | null, now: number): Check {
  const name = `drill:${domain}`;
  const when = lastPassedAt ? `last passed drill ${new Date(lastPassedAt).toISOString()}` : "never drilled";
  if (!everyMs) return lastPassedAt ? ok(name, when) : warn(name, when, `run \`mxspool drill ${domain}\`, or set drills.every (e.g. 7d)`);
  if (!lastPassedAt || now - lastPassedAt > everyMs) return warn(name, `${when}; drills.every asks for one every ${Math.round(everyMs / 3_600_000)} h`, `run \`mxspool drill ${domain}\` and look at why the scheduled one did not pass`);
  return ok(name, when);
}

export function alertsCheck(a: { configured: false } | { configured: true; sent: boolean; error?: string } | { configured: true; sent: null }): Check {
  const name = "alerts";
  if (!a.configured) return warn(name, "alerts not configured", "configure alert destinations so someone hears of an outage");
  if (a.sent === null) return ok(name, "configured (pass --send-test-alert to send a test)");
  if (!a.sent) return fail(name, `test alert not sent: ${a.error ?? "refused"}`, "check the alert destinations");
  return ok(name, "test alert sent");
}

/** The domain's DKIM key as published against the key mxspool signs with (outbound mail). */
export function dkimCheck(domain: string, f: { configured: false } | { configured: true; selector: string; expected: string | null; published: string[] | { error: string } }): Check {
  const name = `dkim:${domain}`;
  if (!f.configured) return warn(name, "outbound mail from this domain is not DKIM-signed", `mxspool dkim keygen ${domain}, publish the record it prints and set domains.${domain}.dkim`);
  const record = `${f.selector}._domainkey.${domain}`;
  if (f.expected === null) return fail(name, "the configured private key cannot be read", `check domains.${domain}.dkim.privateKey`);
  if (!Array.isArray(f.published)) return fail(name, `no DKIM record at ${record} (${f.published.error})`, `publish ${record} TXT "v=DKIM1; k=rsa; p=${f.expected.slice(0, 16)}…" (mxspool dkim keygen prints it)`);
  if (!f.published.length) return fail(name, `no DKIM key in the TXT records at ${record}`, `publish ${record} TXT "v=DKIM1; k=rsa; p=…" (mxspool dkim keygen prints it)`);
  if (!f.published.includes(f.expected)) return fail(name, `${record} publishes another key than domains.${domain}.dkim.privateKey: signatures will fail`, "publish the record of the configured key, or configure the key that is published");
  return ok(name, `${record} publishes the signing key`);
}

export interface SpfFacts {
  /** The domain's v=spf1 record, null without one. */
  record: string | null | { error: string };
  /** outbound.relay: mail leaves from the relay, whose addresses the record must hold (not checked here). */
  relay?: string;
  /** The addresses mxspool sends from (its hostname's A/AAAA). */
  senders: string[];
  /** Those of them the record's own mechanisms (ip4, ip6, a, mx) allow. */
  covered: string[];
  /** include: and redirect= targets, which are not followed. */
  unfollowed: string[];
}

/** Whether receivers' SPF checks let mxspool send for the domain (outbound mail). */
export function spfCheck(domain: string, f: SpfFacts): Check {
  const name = `spf:${domain}`;
  if (f.record !== null && typeof f.record === "object") return warn(name, `SPF look-up failed: ${f.record.error}`, "check the domain's TXT records");
  const hint = f.relay ? `the relay ${f.relay}'s addresses` : `ip4:/ip6: mechanisms for ${f.senders.join(", ") || "mxspool's addresses"}`;
  if (f.record === null) return warn(name, "no SPF record", `publish "v=spf1 mx … ~all" with ${hint}`);
  if (f.relay) return ok(name, `SPF record present; mail leaves through ${f.relay}: check that its addresses are in it`);
  if (!f.senders.length) return warn(name, "mxspool's own addresses are unknown (its hostname has no A/AAAA record)", "give hostname an address record, so SPF can be checked");
  const missing = f.senders.filter((s) => !f.covered.includes(s));
  if (!missing.length) return ok(name, `SPF allows ${f.senders.join(", ")}`);
  if (f.unfollowed.length) return warn(name, `SPF's own mechanisms do not list ${missing.join(", ")}; ${f.unfollowed.join(", ")} not followed`, `check that ${f.unfollowed.join(", ")} lists ${missing.join(", ")}`);
  return fail(name, `SPF does not allow ${missing.join(", ")}: mail mxspool sends may be rejected`, `add ${missing.map((a) => (a.includes(":") ? `ip6:${a}` : `ip4:${a}`)).join(" ")} to the record`);
}

/**
 * The one configuration schema. Every key has its default here, and the README's
 * configuration reference mirrors this file. Objects are strict so that a typo in a key
 * fails at start, naming the key, instead of being silently ignored.
 */
import os from "node:os";
import { z } from "zod";
import { duration } from "./zod-duration.js";
import { hostPort } from "./zod-host-port.js";
import { parseDuration } from "./duration.js";
import { filtersSchema } from "./filters-schema.js";
import { webmailSchema } from "./webmail-schema.js";
import { alertsSchema } from "./alerts-schema.js";
import { baselinesSchema } from "./baselines-schema.js";
import { submissionSchema } from "./submission-schema.js";
import { outboundSchema, dkimSchema } from "./outbound-schema.js";


const domainName = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$|^[a-z0-9-]+\.test$/;

const recipientsSchema = z.union([
  z.literal("*"),
  z.array(z.string().regex(/^[^@\s]+@[^@\s]+$/, "expected an e-mail address")).min(1),
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({
    /** Ask the primary (RCPT callout) and cache its answers in Redis. */
    verify: z.literal(true),
    /** While the primary cannot be asked: accept unknown recipients, or defer them with 450 4.2.0. */
    whenUnknown: z.enum(["accept", "defer"]).default("defer"),
    positiveTtl: duration("7d"),
    negativeTtl: duration("3h"),
    calloutTimeout: duration("10s"),
  }),
]);

const domainSchema = z.strictObject({
  /** Primary MTAs tried in order, or "mx": the domain's MX records below our own preference. */
  primary: z.union([z.literal("mx"), z.array(hostPort).min(1)]),
  recipients: recipientsSchema.default("*"),
  /**
   * always: accept whenever the primary is up or down (a plain backup MX). primaryDown: while
   * the monitor knows the primary is up, recipients get 450 4.7.1 at RCPT so senders use the
   * primary; accepted as soon as the monitor declares it down (policies/accept-when.ts).
   */
  acceptWhen: z.enum(["always", "primaryDown"]).default("always"),
  /** A recipient the primary must accept: `mxspool doctor` asks the primary for it (RCPT, no message), `drill` mails it. */
  probeRecipient: z.string().regex(/^[^@\s]+@[^@\s]+$/, "expected an e-mail address").optional(),
  /** DKIM signing of the domain's outbound mail (src/outbound/dkim-signer.ts); `mxspool dkim keygen` makes the key. */
  dkim: dkimSchema.optional(),
});

export const configSchema = z.strictObject({
  hostname: z.string().min(1).default(os.hostname()),
  dataDir: z.string().min(1).default("./data"),
  smtp: z
    .strictObject({
      listen: z.array(hostPort).min(1).default(["0.0.0.0:25"]),
      maxMessageSize: z.number().int().positive().default(52_428_800),
      maxRecipients: z.number().int().positive().default(100),
      /**
       * SMTP/delivery processes forked to share the listen sockets (node:cluster); 0 = none, the
       * supervisor runs them itself; "auto" = none on 1–2 cores, else one per core but one
       * (policies/process-memory.ts).
       */
      processes: z.union([z.literal("auto"), z.number().int().min(0)]).default("auto"),
      /** Reverse DNS lookup of each client for the Received header. */
      reverseLookup: z.boolean().default(true),
      /** Idle time allowed between commands before the session is dropped. */
      socketTimeout: duration("5m"),
      /** Longest time one command line may take to arrive (a slowloris client is cut off). */
      commandTimeout: duration("2m"),
      /** Pause before the 220 greeting; a client that talks during it gets 421 (pregreet test). */
      greetDelay: duration("0ms"),
      /** Longest a whole session may last. */
      sessionTimeout: duration("30m"),
      /** Header block limit (Received, DKIM, ... all together), bytes; over it 552 5.3.4. */
      maxHeaderSize: z.number().int().positive().default(262_144),
      /** Longest line in a message (RFC 5322 says 998; real mail is sloppier); over it 552 5.3.4. */
      maxLineLength: z.number().int().positive().default(10_000),
      /** Mail loop detection: more Received headers than this gets 554 5.4.6 (Postfix hopcount_limit). */
      maxReceivedHeaders: z.number().int().positive().default(50),
      /** Simultaneous sessions on this node, all processes together; more get 421 4.7.0. */
      maxConnections: z.number().int().positive().default(1000),
      /** Simultaneous sessions from one client IP on this node; more get 421 4.7.0. */
      maxConnectionsPerIp: z.number().int().positive().default(50),
      /** Mail transactions on one connection; the next MAIL gets 421 4.7.0. */
      maxTransactionsPerSession: z.number().int().positive().default(1000), // Exim's smtp_accept_max_per_connection; Postfix has no limit
      /** Error replies (4xx/5xx) one session may provoke before it is dropped with 421 4.7.0. */
      maxErrorsPerSession: z.number().int().positive().default(20),
      /** New connections per client IP per minute, counted in Redis across all nodes; 0 = off. */
      connectionRatePerMinute: z.number().int().min(0).default(300),
      /** Clients (IPs or CIDRs) exempt from the per-IP limits and the rate limit. */
      limitExemptions: z.array(z.string()).default(["127.0.0.0/8", "::1/128"]),
      /** STARTTLS: cert/key files (PEM); without them a self-signed pair is made in dataDir/tls. */
      tls: z
        .strictObject({
          enabled: z.boolean().default(true),
          cert: z.string().optional(),
          key: z.string().optional(),
          /** Clients (IPs or CIDRs) that must use STARTTLS before MAIL FROM. */
          requireTlsFrom: z.array(z.string()).default([]),
        })
        .prefault({})
        .refine((t) => Boolean(t.cert) === Boolean(t.key), "cert and key go together"),
      /** How long a graceful shutdown waits for sessions in DATA. */
      shutdownGrace: duration("60s"),
    })
    .prefault({}),
  http: z
    .strictObject({
      listen: hostPort.default("127.0.0.1:8025"),
      adminToken: z.string().min(16, "must be at least 16 characters").optional(),
      /** Simultaneous HTTP connections (API and webmail together); more are closed at once. */
      maxConnections: z.number().int().min(1).max(100_000).default(256),
      /** A request's headers must arrive within this (slowloris), then 408 and close. */
      headersTimeout: duration("10s"),
      /** Without adminToken: keep a token in dataDir/admin.token (0600) for `mxspool status`/`queue` on this box. */
      localToken: z.boolean().default(true),
    })
    .prefault({}),
  redis: z
    .strictObject({
      /** Absent (and no sentinels): mxspool starts its own redis-server in dataDir (AOF, appendfsync always). */
      url: z.string().regex(/^rediss?:\/\//, 'expected "redis://host:port[/db]"').optional(),
      /** Sentinel addresses ("host:port"): the master named `name` is asked of them and followed through failovers. */
      sentinels: z.array(hostPort).min(1).optional(),
      /** The Sentinel master name (`sentinel monitor NAME ...`). */
      name: z.string().min(1).default("mxspool"),
      /** Credentials and TLS of the Redis master and replicas (with sentinels or cluster; a url carries its own). */
      username: z.string().optional(),
      password: z.string().optional(),
      tls: z.boolean().default(false),
      /** Credentials and TLS of the sentinels themselves. */
      sentinelUsername: z.string().optional(),
      sentinelPassword: z.string().optional(),
      sentinelTls: z.boolean().default(false),
      /** Before a 250: WAIT until this many replicas hold the message; 0 = do not wait. Default 1 with sentinels, else 0. */
      minReplicasAcked: z.number().int().min(0).max(16).optional(),
      /** Replicas that do not acknowledge within this: 451 4.3.0, nothing promised. */
      replicaAckTimeout: duration("2s").refine((ms) => ms >= 10, 'expected at least "10ms"'),
      /** Redis Cluster seed nodes ("host:port"): the keyspace is then split over hash tags (src/redis/keyspace.ts). With username/password/tls. */
      cluster: z.array(hostPort).min(1).optional(),
      /** Prefix of every key; BullMQ's prefix is the same name in braces (Cluster hash tag). */
      prefix: z.string().regex(/^[a-zA-Z0-9_-]+$/).default("mxspool"),
    })
    .refine((r) => !(r.url && r.sentinels), { message: "redis.url and redis.sentinels exclude each other", path: ["sentinels"] })
    .refine((r) => !(r.cluster && (r.url || r.sentinels)), { message: "redis.cluster excludes redis.url and redis.sentinels", path: ["cluster"] })
    .transform((r) => ({ ...r, minReplicasAcked: r.minReplicasAcked ?? (r.sentinels ? 1 : 0) }))
    .prefault({}),
  domains: z
    .record(
      z.string().transform((d) => d.toLowerCase().replace(/\.$/, "")).pipe(z.string().regex(domainName, "expected a domain name")),
      domainSchema,
    )
    .refine((d) => Object.keys(d).length > 0, "at least one domain must be configured"),
  delivery: z
    .strictObject({
      retry: z
        .strictObject({ first: duration("5m"), max: duration("1h"), factor: z.number().min(1).default(2) })
        .prefault({}),
      maxLifetime: duration("5d"),
      /** One "delayed" DSN to the sender after this long in the queue; "0" = never. */
      delayWarning: duration("4h"),
      /** Concurrent deliveries per domain, across every process and node. */
      concurrency: z.number().int().positive().default(20),
      /** How often waiting mail is checked for delay warnings and expiry, orphans removed, and retention purged. */
      sweepInterval: duration("1m"),
      /**
       * A stored message still without its delivery job this long after it arrived is an orphan
       * (the process died between the two writes; no 250 was sent) and is removed. At least 5 s.
       */
      orphanAge: duration("10m").refine((ms) => ms >= 5000, 'expected at least "5s"'),
      /** A delivery slower than this counts as "the primary is struggling" for the drain pace. */
      slowReply: duration("10s"),
      /** Messages per second per domain; 0 = unlimited. */
      ratePerSecond: z.number().min(0).default(0),
      connectTimeout: duration("30s"),
      /** Timeout of each SMTP command to the primary, and of the DATA transfer. */
      commandTimeout: duration("5m"),
      /** How long an idle connection to the primary is kept for reuse. */
      connectionIdle: duration("5s"),
      /** Messages sent over one connection before it is renewed. */
      messagesPerConnection: z.number().int().positive().default(1000),
      /** A delivery whose process died is taken over after this long. */
      lockDuration: duration("30s"),
    })
    .prefault({}),
  filters: filtersSchema,
  webmail: webmailSchema,
  /** SMTP submission (587 STARTTLS / 465 implicit TLS) for users' own mail programs: see submission-schema.ts. */
  submission: submissionSchema,
  /** The admin web console at /admin on the http role (src/console). */
  admin: z
    .strictObject({
      /** Serve the console (login with http.adminToken); false: /admin is a 404. */
      console: z.boolean().default(true),
      /** How often the counters and queue depth are sampled for the console's charts (one node per slot). */
      sampleEvery: duration("5m"),
    })
    .prefault({}),
  retention: z
    .strictObject({
      /** A delivered (or bounced) message stays readable this long, for re-delivery and the webmail; then it is purged. */
      delivered: duration("72h"),
    })
    .prefault({}),
  bounces: z
    .strictObject({
      /** Send DSNs through this host:port; absent: to the MX of the sender's domain. */
      relay: hostPort.optional(),
      /** A DSN that cannot be delivered for this long is dropped (logged). */
      maxLifetime: duration("5d"),
    })
    .prefault({}),
  monitor: z
    .strictObject({
      interval: duration("15s"),
      timeout: duration("10s"),
      /** Consecutive failed probes before a primary that was up is declared down (a domain starts down at its first failure). */
      failuresBeforeDown: z.number().int().min(1).max(10).default(2),
      /** Record the primary's fingerprint at every good probe (banner, EHLO, STARTTLS certificate, addresses, MX set) and raise a primary-change event when it changes. */
      fingerprint: z.boolean().default(true),
      /** A primary-change event warns when the primary's STARTTLS certificate expires within this many days. */
      certExpiryWarnDays: z.number().int().min(0).max(3650).default(14),
      /** How many fingerprints per domain the history keeps (`mxspool primary history DOMAIN`). */
      fingerprintHistory: z.number().int().min(1).max(1000).default(50),
    })
    .prefault({}),
  continuity: z
    .strictObject({
      /** How often the continuity conditions (stale queue, scanners, Redis memory, certificate) are checked. */
      checkInterval: duration("1m"),
      /** A queue-stale event opens when a domain's oldest waiting message is older than this while its primary is up. */
      staleQueueAfter: duration("1h"),
      /** A redis-memory event opens when Redis uses this share (%) of maxmemory (or of the machine's memory without one). */
      redisMemoryPercent: z.number().min(1).max(100).default(80),
      /** A cert-expiry event opens when the STARTTLS certificate expires within this many days. */
      certExpiryDays: z.number().int().min(0).max(3650).default(14),
    })
    .prefault({}),
  /** Continuity alerts to operators (webhooks, e-mail), out of band: see alerts-schema.ts. */
  alerts: alertsSchema,
  /** Traffic series and learned baselines (issue 14): see baselines-schema.ts. */
  baselines: baselinesSchema,
  /** Mail authenticated users send during an outage (webmail compose, SMTP submission): see outbound-schema.ts. */
  outbound: outboundSchema,
  dns: z
    .strictObject({
      /** DNS servers for `primary: "mx"` look-ups ("ip" or "ip:port"); default: the system resolver. */
      servers: z.array(z.string()).optional(),
      /** Port used for primaries found through MX records. */
      mxPort: z.number().int().min(1).max(65535).default(25),
    })
    .prefault({}),
  drills: z
    .strictObject({
      /** Run `mxspool drill` for every domain this often (one node per period); absent: only by hand. The doctor warns when the last passed drill is older. */
      every: z.string().transform((text, ctx) => {
        const ms = parseDuration(text);
        if (ms === null || ms < 60_000) { ctx.addIssue({ code: "custom", message: `expected a duration of at least "1m" like "7d", got "${text}"` }); return z.NEVER; }
        return ms;
      }).optional(),
      /** Where the drill's test message goes; default: the domain's probeRecipient, else postmaster@domain. */
      recipient: z.string().regex(/^[^@\s]+@[^@\s]+$/, "expected an e-mail address").optional(),
      /** How long a drill waits for the primary's 250 after resuming (at most 4m: POST /api/drill answers within 5 minutes). */
      timeout: duration("60s").refine((ms) => ms <= 240_000, 'expected at most "4m"'),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
      /** json: one JSON object per line (journal, log shippers); pretty: one readable line per event; auto: pretty on a terminal. */
      format: z.enum(["json", "pretty", "auto"]).default("auto"),
    })
    .prefault({}),
});

export type Config = z.output<typeof configSchema>;
export type DomainConfig = Config["domains"][string];

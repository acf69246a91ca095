/**
 * For the outbound tests: a real stack that sends mail out. redis-server; a test DNS server
 * that names remote.test's MX (the loopback; a test adds its own records); an outside MX (a
 * RecordingPrimary, started or left down); example.test's primary, down until a test starts it;
 * the mxspool CLI with outbound on (1-2 s retries, JSON logs, an admin token); and, in this
 * process on the same Redis, the submitter (src/outbound-wiring.ts's createOutbound, as the
 * webmail and the submission listener use it). A start that fails part-way stops what it started.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Redis } from "ioredis";
import { parseConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/observability/log.js";
import { Keyspace } from "../../src/redis/keyspace.js";
import { createOutbound, type OutboundParts } from "../../src/outbound-wiring.js";
import { startDnsServer, type TestDnsServer, type Zone } from "./dns-server.js";
import { testMxspoolConfig } from "./mxspool-config.js";
import { MxspoolProcess } from "./mxspool-process.js";
import { freePort } from "./net.js";
import { RecordingPrimary, type PrimaryOptions } from "./recording-primary.js";
import { startRedis, type TestRedis } from "./redis-server.js";

export const OUTBOUND_ADMIN_TOKEN = "outbound-admin-token-0123456789";

export interface OutboundStack {
  redis: TestRedis;
  /** A client of that Redis, for the test's own reads. */
  client: Redis;
  keys: Keyspace;
  dns: TestDnsServer;
  /** example.test's primary: down until the test starts it. */
  primary: RecordingPrimary;
  outside: RecordingPrimary;
  mx: MxspoolProcess;
  parts: OutboundParts;
  /** The admin API's base URL (Bearer OUTBOUND_ADMIN_TOKEN). */
  api: string;
  stop(): Promise<void>;
}

export async function startOutboundStack(o: {
  /** The temp dir's name. */
  name: string;
  /** More DNS records, beside remote.test's MX. */
  zone?: Zone;
  outside?: { up?: boolean; rcptReply?: PrimaryOptions["rcptReply"] };
  /** Files written (mode 600) into the data dir before the start, e.g. a DKIM key. */
  dataFiles?: Record<string, string>;
  /** More outbound.* keys. */
  outbound?: Record<string, unknown>;
  /** More top-level config keys, merged in depth into testMxspoolConfig's (e.g. domains: example.test's dkim). */
  config?: Record<string, unknown>;
}): Promise<OutboundStack> {
  const s: Partial<OutboundStack> = { keys: new Keyspace("mxspool") };
  const stop = async () => {
    await s.parts?.close();
    await s.mx?.stop();
    s.mx?.cleanup();
    s.client?.disconnect();
    await Promise.all([s.outside?.stop(), s.primary?.stop(), s.dns?.stop()]);
    await s.redis?.stop();
  };
  try {
    s.redis = await startRedis();
    s.client = s.redis.client();
    s.primary = new RecordingPrimary({ port: await freePort() });
    s.outside = new RecordingPrimary({ port: await freePort(), rcptReply: o.outside?.rcptReply });
    if (o.outside?.up) await s.outside.start();
    s.dns = await startDnsServer({ "remote.test": { MX: [{ priority: 10, exchange: "mx.remote.test" }] }, "mx.remote.test": { A: ["127.0.0.1"] }, ...o.zone });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mxspool-${o.name}-`));
    fs.mkdirSync(path.join(dir, "data"));
    for (const [file, content] of Object.entries(o.dataFiles ?? {})) fs.writeFileSync(path.join(dir, "data", file), content, { mode: 0o600 });
    const plain = await testMxspoolConfig({ smtpPort: await freePort(), redisUrl: s.redis.url, primaryPort: s.primary.port, processes: 1 }, {
      dns: { servers: [`127.0.0.1:${s.dns.port}`] },
      delivery: { retry: { first: "1s", max: "2s" } },
      outbound: { enabled: true, mxPort: s.outside.port, ...o.outbound },
      log: { format: "json" },
      http: { adminToken: OUTBOUND_ADMIN_TOKEN },
      ...o.config,
    });
    s.api = `http://${(plain.http as { listen: string }).listen}`;
    s.mx = new MxspoolProcess(plain, dir);
    await s.mx.start();
    const config = parseConfig({ ...plain, dataDir: path.join(dir, "data") });
    s.parts = createOutbound(config, s.client, s.keys!, { host: "127.0.0.1", port: s.redis.port }, createLogger("warn", {}, "json"));
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return { ...(s as Omit<OutboundStack, "stop">), stop };
}

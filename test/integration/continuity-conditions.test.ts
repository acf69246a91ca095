/**
 * The continuity conditions against a real redis-server and a real certificate: a stale
 * queue with its primary up, a scanner every process reports down, Redis memory above the
 * threshold and a certificate expiring tomorrow each open one event (exactly one of two
 * watchers opens it, one alert each) and close it when the condition ends.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Keyspace } from "../../src/redis/keyspace.js";
import { parseConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/observability/log.js";
import { EventStore } from "../../src/continuity/event-store.js";
import { ConditionWatch } from "../../src/continuity/condition-watch.js";
import type { AlertPayload } from "../../src/continuity/alert-sink.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { selfSignedCert } from "../helpers/certs.js";

let redis: TestRedis;
let dir: string;
let certFile: string;
const keys = new Keyspace("condtest");
const config = parseConfig({ hostname: "mx2.example.test", domains: { "example.test": { primary: ["127.0.0.1:2525"] } },
  continuity: { staleQueueAfter: "1h", redisMemoryPercent: 50, certExpiryDays: 14 } });
const log = createLogger("silent");

beforeAll(async () => {
  redis = await startRedis({ persistence: false });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-cert-"));
  certFile = selfSignedCert(dir, { subject: "/CN=mx2.example.test", days: 1 }).cert;
}, 60_000);
afterAll(async () => { await redis?.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

describe("continuity conditions", () => {
  it("opens one event per condition that holds, across two watchers, and closes it when the condition ends", async () => {
    const c = redis.client();
    const alerts: AlertPayload[] = [];
    const sink = { publish: async (p: AlertPayload) => { alerts.push(p); } };
    const watch = () => new ConditionWatch(config, redis.client(), keys, new EventStore(redis.client(), keys), sink, log, certFile);
    const [a, b] = [watch(), watch()];
    const now = Date.now();
    // a message waiting 2 h for a primary that is up; a scanner down for the one reporting process; a small maxmemory
    await c.hset(keys.primary("example.test"), { state: "up" });
    await c.hset(keys.messageMeta("OLDMSG"), { id: "OLDMSG", domain: "example.test", state: "queued" });
    await c.zadd(keys.indexState(0, "queued"), now - 2 * 3_600_000, "OLDMSG");
    await c.hset(keys.scanners(), "host:1", JSON.stringify({ at: now, process: "host:1", health: { status: "down", scanners: [{ name: "clamd", state: "down" }] } }));
    const used = Number(/^used_memory:(\d+)/m.exec(await c.info("memory"))![1]);
    await c.config("SET", "maxmemory", String(used + 1024 * 1024));

    await Promise.all([a.check(now), b.check(now)]);
    const store = new EventStore(c, keys);
    const open = (await store.list({ limit: 20 })).items;
    expect(open.map((e) => e.kind).sort()).toEqual(["cert-expiry", "queue-stale", "redis-memory", "scanner-down"]);
    expect(open.every((e) => e.state === "open")).toBe(true);
    expect(alerts.map((x) => x.type).sort()).toEqual(["cert-expiry.opened", "queue-stale.opened", "redis-memory.opened", "scanner-down.opened"]);
    expect(open.find((e) => e.kind === "queue-stale")).toMatchObject({ domain: "example.test", data: { oldestWaitingAt: now - 2 * 3_600_000 } });
    expect(open.find((e) => e.kind === "scanner-down")!.data.down).toEqual(["clamd"]);

    // the conditions end (the certificate stays: it still expires tomorrow)
    await c.zrem(keys.indexState(0, "queued"), "OLDMSG");
    await c.hset(keys.scanners(), "host:1", JSON.stringify({ at: Date.now(), process: "host:1", health: { status: "ok", scanners: [{ name: "clamd", state: "up" }] } }));
    await c.config("SET", "maxmemory", "0");
    await Promise.all([a.check(), b.check()]);
    const after = (await store.list({ limit: 20 })).items;
    expect(after.filter((e) => e.state === "open").map((e) => e.kind)).toEqual(["cert-expiry"]);
    expect(alerts.filter((x) => x.type.endsWith(".closed")).map((x) => x.type).sort()).toEqual(["queue-stale.closed", "redis-memory.closed", "scanner-down.closed"]);
    expect(await store.current("queue-stale", "example.test")).toBeNull();
  }, 60_000);
});

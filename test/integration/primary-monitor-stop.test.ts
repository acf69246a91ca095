/**
 * A probe whose Redis work fails never rejects (its callers are a timer and a pub/sub
 * message, where a rejection ends the process): the case a stop made happen — the queues
 * closed while a probe was in flight, its "is the queue paused?" answered "Connection is
 * closed", and the process exited 1 on SIGTERM. Real redis-server, a primary that refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { parseConfig } from "../../src/config/load.js";
import { PrimaryMonitor } from "../../src/monitor/primary-monitor.js";
import { Keyspace } from "../../src/redis/keyspace.js";
import { PrimaryEndpoints } from "../../src/transport/primary-endpoints.js";
import { DeliveryQueues } from "../../queues/delivery-queue.js";
import { freePort } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";

describe("a probe whose Redis work fails", () => {
  let redis: TestRedis;
  const lines: Record<string, unknown>[] = [];
  const log = { warn: (o: Record<string, unknown>) => lines.push(o), info: () => undefined, error: (o: Record<string, unknown>) => lines.push(o), child: () => log } as never;

  beforeAll(async () => { redis = await startRedis(); });
  afterAll(async () => { await redis?.stop(); });

  it("resolves and logs PROBE_FAILED when its queue is closed (a stop meanwhile)", async () => {
    const config = parseConfig({ hostname: "mx2.test", domains: { "down.test": { primary: [`127.0.0.1:${await freePort()}`] } }, monitor: { failuresBeforeDown: 1, timeout: "1s" } });
    const keys = new Keyspace("mxspool");
    const queues = new DeliveryQueues({ host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null }, keys, ["down.test"]);
    const client = redis.client();
    const monitor = new PrimaryMonitor(config, client, keys, new Redis({ port: redis.port, host: "127.0.0.1", lazyConnect: true }), queues, new PrimaryEndpoints(config), log);
    await queues.get("down.test").waitUntilReady();
    await queues.get("down.test").close(); // what the stop did while the probe ran
    await expect(monitor.probe("down.test")).resolves.toBeUndefined();
    expect(lines).toContainEqual(expect.objectContaining({ event: "PROBE_FAILED", domain: "down.test", err: expect.stringMatching(/closed/i) }));
    expect(await client.hget(keys.primary("down.test"), "state")).toBe("down"); // the probe itself was recorded
  });
});

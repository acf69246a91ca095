/**
 * The embedded Redis's AOF rewrite, decided by mxspool (policies/aof-rewrite.ts): on a real
 * redis-server with Redis's own trigger off, as embedded.ts starts it, a spool that only grows
 * past the minimum is not rewritten; once it is delivered (deleted) the AOF is rewritten and
 * shrinks to the little that is live.
 */
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { waitFor } from "../helpers/net.js";
import { AofCompactor, aofFacts } from "../../src/redis/aof-compaction.js";
import { AOF_REWRITE_MIN_BYTES } from "../../policies/aof-rewrite.js";
import { createLogger } from "../../src/observability/log.js";

let redis: TestRedis;
beforeAll(async () => { redis = await startRedis({ args: ["--auto-aof-rewrite-percentage", "0", "--appendfsync", "everysec"] }); });
afterAll(async () => { await redis?.stop(); });

const rewrites = async () => Number(/^aof_rewrites:(\d+)/m.exec(await redis.client().info("persistence"))![1]);

describe("AOF rewrite of the embedded Redis", () => {
  it("leaves a growing spool alone and rewrites it once it is delivered", async () => {
    const client = redis.client();
    const compactor = new AofCompactor(client, createLogger("fatal"));
    const MiB = 1024 * 1024;
    const count = Math.ceil((AOF_REWRITE_MIN_BYTES * 1.25) / MiB); // the spool: more than the minimum
    for (let i = 0; i < count; i += 10) {
      const p = client.pipeline();
      for (let j = i; j < Math.min(count, i + 10); j++) p.set(`msg:${j}`, crypto.randomBytes(MiB));
      await p.exec();
    }
    const grown = aofFacts(await client.info("persistence", "memory"));
    expect(grown.aofBytes).toBeGreaterThan(AOF_REWRITE_MIN_BYTES);
    expect(grown.liveBytes).toBeGreaterThan(grown.aofBytes * 0.9);
    expect(await compactor.check()).toBe(false);
    expect(await rewrites()).toBe(0);

    await client.del(...Array.from({ length: count }, (_, j) => `msg:${j}`));
    await client.set("still:queued", "a message not yet delivered");
    expect(await compactor.check()).toBe(true);
    await waitFor("the rewrite to finish", async () => (await rewrites()) === 1, 30_000);
    // Redis counts the new file's size at its next cron tick
    await waitFor("the AOF to shrink to the live data", async () => aofFacts(await client.info("persistence", "memory")).aofBytes < MiB, 10_000);
    expect(await client.get("still:queued")).toBe("a message not yet delivered");
    expect(await compactor.check()).toBe(false); // nothing dead left
  });
});

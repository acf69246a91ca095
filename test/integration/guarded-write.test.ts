/**
 * GuardedWrite against a real redis-server: the batch runs only while the guard fields hold,
 * and the script travels by its SHA1 (EVALSHA), its text only when Redis does not hold it
 * (NOSCRIPT: after a restart, a failover or SCRIPT FLUSH).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { GuardedWrite } from "../../src/store/guarded-write.js";

const calls = async (redis: Redis, cmd: string): Promise<number> => {
  const m = (await redis.info("commandstats")).match(new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, "m"));
  return m ? Number(m[1]) : 0;
};

describe("GuardedWrite (real redis-server)", () => {
  let server: TestRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis({ port: server.port, host: "127.0.0.1", maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it("writes the batch while the guard holds, nothing once it does not", async () => {
    await redis.hset("rec", "state", "queued");
    expect(await new GuardedWrite("rec", { state: "queued" }).hset("rec", { state: "delivered" }).zadd("idx", 1, "m1").apply(redis)).toBe(true);
    expect(await redis.hget("rec", "state")).toBe("delivered");
    expect(await redis.zscore("idx", "m1")).toBe("1");
    expect(await new GuardedWrite("rec", { state: "queued" }).hset("rec", { state: "bounced" }).zrem("idx", "m1").apply(redis)).toBe(false);
    expect(await redis.hget("rec", "state")).toBe("delivered");
    expect(await redis.zscore("idx", "m1")).toBe("1");
  });

  it("sends the script by its SHA1, and its text once after Redis has lost it", async () => {
    await redis.config("RESETSTAT");
    await redis.script("FLUSH");
    for (let i = 0; i < 5; i++) {
      await redis.hset("rec2", "n", String(i));
      expect(await new GuardedWrite("rec2", { n: String(i) }).hincrby("count", "n", 1).apply(redis)).toBe(true);
    }
    expect(await redis.hget("count", "n")).toBe("5");
    expect(await calls(redis, "eval")).toBe(1); // the NOSCRIPT after the flush
    expect(await calls(redis, "evalsha")).toBe(5);
  });
});

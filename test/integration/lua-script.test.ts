/**
 * LuaScript against a real redis-server: the script travels by its SHA1 (EVALSHA) and its text
 * only when Redis does not hold it (NOSCRIPT); the reply, KEYS and ARGV arrive as with EVAL; a
 * script's own error reaches the caller as it is, not as a second EVAL. And no other source
 * file sends a script's text: every script goes through src/redis/lua-script.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { LuaScript } from "../../src/redis/lua-script.js";

const root = path.resolve(import.meta.dirname, "../..");

const calls = async (redis: Redis, cmd: string): Promise<number> => {
  const m = (await redis.info("commandstats")).match(new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, "m"));
  return m ? Number(m[1]) : 0;
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

describe("LuaScript (real redis-server)", () => {
  let server: TestRedis;
  let redis: Redis;
  const swap = new LuaScript("local was = redis.call('GETSET', KEYS[1], ARGV[1]) return { was or '', ARGV[2] }");

  beforeAll(async () => {
    server = await startRedis({ persistence: false });
    redis = new Redis({ port: server.port, host: "127.0.0.1", maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it("names the script by the SHA1 Redis gives it", async () => {
    expect(await redis.script("LOAD", swap.text)).toBe(swap.sha);
  });

  it("sends the SHA1 each time and the text once, after Redis has lost the script", async () => {
    await redis.script("FLUSH");
    await redis.config("RESETSTAT");
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await swap.run(redis, ["k"], [String(i), "x"]));
    expect(replies).toEqual([["", "x"], ["0", "x"], ["1", "x"], ["2", "x"]]);
    expect(await calls(redis, "eval")).toBe(1); // the NOSCRIPT after the flush
    expect(await calls(redis, "evalsha")).toBe(4);
  });

  it("passes a script's own error to the caller without sending the text again", async () => {
    const failing = new LuaScript("return redis.error_reply('ERR_MXSPOOL_TEST ' .. ARGV[1])");
    await failing.run(redis, [], ["warm"]).catch(() => undefined); // loads it (NOSCRIPT, then EVAL)
    await redis.config("RESETSTAT");
    await expect(failing.run(redis, [], ["boom"])).rejects.toThrow(/ERR_MXSPOOL_TEST boom/);
    expect(await calls(redis, "eval")).toBe(0);
  });
});

describe("one place sends scripts", () => {
  it("no source file but src/redis/lua-script.ts calls EVAL or EVALSHA", () => {
    const senders = ["src", "queues", "policies"].flatMap((d) => sourceFiles(path.join(root, d)))
      .filter((f) => /\.eval(sha)?\(|["'](EVAL|EVALSHA)["']/i.test(fs.readFileSync(f, "utf8")))
      .map((f) => path.relative(root, f));
    expect(senders).toEqual(["src/redis/lua-script.ts"]);
  });
});

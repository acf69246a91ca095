/**
 * Upgrades: the spool carries a format version (`<prefix>:format`). A new Redis gets the
 * current one; a spool as 0.1.0 wrote it (every key the same, no format key: that is the
 * whole difference, so the test makes one by sending mail with the primary down and removing
 * the key) is migrated at start and its mail is delivered; a spool of a newer format stops
 * the start with a message that says why, and is left untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { cliPath, MxspoolProcess } from "../helpers/mxspool-process.js";
import { freePort, waitFor } from "../helpers/net.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { compose, sendAll, type TestMessage } from "../helpers/messages.js";

describe("the spool's format version", () => {
  let redis: TestRedis;
  let primary: RecordingPrimary;
  let mx: MxspoolProcess;
  let smtpPort: number;

  beforeAll(async () => {
    redis = await startRedis();
    primary = new RecordingPrimary({ port: await freePort(), closeTimeout: 100 });
    smtpPort = await freePort();
    mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort, redisUrl: redis.url, primaryPort: primary.port, processes: 1 }, { delivery: { retry: { first: "1s", max: "2s" } } }));
  });

  afterAll(async () => {
    await mx?.stop();
    await primary?.stop();
    await redis?.stop();
    mx?.cleanup();
  });

  it("is written on a new Redis without a migration", async () => {
    await mx.start();
    expect(await redis.client().get("mxspool:format")).toBe("1");
    expect(mx.events("STORE_FORMAT_MIGRATED")).toHaveLength(0);
  });

  it("migrates a spool written in 0.1.0's format (no version key) at start and delivers its mail", async () => {
    const msgs: TestMessage[] = [];
    for (let i = 0; i < 3; i++) {
      const to = [`user${i}@example.test`];
      msgs.push({ testId: `v0-${i}`, from: "s@sender.test", to, raw: await compose({ testId: `v0-${i}`, from: "s@sender.test", to }) });
    }
    const { accepted, errors } = await sendAll(smtpPort, msgs, 1); // the primary is down: all three wait in the queue
    expect([...errors.values()]).toEqual([]);
    expect(accepted.size).toBe(3);
    expect(await mx.stop()).toBe(0);
    expect(await redis.client().del("mxspool:format")).toBe(1); // now exactly what 0.1.0 leaves behind

    await primary.start();
    await mx.start();
    expect(mx.events("STORE_FORMAT_MIGRATED")).toMatchObject([{ from: 0, to: 1 }]);
    expect(await redis.client().get("mxspool:format")).toBe("1");
    await waitFor("the three spooled messages at the primary", () => primary.received.length === 3, 60_000);
    expect(primary.received.map((r) => r.rcpts[0]).sort()).toEqual(["user0@example.test", "user1@example.test", "user2@example.test"]);
  });

  it("refuses to start on a spool of a newer format, saying so, and leaves it untouched", async () => {
    expect(await mx.stop()).toBe(0);
    await redis.client().set("mxspool:format", "2");
    const r = spawnSync(process.execPath, [cliPath(), "start", "--config", mx.configFile], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^mxspool: cannot start: the spool in Redis \(prefix mxspool\) has format 2, newer than this mxspool understands \(1\): it was written by a later release/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await redis.client().get("mxspool:format")).toBe("2");
  });
});

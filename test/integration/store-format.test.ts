/**
 * Upgrades: the spool carries a format version (`<prefix>:format`). A new Redis gets the
 * current one; a spool as 0.1.0 wrote it (every key the same, no format key: that is the
 * whole difference besides plain bytes, so the test makes one by sending mail with the primary
 * down, removing the key and writing each message's bytes back plain) is migrated at start and
 * its mail is delivered; so is a spool of format 1, the last with plain (uncompressed) bytes,
 * byte for byte beside messages stored compressed after the upgrade; a spool of a newer format
 * stops the start with a message that says why, and is left untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { cliPath, MxspoolProcess } from "../helpers/mxspool-process.js";
import { freePort, waitFor } from "../helpers/net.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { compose, sendAll, stripFirstReceived, type TestMessage } from "../helpers/messages.js";
import { STORE_FORMAT } from "../../src/store/store-format.js";
import { decodeFramed, isFramed } from "../../src/store/frame-codec.js";
import { corpus } from "../helpers/mail-corpus.js";

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
    expect(await redis.client().get("mxspool:format")).toBe(String(STORE_FORMAT));
    expect(mx.events("STORE_FORMAT_MIGRATED")).toHaveLength(0);
  });

  /** Writes every stored message's bytes back plain, as releases before format 2 stored them. */
  async function plainBytes(): Promise<number> {
    const c = redis.client();
    let n = 0;
    for (const key of await c.keys("mxspool:msg:*:raw")) {
      const value = (await c.getBuffer(key))!;
      if (!isFramed(value)) continue; // made plain before (delivered, kept for retention)
      await c.set(key, decodeFramed(value), "PX", await c.pttl(key));
      n++;
    }
    return n;
  }

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
    expect(await redis.client().del("mxspool:format")).toBe(1);
    expect(await plainBytes()).toBe(3); // now exactly what 0.1.0 leaves behind

    await primary.start();
    await mx.start();
    expect(mx.events("STORE_FORMAT_MIGRATED")).toMatchObject([{ from: 0, to: 1 }, { from: 1, to: 2 }]);
    expect(await redis.client().get("mxspool:format")).toBe(String(STORE_FORMAT));
    await waitFor("the three spooled messages at the primary", () => primary.received.length === 3, 60_000);
    expect(primary.received.map((r) => r.rcpts[0]).sort()).toEqual(["user0@example.test", "user1@example.test", "user2@example.test"]);
  });

  it("delivers a format 1 spool's plain (uncompressed) bytes byte for byte after the upgrade, beside mail stored compressed since", async () => {
    await primary.stop();
    primary.received.length = 0;
    // the corpus (with a ~1.5 MB attachment: streamed frame by frame) as the previous release stored it
    const old: TestMessage[] = [...corpus({ count: 5, seed: 7, extraSizes: [1_500_000], maxSize: 300_000, to: "old@example.test" })]
      .map((m, i) => ({ testId: `v1-${i}`, from: "s@sender.test", to: ["old@example.test"], raw: Buffer.concat([Buffer.from(`X-Test-Id: v1-${i}\r\n`), m.raw]) }));
    expect((await sendAll(smtpPort, old, 2)).accepted.size).toBe(6);
    expect(await mx.stop()).toBe(0);
    expect(await plainBytes()).toBe(6);
    await redis.client().set("mxspool:format", "1");

    const seen = mx.events("STORE_FORMAT_MIGRATED").length;
    await mx.start();
    expect(mx.events("STORE_FORMAT_MIGRATED").slice(seen)).toMatchObject([{ from: 1, to: 2 }]);
    const fresh: TestMessage[] = old.map((m) => ({ ...m, testId: m.testId.replace("v1", "v2"), raw: Buffer.from(m.raw.toString("latin1").replace("X-Test-Id: v1", "X-Test-Id: v2"), "latin1") }));
    expect((await sendAll(smtpPort, fresh, 2)).accepted.size).toBe(6);
    await primary.start();
    await waitFor("the twelve messages at the primary", () => primary.received.length >= 12, 120_000);
    const byId = new Map(primary.received.map((r) => [/^X-Test-Id: *(.+?)\r?$/im.exec(r.body)![1], r]));
    for (const m of [...old, ...fresh]) expect(stripFirstReceived(byId.get(m.testId)!.raw).rest.equals(m.raw), m.testId).toBe(true);
  });

  it("refuses to start on a spool of a newer format, saying so, and leaves it untouched", async () => {
    expect(await mx.stop()).toBe(0);
    const newer = String(STORE_FORMAT + 1);
    await redis.client().set("mxspool:format", newer);
    const r = spawnSync(process.execPath, [cliPath(), "start", "--config", mx.configFile], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^mxspool: cannot start: the spool in Redis \\(prefix mxspool\\) has format ${newer}, newer than this mxspool understands \\(${STORE_FORMAT}\\): it was written by a later release`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await redis.client().get("mxspool:format")).toBe(newer);
  });
});

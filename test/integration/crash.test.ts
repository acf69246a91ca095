/**
 * "A message that got 250 is never lost, whatever process is killed."
 * 1. kill -9 of every mxspool process while 50 clients send and deliveries run (with two
 *    forked SMTP processes, and with SMTP in the supervisor: the default on 2 cores); restart:
 *    every message a client saw accepted reaches the primary (duplicates counted).
 * 2. kill -9 of redis-server with messages queued; restart from its AOF: nothing lost.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import nodemailer from "nodemailer";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { compose } from "../helpers/messages.js";
import { startClient } from "../helpers/sending-client.js";

async function mxConfig(redis: TestRedis, primaryPort: number, smtpPort: number, processes?: number | "auto") {
  return testMxspoolConfig({ smtpPort, redisUrl: redis.url, primaryPort, processes }, {
    delivery: { retry: { first: "1s", max: "3s" }, lockDuration: "3s", concurrency: 10 },
  });
}

describe.each([
  ["2 forked SMTP processes", 2],
  ["SMTP in the supervisor (the default on 2 cores)", "auto"],
] as const)("kill -9 of mxspool while 50 clients send, %s", (_name, processes) => {
  let redis: TestRedis;
  let primary: RecordingPrimary;
  let mx: MxspoolProcess;
  let smtpPort: number;

  beforeAll(async () => {
    redis = await startRedis();
    primary = new RecordingPrimary({ port: await freePort() });
    await primary.start(); // the primary is up: deliveries are in flight when the kill lands
    smtpPort = await freePort();
    mx = new MxspoolProcess(await mxConfig(redis, primary.port, smtpPort, processes));
    await mx.start();
  });
  afterAll(async () => { await mx?.stop(); await primary?.stop(); await redis?.stop(); mx?.cleanup(); });

  it("delivers every message a client saw accepted, and counts duplicates", async () => {
    const port = smtpPort;
    const accepted = new Set<string>();
    const refused = { n: 0 };
    const clients = Array.from({ length: 50 }, (_, i) => startClient(port, `c${i}`, accepted, refused));
    await waitFor("300 messages accepted before the kill", () => accepted.size >= 300, 60_000, 20);
    const acceptedBeforeKill = accepted.size;
    await mx.kill9();
    await sleep(1000); // clients now hit a closed port
    await mx.start();
    await waitFor("100 more accepted after the restart", () => accepted.size >= acceptedBeforeKill + 100, 60_000, 20);
    await Promise.all(clients.map((c) => c.stop()));

    await waitFor("every accepted message at the primary", () => {
      const got = primary.countBy("X-Test-Id");
      return [...accepted].every((id) => got.has(id));
    }, 120_000, 250);
    await sleep(5000); // a stalled delivery re-run after the lock expires would land now
    const got = primary.countBy("X-Test-Id");
    const missing = [...accepted].filter((id) => !got.has(id));
    const duplicates = [...got.entries()].filter(([, n]) => n > 1);
    const extra = [...got.keys()].filter((id) => !accepted.has(id)); // stored, but the client never saw the 250
    console.log(`kill -9 mxspool: accepted=${accepted.size} (before kill ${acceptedBeforeKill}), refused/failed sends=${refused.n}, ` +
      `delivered=${primary.received.length}, missing=${missing.length}, duplicates=${duplicates.length}, delivered-without-seen-250=${extra.length}`);
    expect(missing).toEqual([]);
    expect(accepted.size).toBeGreaterThanOrEqual(acceptedBeforeKill + 100);
  });
});

describe("kill -9 of redis-server with messages queued", () => {
  let redis: TestRedis;
  let primary: RecordingPrimary;
  let mx: MxspoolProcess;
  let smtpPort: number;

  beforeAll(async () => {
    redis = await startRedis();
    primary = new RecordingPrimary({ port: await freePort() }); // down for now
    smtpPort = await freePort();
    mx = new MxspoolProcess(await mxConfig(redis, primary.port, smtpPort));
    await mx.start();
  });
  afterAll(async () => { await mx?.stop(); await primary?.stop(); await redis?.stop(); mx?.cleanup(); });

  it("loses nothing that was accepted: the queue comes back from the AOF", async () => {
    const accepted = new Set<string>();
    const t = nodemailer.createTransport({ host: "127.0.0.1", port: smtpPort, ignoreTLS: true, pool: true, maxConnections: 10 });
    await Promise.all(Array.from({ length: 300 }, async (_, i) => {
      const testId = `q-${i}`;
      const info = await t.sendMail({ envelope: { from: "s@sender.test", to: [`r${i}@example.test`] }, raw: await compose({ testId, from: "s@sender.test", to: [`r${i}@example.test`] }) });
      if (/^250 /.test(info.response)) accepted.add(testId);
    }));
    t.close();
    expect(accepted.size).toBe(300);

    await redis.kill9();
    // while Redis is dead nothing may be acknowledged: a 250 here would be a lie
    const during = nodemailer.createTransport({ host: "127.0.0.1", port: smtpPort, ignoreTLS: true, socketTimeout: 4000, greetingTimeout: 4000 });
    const sendDuring = during.sendMail({ envelope: { from: "s@sender.test", to: ["late@example.test"] }, raw: await compose({ testId: "during-outage", from: "s@sender.test", to: ["late@example.test"] }) })
      .then((info) => { if (/^250 /.test(info.response)) accepted.add("during-outage"); return info.response; }, (err: Error) => err.message);
    await sleep(2000);
    await redis.restart();
    const duringReply = await sendDuring;
    during.close();

    await primary.start();
    await waitFor("every accepted message at the primary", () => {
      const got = primary.countBy("X-Test-Id");
      return [...accepted].every((id) => got.has(id));
    }, 120_000, 250);
    await sleep(2000);
    const got = primary.countBy("X-Test-Id");
    const missing = [...accepted].filter((id) => !got.has(id));
    const duplicates = [...got.entries()].filter(([, n]) => n > 1);
    console.log(`kill -9 redis: accepted=${accepted.size}, delivered=${primary.received.length}, missing=${missing.length}, duplicates=${duplicates.length}, reply during outage: ${duringReply}`);
    expect(missing).toEqual([]);
    expect(duplicates).toEqual([]);
  });
});

/**
 * On one Redis a message's bytes, records, indexes and the delivery job of each of its
 * recipient domains are one MULTI (BullMQ's add script inside it), so no crash can leave a
 * part of them: read from Redis' own MONITOR while a real mxspool process accepts a message
 * for two domains. The job is there once the client has its 250.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { sendAll } from "../helpers/messages.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { monitorRedis } from "../helpers/redis-monitor.js";

describe("the accept's one MULTI on one Redis", () => {
  let redis: TestRedis;
  let mx: MxspoolProcess;
  let port: number;

  beforeAll(async () => {
    redis = await startRedis();
    port = await freePort();
    const primaryPort = await freePort(); // nothing listens: the mail stays queued
    mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort: port, redisUrl: redis.url, primaryPort, processes: 1 }, {
      domains: { "other.test": { primary: [`127.0.0.1:${primaryPort}`] } },
    }));
    await mx.start();
  });
  afterAll(async () => { await mx?.stop(); await redis?.stop(); mx?.cleanup(); });

  /** One message for one@example.test and two@other.test; resolves with its queue id once the 250 is in. */
  const send = async (): Promise<string> => {
    const raw = Buffer.from("From: <alice@sender.test>\r\nSubject: one multi\r\n\r\nhello\r\n");
    const { accepted, errors } = await sendAll(port, [{ testId: "one-multi", from: "alice@sender.test", to: ["one@example.test", "two@other.test"], raw }], 1);
    expect([...errors.values()]).toEqual([]);
    const id = /^250 2\.0\.0 Ok: queued as (\S+)/.exec(accepted.get("one-multi") ?? "")?.[1];
    expect(id).toBeTruthy();
    return id!;
  };
  const expectJobs = async (id: string) => {
    const c = redis.client();
    for (const [job, domain] of [[id, "example.test"], [`${id}.2`, "other.test"]]) expect(await c.exists(`{mxspool}:delivery-${domain}:${job}`)).toBe(1);
  };

  it("writes the bytes, the records and both domains' jobs between one MULTI and its EXEC", async () => {
    const monitor = await monitorRedis(redis.port);
    const seen = monitor.seen;

    const id = await send();
    await expectJobs(id);

    // the MULTI that wrote the record: everything of this message is inside it
    await waitFor("the accept's EXEC seen by MONITOR", () => seen.some((s) => s.args[0]?.toLowerCase() === "exec"), 5000);
    monitor.close();
    const meta = seen.findIndex((s) => s.args[0]?.toLowerCase() === "hset" && s.args[1] === `mxspool:msg:{${id}}:meta`);
    expect(meta).toBeGreaterThan(0);
    const source = seen[meta]!.source;
    const mine = seen.filter((s) => s.source === source);
    const at = mine.indexOf(seen[meta]!);
    const begin = mine.slice(0, at).map((s) => s.args[0]!.toLowerCase()).lastIndexOf("multi");
    const end = at + mine.slice(at).findIndex((s) => s.args[0]!.toLowerCase() === "exec");
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(at);
    const inside = mine.slice(begin, end + 1);
    const touches = (key: string) => inside.some((s) => s.args.includes(key));
    expect(touches(`mxspool:msg:{${id}}:raw`)).toBe(true);
    expect(touches(`mxspool:msg:{${id}.2}:meta`)).toBe(true);
    // BullMQ's add script (EVALSHA, or EVAL on a connection's first use) with each job's id
    const adds = (domain: string) => inside.filter((s) => /^eval(sha)?$/i.test(s.args[0]!) && s.args.includes(`{mxspool}:delivery-${domain}:wait`));
    expect(adds("example.test")).toHaveLength(1);
    expect(adds("other.test")).toHaveLength(1);
  });

  it("adds the jobs on their own when Redis has lost BullMQ's script (SCRIPT FLUSH), and in the MULTI again after", async () => {
    await redis.client().script("FLUSH");
    await expectJobs(await send());
    const monitor = await monitorRedis(redis.port);
    await expectJobs(await send());
    const seen = () => monitor.seen.map((s) => s.args);
    await waitFor("the accept's EXEC seen by MONITOR", () => seen().some((a) => a[0]?.toLowerCase() === "exec"), 5000);
    monitor.close();
    expect(seen().filter((a) => a[0]?.toLowerCase() === "evalsha" && a.includes("{mxspool}:delivery-other.test:wait"))).toHaveLength(1);
    expect(mx.events("JOBS_APART")).toHaveLength(0);
  });
});

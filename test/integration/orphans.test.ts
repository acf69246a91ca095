/**
 * Orphans after a crash: mxspool killed (SIGKILL, through the test-only MXSPOOL_FAULT hook)
 * right after a message's record, bytes and indexes were written and before its delivery
 * jobs were added. The client gets no 250; after a restart the orphan — both of its
 * per-domain copies — is removed with everything it had in Redis, while a message that was
 * acknowledged before the crash is delivered, and the queue reaches 0.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { RawSmtp } from "../helpers/smtp-client.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";

const TOKEN = "orphans-admin-token-0123456789";

async function transaction(port: number, rcpts: string[], testId: string): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  await c.reply();
  await c.cmd("EHLO client.test");
  expect(await c.cmd("MAIL FROM:<alice@sender.test>")).toMatch(/^250/);
  for (const r of rcpts) expect(await c.cmd(`RCPT TO:<${r}>`)).toMatch(/^250/);
  expect(await c.cmd("DATA")).toMatch(/^354/);
  c.write(`From: <alice@sender.test>\r\nSubject: orphan test ${testId}\r\nX-Test-Id: ${testId}\r\n\r\nhello\r\n.\r\n`);
  return c;
}

describe("orphans left by a crash between storing and queueing", () => {
  let redis: TestRedis;
  let primary: RecordingPrimary;
  let mx: MxspoolProcess;
  let port: number;
  let httpPort: number;
  const api = async (path: string) => (await fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as Promise<any>;

  beforeAll(async () => {
    redis = await startRedis();
    primary = new RecordingPrimary({ port: await freePort() }); // down until the restart
    port = await freePort();
    httpPort = await freePort();
    mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort: port, redisUrl: redis.url, primaryPort: primary.port, processes: 1 }, {
      http: { listen: `127.0.0.1:${httpPort}`, adminToken: TOKEN },
      domains: { "other.test": { primary: [`127.0.0.1:${primary.port}`] } },
      delivery: { orphanAge: "5s", sweepInterval: "500ms", retry: { first: "500ms", max: "1s" } },
    }));
    await mx.start();
  });
  afterAll(async () => { await mx?.stop(); await primary?.stop(); await redis?.stop(); mx?.cleanup(); });

  it("removes a message stored without its jobs (never acknowledged) and delivers the one acknowledged before", async () => {
    const c = redis.client();
    const first = await transaction(port, ["kept@example.test"], "acked-1");
    const acked = /^250 2\.0\.0 Ok: queued as (\S+)/.exec(await first.reply(30_000))?.[1];
    first.close();
    expect(acked).toBeTruthy();

    // the same mxspool, armed to die right after the accept MULTI
    await mx.kill9();
    await mx.start([], { MXSPOOL_FAULT: "after-records-commit" });
    const second = await transaction(port, ["one@example.test", "two@other.test"], "orphan-1");
    await expect(second.reply(30_000)).rejects.toThrow(/connection closed/);
    await waitFor("the worker's death", () => mx.events("CHILD_EXIT").length > 0, 20_000);
    await mx.kill9();

    // what the crash left: two copies, each with record, bytes and index entries, but no job
    const orphan = (await c.zrange("mxspool:idx:all", "0", "-1")).find((id) => id !== acked && !id.includes("."))!;
    expect(orphan).toBeTruthy();
    const copies = [{ id: orphan, domain: "example.test" }, { id: `${orphan}.2`, domain: "other.test" }];
    for (const { id, domain } of copies) {
      expect(await c.hget(`mxspool:msg:{${id}}:meta`, "state")).toBe("queued");
      expect(await c.exists(`mxspool:msg:{${id}}:raw`)).toBe(1);
      expect(await c.exists(`{mxspool}:delivery-${domain}:${id}`)).toBe(0);
    }

    // restart without the fault, the primary up
    await primary.start();
    await mx.start();
    await waitFor("the acknowledged message delivered", () => primary.received.some((m) => m.body.includes("X-Test-Id: acked-1")), 30_000);
    await waitFor("the queue empty", async () => (await api("/api/status")).queue.inQueue === 0, 30_000);

    const removed = mx.events("ORPHAN_REMOVED");
    expect(removed.map((e) => [e.id, e.domain]).sort()).toEqual(copies.map((x) => [x.id, x.domain]).sort());
    expect(removed.every((e) => typeof e.age === "number" && (e.age as number) >= 5000)).toBe(true);
    for (const { id } of copies) expect(await c.keys(`mxspool:msg:{${id}}:*`)).toEqual([]);
    for (const idx of ["all", "state:queued", "domain:example.test", "domain:other.test", "rcpt:one@example.test", "rcpt:two@other.test"]) {
      expect(await c.zrange(`mxspool:idx:${idx}`, "0", "-1")).not.toContain(orphan);
      expect(await c.zrange(`mxspool:idx:${idx}`, "0", "-1")).not.toContain(`${orphan}.2`);
    }
    const status = await api("/api/status");
    expect(status.queue).toMatchObject({ queued: 0, deferred: 0, active: 0, inQueue: 0 });
    expect(status.totals).toMatchObject({ accepted: 1, delivered: 1 });
    expect((await api("/api/messages")).items.map((m: { id: string }) => m.id)).toEqual([acked]);
    await sleep(1000);
    expect(primary.received.filter((m) => m.body.includes("X-Test-Id: orphan-1"))).toHaveLength(0);
  });
});

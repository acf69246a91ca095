/**
 * `primary: "mx"` end to end: the real CLI with a real Redis, a recording primary and a test
 * DNS server as `dns.servers`. The MX record names an exchange that only that DNS server
 * knows, so delivery works only if mxspool resolves the exchange through it too.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDnsServer, type TestDnsServer, type Zone } from "../helpers/dns-server.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";

/** The admin token: /api/health gives its details (primaries, queues) only with it. */
const HEALTH_TOKEN = "dns-mx-admin-token-0123456";

const DOMAIN = "example.test";

const withPrimary = (): Zone => ({
  [DOMAIN]: { MX: [{ priority: 10, exchange: "mx1.example.test" }, { priority: 20, exchange: "mx2.example.test" }] },
  "mx1.example.test": { A: ["127.0.0.1"] },
  "mx2.example.test": { A: ["127.0.0.1"] },
});
const onlyUs = (): Zone => ({
  [DOMAIN]: { MX: [{ priority: 20, exchange: "mx2.example.test" }] },
  "mx2.example.test": { A: ["127.0.0.1"] },
});

describe("primary: mx", () => {
  let redis: TestRedis;
  let dns: TestDnsServer;
  let primary: RecordingPrimary;
  let mxspool: MxspoolProcess;
  let smtpPort: number;
  let httpPort: number;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-dnsmx-"));

  const send = async (id: string) => {
    const t = nodemailer.createTransport({ host: "127.0.0.1", port: smtpPort, secure: false, ignoreTLS: true, name: "client.test" });
    try {
      return await t.sendMail({
        envelope: { from: "sender@origin.test", to: [`user@${DOMAIN}`, `other@${DOMAIN}`] },
        from: "Sender <sender@origin.test>", to: `user@${DOMAIN}`, subject: `dns-mx ${id}`,
        headers: { "X-Test-Id": id }, text: `hello ${id}\n`,
      });
    } finally { t.close(); }
  };
  const health = async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/health`, { headers: { authorization: `Bearer ${HEALTH_TOKEN}` } });
    return (await res.json()) as { primaries: Record<string, { state: string; lastError: string | null }>; queue: Record<string, Record<string, number>> };
  };
  const received = (id: string) => primary.received.filter((r) => new RegExp(`^X-Test-Id: *${id}\\r?$`, "im").test(r.body));

  beforeAll(async () => {
    redis = await startRedis();
    dns = await startDnsServer(withPrimary());
    primary = new RecordingPrimary({ port: await freePort() });
    await primary.start();
    smtpPort = await freePort();
    httpPort = await freePort();
    mxspool = new MxspoolProcess({
      hostname: "mx2.example.test",
      smtp: { listen: [`127.0.0.1:${smtpPort}`], processes: 1, reverseLookup: false },
      http: { listen: `127.0.0.1:${httpPort}`, adminToken: HEALTH_TOKEN },
      redis: { url: redis.url },
      domains: { [DOMAIN]: { primary: "mx" } },
      dns: { servers: [dns.address], mxPort: primary.port },
      monitor: { interval: "1s", timeout: "2s" },
      delivery: { retry: { first: "1s", max: "2s" }, connectTimeout: "2s" },
      log: { level: "info" },
    }, dir);
    await mxspool.start();
  });

  afterAll(async () => {
    await mxspool?.stop("SIGTERM", 30_000).catch(() => mxspool.kill9());
    await primary?.stop();
    await dns?.stop();
    await redis?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("delivers to the MX preferred over ours, its address resolved through dns.servers, envelope intact", async () => {
    dns.zone = withPrimary();
    await waitFor("the primary to be seen up", async () => (await health()).primaries[DOMAIN]?.state === "up", 15_000);
    const info = await send("via-mx-1");
    expect(info.accepted.sort()).toEqual([`other@${DOMAIN}`, `user@${DOMAIN}`]);

    const [got] = await waitFor("delivery to the primary", () => { const r = received("via-mx-1"); return r.length ? r : undefined; }, 20_000);
    expect(got.from).toBe("sender@origin.test");
    expect(got.rcpts.sort()).toEqual([`other@${DOMAIN}`, `user@${DOMAIN}`]);
    expect(got.body).toContain("Subject: dns-mx via-mx-1");
    expect(got.body).toContain("hello via-mx-1");
    await sleep(1500);
    expect(received("via-mx-1")).toHaveLength(1);
    // mx1's address came from our DNS server (the system resolver does not know it); ours was never a target
    expect(dns.queries.some((q) => q.type === "A" && q.name === "mx1.example.test")).toBe(true);
    expect(mxspool.events("DELIVERED").some((l) => l.primary === `127.0.0.1:${primary.port}`)).toBe(true);
  });

  it("holds the mail while the only MX is ourselves, and drains it once a better MX appears", async () => {
    dns.zone = onlyUs();
    const h = await waitFor("the domain to be seen down", async () => { const x = await health(); return x.primaries[DOMAIN]?.state === "down" ? x : undefined; }, 15_000);
    expect(h.primaries[DOMAIN].lastError).toMatch(/no primary endpoint/);

    const info = await send("held-1");
    expect(info.accepted.length).toBe(2);
    await sleep(4000); // several monitor intervals and delivery retries' worth
    expect(received("held-1")).toHaveLength(0);
    const after = await health();
    expect(after.primaries[DOMAIN].state).toBe("down");
    const queued = Object.values(after.queue[DOMAIN]).reduce((a, b) => a + b, 0);
    expect(queued).toBeGreaterThanOrEqual(1);
    const queueId = mxspool.events("SMTP_TRANSACTION").at(-1)?.id;
    expect(queueId).toBeTruthy();
    expect(mxspool.events("DELIVERED").filter((l) => l.id === queueId)).toEqual([]);

    // a primary above us appears in DNS: the monitor sees it within an interval and the queue drains
    dns.zone = withPrimary();
    const [got] = await waitFor("the held message to be drained", () => { const r = received("held-1"); return r.length ? r : undefined; }, 20_000);
    expect(got.rcpts.sort()).toEqual([`other@${DOMAIN}`, `user@${DOMAIN}`]);
    expect(got.from).toBe("sender@origin.test");
    await waitFor("DELIVERED logged for the held message", () => mxspool.events("DELIVERED").filter((l) => l.id === queueId).length === 2, 10_000);
  });
});

describe("primary: mx that points back at us", () => {
  it("never treats our own listener as the primary, even when hostname does not match our MX name", async () => {
    const redis = await startRedis();
    const dns = await startDnsServer({
      [DOMAIN]: { MX: [{ priority: 10, exchange: "backup.example.test" }] },
      "backup.example.test": { A: ["127.0.0.1"] },
    });
    const smtpPort = await freePort();
    const httpPort = await freePort();
    const mx = new MxspoolProcess({
      hostname: "misnamed.example.test",
      smtp: { listen: [`0.0.0.0:${smtpPort}`], processes: 1, reverseLookup: false },
      http: { listen: `127.0.0.1:${httpPort}`, adminToken: HEALTH_TOKEN },
      redis: { url: redis.url },
      domains: { [DOMAIN]: { primary: "mx" } },
      dns: { servers: [dns.address], mxPort: smtpPort },
      monitor: { interval: "1s", timeout: "2s" },
    });
    try {
      await mx.start();
      const t = nodemailer.createTransport({ host: "127.0.0.1", port: smtpPort, ignoreTLS: true, name: "client.test" });
      await t.sendMail({ envelope: { from: "s@origin.test", to: [`user@${DOMAIN}`] }, raw: "Subject: loop?\r\n\r\nhello\r\n" });
      t.close();
      await sleep(4000);
      const h = await (await fetch(`http://127.0.0.1:${httpPort}/api/health`, { headers: { authorization: `Bearer ${HEALTH_TOKEN}` } })).json() as { primaries: Record<string, { state: string; lastError: string }> };
      expect(h.primaries[DOMAIN].state).toBe("down");
      expect(h.primaries[DOMAIN].lastError).toMatch(/no primary endpoint/);
      expect(mx.events("SMTP_TRANSACTION")).toHaveLength(1); // it never delivered the message to itself
    } finally {
      await mx.stop();
      mx.cleanup();
      await dns.stop();
      await redis.stop();
    }
  });
});

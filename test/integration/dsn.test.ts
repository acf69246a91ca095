/**
 * Delivery status notifications like a real MTA's: one bounce naming the recipient the
 * primary refused, none to the null sender, one bounce when a message expires in the queue,
 * one delay warning, one of each for a message stored as a copy per recipient domain — each checked at the sender's side (bounces.relay is a recording SMTP
 * server) as an RFC 3464 report.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { RawSmtp } from "../helpers/smtp-client.js";

async function send(port: number, from: string, rcpts: string[], testId: string): Promise<void> {
  const c = await RawSmtp.connect(port);
  await c.reply();
  await c.cmd("EHLO client.test");
  expect(await c.cmd(`MAIL FROM:<${from}>`)).toMatch(/^250/);
  for (const r of rcpts) expect(await c.cmd(`RCPT TO:<${r}>`)).toMatch(/^250/);
  expect(await c.cmd("DATA")).toMatch(/^354/);
  c.write(`From: <${from || "mailer-daemon@sender.test"}>\r\nSubject: dsn test ${testId}\r\nX-Test-Id: ${testId}\r\n\r\nhello\r\n.\r\n`);
  expect(await c.reply()).toMatch(/^250 2\.0\.0 /);
  c.close();
}

describe("DSNs", () => {
  let redis: TestRedis;
  let primary: RecordingPrimary;
  let senderSide: RecordingPrimary;
  let mx: MxspoolProcess;
  let port: number;
  const dsnsAbout = (testId: string) => senderSide.received.filter((m) => m.body.includes(`X-Test-Id: ${testId}`));

  beforeAll(async () => {
    redis = await startRedis();
    primary = new RecordingPrimary({ port: await freePort(), rcptReply: (r) => (r.startsWith("bad@") ? { code: 550, text: "5.1.1 <bad@example.test>: no such user" } : undefined) });
    await primary.start();
    senderSide = new RecordingPrimary({ port: await freePort() });
    await senderSide.start();
    port = await freePort();
    mx = new MxspoolProcess({
      hostname: "mx2.example.test",
      smtp: { listen: [`127.0.0.1:${port}`], processes: 1, reverseLookup: false },
      http: { listen: `127.0.0.1:${await freePort()}` },
      redis: { url: redis.url },
      domains: {
        "example.test": { primary: [`127.0.0.1:${primary.port}`] },
        "down.test": { primary: ["127.0.0.1:9"] },
        "also-down.test": { primary: ["127.0.0.1:9"] },
      },
      bounces: { relay: `127.0.0.1:${senderSide.port}` },
      monitor: { interval: "1s", timeout: "1s" },
      delivery: { retry: { first: "500ms", max: "1s" }, delayWarning: "2s", maxLifetime: "6s", sweepInterval: "500ms" },
      retention: { delivered: "10s" }, // past the DSN gathering (DSN_COALESCE_MS), so the record is still there when the DSN arrives
    });
    await mx.start();
  });
  afterAll(async () => { await mx?.stop(); await primary?.stop(); await senderSide?.stop(); await redis?.stop(); mx?.cleanup(); });

  it("bounces only the recipient the primary refused, once, as an RFC 3464 report with the original headers", async () => {
    await send(port, "alice@sender.test", ["good@example.test", "bad@example.test"], "mixed-1");
    await waitFor("the bounce at the sender's side", () => dsnsAbout("mixed-1").length >= 1, 20_000);
    await sleep(1500);
    const dsns = dsnsAbout("mixed-1");
    expect(dsns).toHaveLength(1);
    const d = dsns[0];
    expect(d.from).toBe("");
    expect(d.rcpts).toEqual(["alice@sender.test"]);
    expect(d.body).toMatch(/^Content-Type: multipart\/report; report-type=delivery-status;/m);
    expect(d.body).toContain("Final-Recipient: rfc822; bad@example.test");
    expect(d.body).toContain("Action: failed");
    expect(d.body).toContain("Status: 5.1.1");
    expect(d.body).toContain("Diagnostic-Code: smtp; 550 5.1.1 <bad@example.test>: no such user");
    expect(d.body).not.toContain("Final-Recipient: rfc822; good@example.test");
    expect(d.body).toMatch(/Content-Type: text\/rfc822-headers\r\n\r\nReceived: from client\.test[\s\S]*Subject: dsn test mixed-1/);
    expect(primary.received.filter((m) => m.body.includes("X-Test-Id: mixed-1")).map((m) => m.rcpts)).toEqual([["good@example.test"]]);
  });

  it("sends no DSN to the null sender", async () => {
    await send(port, "", ["bad@example.test"], "null-1");
    await waitFor("the suppression", () => mx.events("DSN_SUPPRESSED").some((e) => e.from === "<>"), 20_000);
    await sleep(1000);
    expect(dsnsAbout("null-1")).toHaveLength(0);
  });

  it("warns once about a delay, then bounces once when the message expires", async () => {
    await send(port, "carol@sender.test", ["someone@down.test"], "expire-1");
    await waitFor("the delay warning", () => dsnsAbout("expire-1").some((m) => m.body.includes("Action: delayed")), 20_000);
    await waitFor("the expiry bounce", () => dsnsAbout("expire-1").some((m) => m.body.includes("Action: failed")), 30_000);
    const c = redis.client();
    const id = mx.events("SMTP_TRANSACTION").find((e) => (e.rcpts as string[])?.includes("someone@down.test"))!.id as string;
    const ledger = (await c.lrange(`mxspool:msg:{${id}}:ledger`, 0, -1)).map((l) => JSON.parse(l).type);
    expect(ledger).toEqual(["received", "expired"]);
    expect(await c.hget(`mxspool:msg:{${id}}:meta`, "state")).toBe("bounced");
    await sleep(2500);
    const dsns = dsnsAbout("expire-1");
    expect(dsns.filter((m) => m.body.includes("Action: delayed"))).toHaveLength(1);
    expect(dsns.filter((m) => m.body.includes("Action: failed"))).toHaveLength(1);
    const bounce = dsns.find((m) => m.body.includes("Action: failed"))!;
    expect(bounce.body).toContain("Status: 4.4.7");
    expect(bounce.body).toMatch(/Diagnostic-Code: smtp; delivery time expired/);
    const delay = dsns.find((m) => m.body.includes("Action: delayed"))!;
    expect(delay.body).toContain("THIS IS A WARNING ONLY");
    expect(delay.body).toMatch(/Will-Retry-Until: /);
    // then purged with everything it had in Redis
    await waitFor("the expired message purged", async () => (await c.keys(`mxspool:msg:{${id}}:*`)).length === 0, 20_000);
  });

  it("sends one delay warning and one bounce naming every recipient of a message stored as one copy per domain", async () => {
    const rcpts = ["a@down.test", "b@down.test", "c@also-down.test"];
    await send(port, "dave@sender.test", rcpts, "expire-2");
    await waitFor("the expiry bounce", () => dsnsAbout("expire-2").some((m) => m.body.includes("Action: failed")), 30_000);
    await sleep(2500);
    const dsns = dsnsAbout("expire-2");
    const delays = dsns.filter((m) => m.body.includes("Action: delayed"));
    const bounces = dsns.filter((m) => m.body.includes("Action: failed"));
    expect(delays).toHaveLength(1);
    expect(bounces).toHaveLength(1);
    const named = (body: string) => [...body.matchAll(/^Final-Recipient: rfc822; (\S+)\r$/gm)].map((x) => x[1]).sort();
    expect(named(delays[0].body)).toEqual(rcpts);
    expect(named(bounces[0].body)).toEqual(rcpts);
    expect(bounces[0].rcpts).toEqual(["dave@sender.test"]);
    const id = mx.events("SMTP_TRANSACTION").find((e) => (e.rcpts as string[])?.includes("c@also-down.test"))!.id as string;
    expect(bounces[0].body).toContain(`X-Mxspool-Queue-ID: ${id}\r\n`);
    const c = redis.client();
    expect(await c.hget(`mxspool:msg:{${id}}:meta`, "state")).toBe("bounced");
    expect(await c.hget(`mxspool:msg:{${id}.2}:meta`, "state")).toBe("bounced");
    await waitFor("nothing left pending for DSNs", async () => (await c.keys(`mxspool:dsn:{${id}}:*`)).length === 0, 10_000);
  });
});

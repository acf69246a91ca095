/**
 * The core promise, end to end with real parts: while the primary is down mxspool accepts
 * 200 varied messages (multi-recipient, 8-bit, SMTPUTF8, a 5 MB attachment, DKIM-signed);
 * when the primary comes back every message arrives exactly once, with its envelope, its
 * bytes identical apart from one added Received header, and its DKIM signature valid.
 */
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { freePort, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { compose, dkimResolver, makeDkimKey, sendAll, signedVerifiably, stripFirstReceived, type TestMessage } from "../helpers/messages.js";

describe("relay: accept while the primary is down, drain when it returns", () => {
  let redis: TestRedis;
  let primary: RecordingPrimary;
  let mx: MxspoolProcess;
  let smtpPort: number;
  const dkimKey = makeDkimKey();
  const messages: TestMessage[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    primary = new RecordingPrimary({ port: await freePort() });
    smtpPort = await freePort();
    mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort, redisUrl: redis.url, primaryPort: primary.port }, {
      domains: { "example.test": { recipients: "*" } },
      delivery: { retry: { first: "1s", max: "5s" }, sweepInterval: "1s" },
      retention: { delivered: "15s" },
    }));
    await mx.start();

    for (let i = 0; i < 150; i++) {
      const to = i % 5 === 0 ? [`a${i}@example.test`, `b${i}@example.test`, `c${i}@Example.TEST`] : [`user${i}@example.test`];
      const text = i % 7 === 0 ? `.leading dot line\n..two dots\n.\nend ${i}\n` : `plain message ${i}\n`;
      messages.push({ testId: `plain-${i}`, from: `sender${i}@sender.test`, to, raw: await compose({ testId: `plain-${i}`, from: `sender${i}@sender.test`, to, text }) });
    }
    for (let i = 0; i < 20; i++) {
      messages.push({ testId: `8bit-${i}`, from: "s@sender.test", to: [`u8-${i}@example.test`], body8bit: true,
        raw: await compose({ testId: `8bit-${i}`, from: "s@sender.test", to: [`u8-${i}@example.test`], raw8bit: true, text: `Grüße aus Köln, ½ € — ${i}\r\nÆØÅ ñ` }) });
    }
    for (let i = 0; i < 10; i++) {
      messages.push({ testId: `utf8-${i}`, from: `sénder${i}@sender.test`, to: [`üser${i}@example.test`], smtputf8: true,
        raw: await compose({ testId: `utf8-${i}`, from: `sénder${i}@sender.test`, to: [`üser${i}@example.test`], raw8bit: true, text: "internationalised" }) });
    }
    messages.push({ testId: "big-0", from: "big@sender.test", to: ["big@example.test"],
      raw: await compose({ testId: "big-0", from: "big@sender.test", to: ["big@example.test"], attachments: [{ filename: "blob.bin", content: crypto.randomBytes(5 * 1024 * 1024) }] }) });
    for (let i = 0; i < 19; i++) {
      const raw = await signedVerifiably(() => compose({ testId: `dkim-${i}`, from: "signer@sender.test", to: [`d${i}@example.test`], text: `signed body ${i}\n  with  spaces \n`, html: `<p>signed ${i}</p>` }), dkimKey);
      messages.push({ testId: `dkim-${i}`, from: "signer@sender.test", to: [`d${i}@example.test`], raw });
    }
  });

  afterAll(async () => {
    await mx?.stop();
    await primary?.stop();
    await redis?.stop();
    mx?.cleanup();
  });

  it("accepts all 200 messages with 250 2.0.0 and a queue id while the primary is down", async () => {
    expect(messages).toHaveLength(200);
    const { accepted, errors } = await sendAll(smtpPort, messages, 10);
    expect([...errors.entries()]).toEqual([]);
    expect(accepted.size).toBe(200);
    for (const r of accepted.values()) expect(r).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-Z]{20}$/);
    expect(primary.received).toHaveLength(0);
  });

  it("delivers every message exactly once when the primary comes back, envelope and bytes intact", async () => {
    await primary.start();
    await waitFor("all 200 messages at the primary", () => primary.received.length >= 200, 120_000);
    await new Promise((r) => setTimeout(r, 2000)); // anything extra (a duplicate) would arrive now
    const counts = primary.countBy("X-Test-Id");
    const duplicates = [...counts.entries()].filter(([, n]) => n > 1);
    expect(duplicates).toEqual([]);
    expect(primary.received).toHaveLength(200);

    const byId = new Map(primary.received.map((r) => [/^X-Test-Id: *(.+?)\r?$/im.exec(r.body)![1], r]));
    let identical = 0;
    for (const m of messages) {
      const got = byId.get(m.testId);
      expect(got, m.testId).toBeDefined();
      expect(got!.from).toBe(m.from);
      // domains are case-insensitive (smtp-server lower-cases them); local parts are kept as sent
      const lowerDomain = (a: string) => a.replace(/@.*$/, (d) => d.toLowerCase());
      expect(got!.rcpts).toEqual(m.to.map(lowerDomain));
      const { header, rest } = stripFirstReceived(got!.raw);
      expect(header).toMatch(/^Received: from client\.test \(unknown \[127\.0\.0\.1\]\)\r\n\tby mx2\.example\.test \(mxspool\) with (ESMTP|UTF8SMTP) id [0-9A-Z]{20}\r\n\t/);
      if (m.smtputf8) expect(got!.smtputf8).toBe(true);
      if (!rest.equals(m.raw)) expect(JSON.stringify(rest.toString("latin1")), `${m.testId}: bytes differ`).toBe(JSON.stringify(m.raw.toString("latin1")));
      identical++;
    }
    expect(identical).toBe(200);
  });

  it("keeps DKIM signatures valid through the spool", async () => {
    const signed = primary.received.filter((r) => /X-Test-Id: dkim-/i.test(r.body));
    expect(signed).toHaveLength(19);
    const resolver = dkimResolver(dkimKey);
    for (const r of signed) {
      const res = await dkimVerify(r.raw, { resolver });
      expect(res.results.map((x: { status: { result: string } }) => x.status.result)).toEqual(["pass"]);
    }
  });

  it("keeps each delivered message for retention.delivered with its record, then purges it leaving nothing behind", async () => {
    const c = redis.client();
    const records = await c.keys("mxspool:msg:*:meta");
    expect(records.length).toBe(200);
    const states = await Promise.all(records.map((k) => c.hget(k, "state")));
    expect(states.every((s) => s === "delivered")).toBe(true);
    const counters = await c.hgetall("mxspool:stats:counters");
    expect(counters).toMatchObject({ accepted: "200", delivered: "200", rcpt_accepted: String(messages.reduce((n, m) => n + m.to.length, 0)) });
    expect(counters.rcpt_delivered).toBe(counters.rcpt_accepted);
    await waitFor("retention purge", async () => (await c.keys("mxspool:msg:*")).length === 0, 60_000);
    expect(await c.keys("mxspool:idx:*")).toEqual([]);
    expect(await c.llen("{mxspool}:delivery-example.test:wait")).toBe(0);
    expect(await c.zcard("{mxspool}:delivery-example.test:delayed")).toBe(0);
  });
});

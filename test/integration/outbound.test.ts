/**
 * Outbound mail end to end (issue 15, items 1, 2, 5): the real CLI runs the outbound worker
 * and the drain against a real Redis; the test DNS server names the outside domain's MX, a
 * recording SMTP peer; the example.test primary starts down. Messages enter through the
 * submitter (src/outbound-wiring.ts's createOutbound, as the webmail and the submission
 * listener use it) on the same Redis. Checked: arrival at the outside MX, DKIM (mailauth),
 * no Bcc, the colleague's copy in the spool at once, a refusal's DSN in the sender's spool,
 * identity (553 5.7.1) and rate (450 4.7.1) refusals, and after the primary returns the
 * colleague's copy and the sender's marked copy at the primary.
 */
import { execFile } from "node:child_process";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import type { TestDnsServer } from "../helpers/dns-server.js";
import { cliPath, type MxspoolProcess } from "../helpers/mxspool-process.js";
import { waitFor } from "../helpers/net.js";
import type { RecordingPrimary } from "../helpers/recording-primary.js";
import { dkimResolver, makeDkimKey } from "../helpers/messages.js";
import { startOutboundStack, type OutboundStack } from "../helpers/outbound-stack.js";
import type { Keyspace } from "../../src/redis/keyspace.js";
import { MessageRecords } from "../../src/store/message-records.js";
import type { OutboundParts } from "../../src/outbound-wiring.js";
import type { OutboundSubmission } from "../../src/outbound/submit.js";

const ALICE = "alice@example.test";
const COLLEAGUE = "colleague@example.test";
const dkimKey = makeDkimKey("example.test", "mx2026");

const message = (o: { from?: string; to: string; cc?: string; bcc?: string; subject: string; id: string }) => Buffer.from([
  `From: Alice <${o.from ?? ALICE}>`, `To: ${o.to}`, ...(o.cc ? [`Cc: ${o.cc}`] : []), ...(o.bcc ? [`Bcc: ${o.bcc}`] : []),
  `Subject: ${o.subject}`, `X-Test-Id: ${o.id}`, "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", "Hello from the outage.", "",
].join("\r\n"));

describe("outbound mail: authenticated users send during an outage", () => {
  let stack: OutboundStack;
  let dns: TestDnsServer;
  let primary: RecordingPrimary;
  let outside: RecordingPrimary;
  let mx: MxspoolProcess;
  let parts: OutboundParts;
  let client: Redis;
  let keys: Keyspace;
  const submit = (s: Partial<OutboundSubmission> & { raw: Buffer; recipients: string[] }) => parts.submitter.submit({ user: ALICE, envelopeFrom: ALICE, via: "webmail", ...s });
  const inSpool = async (rcpt: string) => (await new MessageRecords(client, keys).list({ rcpt }, undefined, 50)).items;

  beforeAll(async () => {
    // the outside MX is up; example.test's primary is down until the last test
    stack = await startOutboundStack({
      name: "outbound",
      outside: { up: true, rcptReply: (r) => (r === "nobody@remote.test" ? { code: 550, text: "5.1.1 No such user" } : undefined) },
      zone: {
        "example.test": { TXT: ["v=spf1 mx ip4:192.0.2.0/24 -all"], MX: [{ priority: 20, exchange: "mx2.example.test" }] }, "mx2.example.test": { A: ["127.0.0.1"] },
        [`${dkimKey.selector}._domainkey.example.test`]: { TXT: [dkimKey.publicKeyTxt] },
      },
      dataFiles: { "dkim.pem": dkimKey.privateKey },
      config: { domains: { "example.test": { dkim: { selector: dkimKey.selector, privateKey: "dkim.pem" } } } },
      outbound: { limits: { messagesPerHour: 4 } },
    });
    ({ dns, primary, outside, mx, parts, client, keys } = stack);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 120_000);

  it("delivers to the outside MX found through DNS, DKIM-signed and without Bcc, and spools the colleague's copy at once", async () => {
    const raw = message({ to: "Ext <ext@remote.test>", cc: COLLEAGUE, bcc: "hidden@remote.test", subject: "Quarterly figures", id: "first" });
    const res = await submit({ raw, recipients: ["ext@remote.test", COLLEAGUE, "hidden@remote.test"] });
    expect(res).toMatchObject({ ok: true, local: [COLLEAGUE], remote: ["ext@remote.test", "hidden@remote.test"] });
    // the colleague's copy is in the spool (their webmail) as soon as submit returns
    const spooled = (await inSpool(COLLEAGUE)).find((r) => r.subject === "Quarterly figures");
    expect(spooled?.flags).toEqual(["outbound"]);
    const ownCopy = (await inSpool(ALICE)).find((r) => r.subject === "Quarterly figures");
    expect(ownCopy?.flags).toEqual(["outbound", "sent-copy"]);
    const got = await waitFor("the outside MX to receive it", () => outside.received.find((r) => /X-Test-Id: first/.test(r.body)), 60_000);
    expect(got.rcpts.sort()).toEqual(["ext@remote.test", "hidden@remote.test"]);
    expect(got.from).toBe(ALICE);
    expect(got.body).not.toMatch(/^Bcc:/im);
    expect(got.body).not.toContain("hidden@remote.test");
    const resolver = dkimResolver(dkimKey);
    const verified = await dkimVerify(got.raw, { resolver });
    expect(verified.results.map((x: { status: { result: string } }) => x.status.result)).toEqual(["pass"]);
    expect(got.body).toMatch(/^DKIM-Signature:.*c=relaxed\/relaxed/ims);
    // the Sent view lists it, with each outside recipient's outcome
    await waitFor("the sent record's outcomes", async () => {
      const [item] = await parts.submitter.listSent(ALICE, { limit: 10 });
      return item && Object.values(item.outcomes).every((o) => o.state === "delivered") ? item : null;
    }, 30_000);
    const loaded = await parts.submitter.loadSent(ALICE, res.ok ? res.queueId : "");
    expect(loaded?.summary.recipients).toContain("hidden@remote.test");
    expect(await parts.submitter.loadSent(COLLEAGUE, res.ok ? res.queueId : "")).toBeNull();
  }, 90_000);

  it("puts a failure DSN into the sender's own spool when the outside server refuses a recipient", async () => {
    const res = await submit({ raw: message({ to: "nobody@remote.test", subject: "To nobody", id: "refused" }), recipients: ["nobody@remote.test"] });
    expect(res.ok).toBe(true);
    const dsn = await waitFor("the DSN in alice's spool", async () => (await inSpool(ALICE)).find((r) => r.from === "" && /Undelivered/.test(r.subject)), 60_000);
    expect(dsn.rcpts).toEqual([ALICE]);
    const [item] = await parts.submitter.listSent(ALICE, { limit: 1 });
    expect(item.outcomes["nobody@remote.test"]).toMatchObject({ state: "failed" });
  }, 90_000);

  it("refuses a sender address that is not the user's own with 553 5.7.1, queueing nothing", async () => {
    const before = outside.received.length;
    const forgedHeader = await submit({ raw: message({ from: "boss@example.test", to: "ext@remote.test", subject: "forged", id: "forged" }), recipients: ["ext@remote.test"] });
    expect(forgedHeader).toMatchObject({ ok: false, code: 553, enhanced: "5.7.1" });
    const forgedEnvelope = await submit({ envelopeFrom: "boss@example.test", raw: message({ to: "ext@remote.test", subject: "forged", id: "forged" }), recipients: ["ext@remote.test"] });
    expect(forgedEnvelope).toMatchObject({ ok: false, code: 553, enhanced: "5.7.1" });
    expect(await client.llen("{mxspool}:outbound:wait")).toBe(0);
    expect(outside.received.length).toBe(before);
  });

  it("refuses the message over the hourly limit with 450 4.7.1", async () => {
    // alice sent 2 (the limit is 4 per hour): 2 more pass, the next is refused
    for (const n of [1, 2]) expect((await submit({ raw: message({ to: COLLEAGUE, subject: `note ${n}`, id: `note-${n}` }), recipients: [COLLEAGUE] })).ok).toBe(true);
    const res = await submit({ raw: message({ to: COLLEAGUE, subject: "one too many", id: "too-many" }), recipients: [COLLEAGUE] });
    expect(res).toMatchObject({ ok: false, code: 450, enhanced: "4.7.1" });
    expect(res.ok ? "" : res.message).toMatch(/at most 4 messages per hour/);
  });

  it("delivers the colleague's copy and the sender's marked copy to the primary once it returns", async () => {
    await primary.start();
    const copy = await waitFor("alice's sent copy at the primary", () => primary.received.find((r) => r.rcpts.includes(ALICE) && /X-Test-Id: first/.test(r.body)), 90_000);
    expect(copy.body).toMatch(/^X-Mxspool-Sent-Copy: yes\r?$/m);
    expect(copy.body).toMatch(/^Auto-Submitted: auto-generated/m);
    expect(copy.body).toMatch(/^Bcc: hidden@remote.test/m); // the sender's own copy keeps whom they Bcc'd
    await waitFor("the colleague's copy at the primary", () => primary.received.find((r) => r.rcpts.includes(COLLEAGUE) && /X-Test-Id: first/.test(r.body)), 90_000);
    await waitFor("the DSN at alice's primary", () => primary.received.find((r) => r.rcpts.includes(ALICE) && r.from === "" && /Undelivered/.test(r.body)), 90_000);
  }, 120_000);

  it("mxspool doctor checks the published DKIM key and that SPF lets mxspool send", async () => {
    // not spawnSync: the DNS server lives in this process and must keep answering
    const doctor = () => new Promise<{ status: number; checks: { name: string; status: string; detail: string }[] }>((resolve) => {
      execFile(process.execPath, [cliPath(), "doctor", "--json", "--config", mx.configFile], { encoding: "utf8", timeout: 120_000, env: { ...process.env, MXSPOOL_ADMIN_TOKEN: "" } },
        (err, stdout) => resolve({ status: err ? Number(err.code) : 0, checks: (JSON.parse(stdout) as { checks: { name: string; status: string; detail: string }[] }).checks }));
    });
    const good = await doctor();
    expect(good.checks.find((c) => c.name === "dkim:example.test")).toMatchObject({ status: "ok" });
    expect(good.checks.find((c) => c.name === "spf:example.test")).toMatchObject({ status: "ok" });
    dns.zone["example.test"].TXT = ["v=spf1 ip4:192.0.2.0/24 -all"];
    dns.zone[`${dkimKey.selector}._domainkey.example.test`].TXT = [makeDkimKey("example.test", "mx2026").publicKeyTxt];
    const bad = await doctor();
    expect(bad.checks.find((c) => c.name === "dkim:example.test")).toMatchObject({ status: "fail" });
    expect(bad.checks.find((c) => c.name === "spf:example.test")).toMatchObject({ status: "fail", detail: expect.stringContaining("127.0.0.1") });
    expect(bad.status).toBe(1);
  }, 120_000);
});

/**
 * Outbound mail through `outbound.relay` (AUTH, no MX look-up), with the outbound worker run in
 * this process against a real Redis and a real smtp-server relay that requires AUTH: while the
 * relay is down the message is retried on the delivery table and, past outbound.maxLifetime,
 * a failure DSN lands in the sender's own spool; once the relay is up, the next message is
 * delivered after AUTH with the credentials configured, and the Sent view shows it delivered.
 */
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { parseConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/observability/log.js";
import { Keyspace } from "../../src/redis/keyspace.js";
import { MessageRecords } from "../../src/store/message-records.js";
import { PrimaryEndpoints } from "../../src/transport/primary-endpoints.js";
import { createOutbound, startOutboundWorker, type OutboundParts } from "../../src/outbound-wiring.js";
import type { Redis } from "ioredis";

const ALICE = "alice@example.test";
const raw = (id: string) => Buffer.from(`From: ${ALICE}\r\nTo: ext@remote.test\r\nSubject: via relay ${id}\r\nX-Test-Id: ${id}\r\n\r\nhello\r\n`);

describe("outbound mail through outbound.relay", () => {
  let redis: TestRedis;
  let client: Redis;
  let relayPort: number;
  let relay: SMTPServer | undefined;
  let parts: OutboundParts;
  let worker: { stop(): Promise<void> };
  const received: { user?: string; rcpts: string[]; body: string }[] = [];
  const keys = new Keyspace("mxspool");

  const startRelay = async () => {
    relay = new SMTPServer({
      authMethods: ["PLAIN", "LOGIN"], allowInsecureAuth: true, disabledCommands: ["STARTTLS"], hideSTARTTLS: true, logger: false, disableReverseLookup: true,
      onAuth: (a, _s, cb) => (a.username === "mxspool" && a.password === "relay-secret" ? cb(null, { user: a.username }) : cb(new Error("Invalid username or password"))),
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => { received.push({ user: session.user as string | undefined, rcpts: session.envelope.rcptTo.map((r) => r.address), body: Buffer.concat(chunks).toString() }); cb(null); });
      },
    });
    await new Promise<void>((resolve) => relay!.listen(relayPort, "127.0.0.1", () => resolve()));
  };

  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
    relayPort = await freePort();
    const config = parseConfig({
      hostname: "mx2.example.test", dataDir: "/nonexistent", redis: { url: redis.url },
      domains: { "example.test": { primary: ["127.0.0.1:9"] } },
      delivery: { retry: { first: "500ms", max: "1s" } },
      outbound: { enabled: true, maxLifetime: "3s", relay: { address: `127.0.0.1:${relayPort}`, username: "mxspool", password: "relay-secret", tls: "none" } },
    });
    const log = createLogger("fatal", {}, "json");
    const conn = { host: "127.0.0.1", port: redis.port };
    parts = createOutbound(config, client, keys, conn, log);
    worker = startOutboundWorker(config, client, keys, conn, new PrimaryEndpoints(config), log);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await parts?.close();
    await new Promise<void>((resolve) => (relay ? relay.close(() => resolve()) : resolve()));
    client?.disconnect();
    await redis?.stop();
  }, 60_000);

  it("retries while the relay is down and, past maxLifetime, puts a failure DSN into the sender's spool", async () => {
    const res = await parts.submitter.submit({ user: ALICE, envelopeFrom: ALICE, recipients: ["ext@remote.test"], raw: raw("down"), via: "submission" });
    expect(res.ok).toBe(true);
    const dsn = await waitFor("the expiry DSN in alice's spool", async () =>
      (await new MessageRecords(client, keys).list({ rcpt: ALICE }, undefined, 20)).items.find((r) => r.from === "" && /Undelivered/.test(r.subject)), 60_000);
    expect(dsn.rcpts).toEqual([ALICE]);
    const [item] = await parts.submitter.listSent(ALICE, { limit: 1 });
    expect(item.outcomes["ext@remote.test"].state).toBe("failed");
    expect(item.outcomes["ext@remote.test"].response).toMatch(/delivery time expired/);
    expect(received).toEqual([]);
  }, 90_000);

  it("delivers through the relay after AUTH with the configured credentials", async () => {
    await startRelay();
    const res = await parts.submitter.submit({ user: ALICE, envelopeFrom: ALICE, recipients: ["ext@remote.test"], raw: raw("up"), via: "submission" });
    expect(res.ok).toBe(true);
    const got = await waitFor("the relay to receive it", () => received.find((r) => /X-Test-Id: up/.test(r.body)), 60_000);
    expect(got).toMatchObject({ user: "mxspool", rcpts: ["ext@remote.test"] });
    await waitFor("the Sent view to say delivered", async () => (await parts.submitter.listSent(ALICE, { limit: 1 }))[0]?.outcomes["ext@remote.test"]?.state === "delivered", 30_000);
  }, 90_000);
});

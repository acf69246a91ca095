/**
 * The connection limits never leak: clients that connect and reset (RST) — above all while
 * their admission waits on the per-minute rate counted in Redis, the window where a close
 * and the admission cross — must leave the per-IP and total counts where they were. A
 * stalled Redis widens that window to a second, so the race is met on any machine load.
 * Real mxspool, real Redis, raw sockets; loopback is not exempt here, so the limits apply.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { RawSmtp } from "../helpers/smtp-client.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";

const PER_IP = 5;
const TOTAL = 20;
/** Client addresses: enough of them for the churn to be able to fill the total as well. */
const CHURN_IPS = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
const PROBE_IPS = CHURN_IPS.slice(0, TOTAL / PER_IP);

let redis: TestRedis;
let primary: RecordingPrimary;
let mx: MxspoolProcess;
let port: number;

beforeAll(async () => {
  redis = await startRedis();
  primary = new RecordingPrimary({ port: await freePort() });
  await primary.start();
  port = await freePort();
  mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort: port, redisUrl: redis.url, primaryPort: primary.port, processes: 1 }, {
    smtp: {
      maxConnectionsPerIp: PER_IP, maxConnections: TOTAL, limitExemptions: [],
      connectionRatePerMinute: 1_000_000, // counted (the Redis round trip is the race window), never reached
      socketTimeout: "5s",
    },
  }));
  await mx.start();
});

afterAll(async () => {
  await mx?.stop();
  await primary?.stop();
  await redis?.stop();
  mx?.cleanup();
});

/** Connects from `localAddress` and resets the connection (RST) `delayMs` after it is established. */
function connectAndReset(localAddress: string, delayMs: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.createConnection({ port, host: "127.0.0.1", localAddress });
    s.on("error", () => undefined);
    s.once("connect", () => (delayMs ? setTimeout(() => s.resetAndDestroy(), delayMs) : s.resetAndDestroy()));
    s.once("close", () => resolve());
  });
}

/**
 * `rounds` bursts of `burst` connect-then-RST clients spread over CHURN_IPS. Each burst
 * starts as Redis stalls for STALL_MS (CLIENT PAUSE on writes, as under a slow disk or a
 * failover), which holds the rate INCR of every session being admitted; the clients reset
 * at moments spread from right after connecting to after the stall: before their session
 * reached the limits, while its admission waits on Redis, and once it was greeted.
 */
const STALL_MS = 1000;
async function churn(rounds: number, burst: number): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    await redis.client().call("CLIENT", "PAUSE", String(STALL_MS), "WRITE");
    await Promise.all(Array.from({ length: burst }, (_, i) => connectAndReset(CHURN_IPS[i % CHURN_IPS.length], Math.floor((i * 1.5 * STALL_MS) / burst))));
  }
}

/**
 * Opens PER_IP sessions from each probe address — TOTAL in all, every slot there is — at
 * once, and returns them once all are greeted 220. A close is handled a moment after the
 * client's, so a probe that meets a 421 closes its sessions and tries again; a slot that
 * leaked never frees, and the wait ends in an error that shows the greetings.
 */
async function holdEverySlot(): Promise<RawSmtp[]> {
  let last: string[] = [];
  return waitFor("every per-IP and total slot free", async () => {
    const clients = await Promise.all(PROBE_IPS.flatMap((ip) => Array.from({ length: PER_IP }, () => RawSmtp.connect(port, "127.0.0.1", ip))));
    last = await Promise.all(clients.map((c) => c.reply(15_000).catch((e: Error) => e.message)));
    if (last.every((g) => g.startsWith("220 "))) return clients;
    clients.forEach((c) => c.close());
    await sleep(500);
    return undefined;
  }, 30_000, 0).catch((err: Error) => { throw new Error(`${err.message}; greetings: ${[...new Set(last)].join(" | ")}`); });
}

describe("connection limits under connect/RST churn", () => {
  it("gives every slot back: after 1,000 connect-then-RST clients, reset before, during and after their admission waits on a stalled Redis, the limits admit TOTAL sessions again, and a normal client's mail is delivered", async () => {
    await churn(5, 200);

    const held = await holdEverySlot();
    // the last of the TOTAL sessions sends a message: accepted, then delivered to the primary
    const c = held[held.length - 1];
    expect(await c.cmd("EHLO client.test")).toMatch(/^250/);
    expect(await c.cmd("MAIL FROM:<s@sender.test>")).toMatch(/^250 2\.1\.0/);
    expect(await c.cmd("RCPT TO:<user@example.test>")).toMatch(/^250 2\.1\.5/);
    expect(await c.cmd("DATA")).toMatch(/^354/);
    c.write("Subject: after the churn\r\nX-Test-Id: churn\r\n\r\nhello\r\n.\r\n");
    expect(await c.reply(30_000)).toMatch(/^250 2\.0\.0/);

    // the limits still hold: with every slot taken, one more is refused
    const over = await RawSmtp.connect(port, "127.0.0.1", CHURN_IPS[CHURN_IPS.length - 1]);
    expect(await over.reply(15_000)).toMatch(/^421 4\.7\.0 /);
    over.close();
    held.forEach((h) => h.close());
    await waitFor("the message delivered", () => primary.received.find((m) => m.body.includes("X-Test-Id: churn")), 30_000);
  });
});

/**
 * "Every component resumes by itself after Redis comes back" (issue 16): one node on one real
 * redis-server, killed with -9 and restarted from its AOF. While Redis is away the API's
 * health answers 503 unavailable (reason redis) and /api/status 503 rather than hanging, SMTP
 * answers 451 4.3.0; once it is back, with nothing restarted on our side: health answers 200
 * with what it said before the outage, status 200, SMTP accepts, delivery delivers, the DSN worker sends a bounce, the monitor
 * raises PRIMARY_DOWN for a primary that stops, the alert worker posts a webhook. Each time
 * after the restart is printed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { compose, sendAll } from "../helpers/messages.js";
import { WebhookReceiver } from "../helpers/webhook-receiver.js";

const TOKEN = "outage-token-0123456789abcdef";
const SECRET = "outage-secret-0123456789";

const message = async (testId: string, to = `${testId}@example.test`) =>
  ({ testId, from: "s@sender.test", to: [to], raw: await compose({ testId, from: "s@sender.test", to: [to] }) });

describe("every component resumes by itself after a Redis restart", () => {
  let redis: TestRedis;
  let primary: RecordingPrimary;
  let senderSide: RecordingPrimary;
  let hooks: WebhookReceiver;
  let mx: MxspoolProcess;
  let smtpPort: number;
  let httpPort: number;
  const api = (path: string, token: string | null = TOKEN, method = "GET") =>
    fetch(`http://127.0.0.1:${httpPort}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(20_000) });

  beforeAll(async () => {
    redis = await startRedis();
    primary = new RecordingPrimary({ port: await freePort(), rcptReply: (r) => (r.startsWith("bad@") ? { code: 550, text: "5.1.1 no such user" } : undefined) });
    await primary.start();
    senderSide = new RecordingPrimary({ port: await freePort() });
    await senderSide.start();
    hooks = new WebhookReceiver(await freePort(), SECRET);
    await hooks.start();
    smtpPort = await freePort();
    httpPort = await freePort();
    mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort, redisUrl: redis.url, primaryPort: primary.port, processes: 1 }, {
      http: { listen: `127.0.0.1:${httpPort}`, adminToken: TOKEN },
      delivery: { retry: { first: "1s", max: "2s" } },
      bounces: { relay: `127.0.0.1:${senderSide.port}` },
      alerts: { webhooks: [{ url: `http://127.0.0.1:${hooks.port}/hook`, secret: SECRET }], retry: { first: "200ms", max: "1s" } },
    }));
    await mx.start();
  });
  afterAll(async () => { await mx?.stop(); mx?.cleanup(); await primary?.stop(); await senderSide?.stop(); await hooks?.stop(); await redis?.stop(); });

  it("answers 503 while Redis is away, then SMTP, delivery, DSN, monitor, alerts and the API work again", async () => {
    await sendAll(smtpPort, [await message("warm-up")]);
    await waitFor("delivered before the outage", () => primary.countBy("X-Test-Id").has("warm-up"), 60_000, 50);
    const before = await api("/api/health", null);
    const beforeBody = await before.json(); // ok, or degraded for the test config's own reasons (no scanner: "unscanned")
    expect(before.status).toBe(200);

    await redis.kill9();
    await sleep(1500);
    const down = await api("/api/health", null);
    const downBody = await down.json();
    const statusDown = await api("/api/status");
    const smtpDown = await sendAll(smtpPort, [await message("during-outage")]);
    console.log(`before: health ${JSON.stringify(beforeBody)}; Redis away: health ${down.status} ${JSON.stringify(downBody)}, status ${statusDown.status}, SMTP ${smtpDown.errors.get("during-outage") ?? smtpDown.accepted.get("during-outage")}`);
    expect([down.status, downBody]).toEqual([503, { status: "unavailable", reason: "redis" }]);
    expect(statusDown.status).toBe(503);
    expect(smtpDown.errors.get("during-outage")).toMatch(/451 4\.3\.0/);

    await redis.restart();
    const back = Date.now();
    const times: Record<string, number> = {};
    const mark = (what: string) => { times[what] ??= Date.now() - back; };

    await waitFor("health ok", async () => (await api("/api/health", null)).status === 200, 60_000, 200);
    mark("health");
    expect(await (await api("/api/health", null)).json()).toEqual(beforeBody);
    await waitFor("status 200", async () => (await api("/api/status")).status === 200, 60_000, 200);
    mark("status");

    let sent = 0;
    await waitFor("SMTP accepting", async () => (await sendAll(smtpPort, [await message(`after-${++sent}`)])).accepted.size > 0, 60_000, 250);
    mark("smtp");
    await waitFor("delivered after the restart", () => primary.countBy("X-Test-Id").has(`after-${sent}`), 60_000, 50);
    mark("delivery");

    await waitFor("a bounce accepted", async () => (await sendAll(smtpPort, [await message("bounce-me", "bad@example.test")])).accepted.size > 0, 30_000, 250);
    await waitFor("the DSN at the sender's side", () => senderSide.received.length > 0 /* only DSNs go there */, 60_000, 100)
      .catch((err) => { throw new Error(`${(err as Error).message}; node log: ${JSON.stringify(mx.logs.filter((l) => /BOUNCED|DSN_|WORKER_/.test(l.event ?? "")).slice(-6))}`); });
    mark("dsn");

    const alert = await api("/api/alerts/test", TOKEN, "POST");
    expect(alert.status).toBeLessThan(300);
    await waitFor("the test alert at the webhook", () => hooks.bodies.some((b) => b.type === "test"), 60_000, 100);
    mark("alerts");

    const downsBefore = mx.events("PRIMARY_DOWN").length;
    await primary.stop();
    try {
      await waitFor("the monitor sees the primary down", () => mx.events("PRIMARY_DOWN").length > downsBefore, 60_000, 100);
      mark("monitor");
    } finally {
      await primary.start();
    }
    console.log(`after Redis restart (ms after it): ${JSON.stringify(times)}`);
  });
});

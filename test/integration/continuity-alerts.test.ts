/**
 * The continuity issue end to end, with every part real and together: a recording primary
 * that stops listening and comes back, TWO full mxspool nodes on one shared redis-server
 * (each with its monitor, outage tracker and alert worker), two signed webhooks on a node:http
 * receiver that checks the HMAC over the raw body, and e-mail alerts through a second
 * recording SMTP server acting as the relay. One node is restarted (SIGTERM, start) in the
 * middle of the outage. Each transition must reach each destination exactly once, reminders
 * must come while the outage lasts, and afterwards `mxspool drill` passes, shows as a `drill`
 * event and in the drill metrics. Prints the measured time to detect and time to alert.
 */
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { cliPath, MxspoolProcess } from "../helpers/mxspool-process.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { compose, sendAll } from "../helpers/messages.js";
import { WebhookReceiver } from "../helpers/webhook-receiver.js";
import type { ContinuityEvent } from "../../src/continuity/continuity-event.js";

const TOKEN = "continuity-alerts-token-0123456789";
const HOOKS = [{ path: "/hook-a", secret: "secret-a-secret-a-secret-a" }, { path: "/hook-b", secret: "secret-b-secret-b-secret-b" }];
const INTERVAL_MS = 1000;

interface Alert { type: string; domain?: string; at: number; text: string; event: ContinuityEvent; arrivedAt: number }

/** Both webhook destinations on one server, each path with its own secret. */
class Receiver extends WebhookReceiver<Omit<Alert, "arrivedAt">> {
  constructor(port: number) { super(port, Object.fromEntries(HOOKS.map((h) => [h.path, h.secret]))); }
  of(path: string, type: string): Alert[] { return this.received.filter((r) => r.path === path && r.body.type === type).map((r) => ({ ...r.body, arrivedAt: r.arrivedAt })); }
  all(path: string): Alert[] { return this.received.filter((r) => r.path === path).map((r) => ({ ...r.body, arrivedAt: r.arrivedAt })); }
}

describe("continuity alerts across two mxspool nodes", () => {
  let redis: TestRedis;
  let primary: RecordingPrimary;
  let relay: RecordingPrimary;
  let rx: Receiver;
  const nodes: MxspoolProcess[] = [];
  const smtpPorts: number[] = [];
  const httpPorts: number[] = [];

  const api = async <T>(path: string, node = 0): Promise<T> => {
    const r = await fetch(`http://127.0.0.1:${httpPorts[node]}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as T;
  };
  const metrics = async () => (await fetch(`http://127.0.0.1:${httpPorts[0]}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  /** E-mail alerts by subject type (the relay's copies, headers unfolded). */
  const mails = (type: string) => relay.received.filter((m) => new RegExp(`^Subject: \\[mxspool\\] ${type.replace(".", "\\.")} `, "m").test(m.body.replace(/\r?\n[ \t]+/g, " ")));
  const run = (args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [cliPath(), ...args, "--config", nodes[0]!.configFile], { encoding: "utf8", timeout: 120_000, env: { ...process.env, MXSPOOL_ADMIN_TOKEN: "" } },
      (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr }));
  });

  beforeAll(async () => {
    redis = await startRedis();
    primary = new RecordingPrimary({ port: await freePort(), closeTimeout: 100 });
    await primary.start();
    relay = new RecordingPrimary({ port: await freePort() });
    await relay.start();
    rx = new Receiver(await freePort());
    await rx.start();
    for (let i = 0; i < 2; i++) {
      smtpPorts.push(await freePort());
      httpPorts.push(await freePort());
      nodes.push(new MxspoolProcess(await testMxspoolConfig({ smtpPort: smtpPorts[i]!, redisUrl: redis.url, primaryPort: primary.port, processes: 1 }, {
        hostname: `mx${i + 2}.example.test`,
        http: { listen: `127.0.0.1:${httpPorts[i]}`, adminToken: TOKEN },
        monitor: { interval: `${INTERVAL_MS}ms`, timeout: "2s", failuresBeforeDown: 2 },
        delivery: { retry: { first: "1s", max: "2s" } },
        alerts: {
          webhooks: HOOKS.map((h) => ({ url: `http://127.0.0.1:${rx.port}${h.path}`, secret: h.secret })),
          email: { to: ["ops@example.net"], from: "mxspool@mx2.example.test", relay: `127.0.0.1:${relay.port}` },
          repeat: "2s", retry: { first: "200ms", max: "1s" },
        },
        drills: { timeout: "60s" },
      })));
    }
    await Promise.all(nodes.map((n) => n.start()));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await primary?.stop();
    await relay?.stop();
    await rx?.stop();
    await redis?.stop();
    for (const n of nodes) n.cleanup();
  });

  it("alerts each outage transition once per destination, through a node restart, with reminders meanwhile", async () => {
    await waitFor("both nodes see the primary up", async () => {
      const s = await api<{ primaries: Record<string, { state: string }> }>("/api/health");
      return s.primaries["example.test"]?.state === "up";
    }, 60_000, 500);
    const downAt = Date.now();
    await primary.stop();

    await waitFor("outage.started on both webhooks", () => HOOKS.every((h) => rx.of(h.path, "outage.started").length >= 1), 60_000);
    const started = rx.of(HOOKS[0]!.path, "outage.started")[0]!;
    const ev = started.event;
    expect(ev).toMatchObject({ kind: "outage", domain: "example.test", state: "open" });
    expect(ev.startedAt).toBeGreaterThanOrEqual(downAt - INTERVAL_MS);
    const toDetect = ev.detectedAt! - ev.startedAt;
    const toAlert = Math.max(...HOOKS.map((h) => rx.of(h.path, "outage.started")[0]!.arrivedAt)) - ev.startedAt;
    console.log(`measured: time to detect ${toDetect} ms, time to alert (webhook arrival − startedAt) ${toAlert} ms (monitor.interval ${INTERVAL_MS} ms, failuresBeforeDown 2, two nodes)`);
    // generous: two intervals plus slack for a loaded machine
    expect(toAlert).toBeLessThan(2 * INTERVAL_MS + 20_000);

    // mail meanwhile, to both nodes
    const msgs = [0, 1, 2].map((i) => ({ testId: `during-${i}`, from: "a@sender.test", to: [`u${i}@example.test`] }));
    for (const [i, m] of msgs.entries()) {
      const { accepted, errors } = await sendAll(smtpPorts[i % 2]!, [{ ...m, raw: await compose(m) }]);
      expect([accepted.size, [...errors.values()]]).toEqual([1, []]);
    }

    // restart one node in the middle of the outage
    expect(await nodes[1]!.stop()).toBe(0);
    await nodes[1]!.start();
    await waitFor("an outage.update reminder on both webhooks", () => HOOKS.every((h) => rx.of(h.path, "outage.update").length >= 1), 60_000);
    expect(rx.of(HOOKS[0]!.path, "outage.update")[0]!.event.id).toBe(ev.id);

    await primary.start();
    await waitFor("outage.drained on both webhooks and by e-mail", () => HOOKS.every((h) => rx.of(h.path, "outage.drained").length >= 1) && mails("outage.drained").length >= 1, 120_000);
    await sleep(4000); // two more reminder periods and retry backoffs: a duplicate would arrive meanwhile

    expect(rx.bad).toBe(0);
    for (const h of HOOKS) {
      const types = rx.all(h.path).filter((a) => a.event.id === ev.id).map((a) => a.type);
      expect(types.filter((t) => t !== "outage.update"), h.path).toEqual(["outage.started", "outage.recovered", "outage.drained"]);
      expect(rx.of(h.path, "outage.recovered")[0]!.event.data).toMatchObject({ spooled: { messages: 3, recipients: 3 } });
      expect(rx.of(h.path, "outage.drained")[0]!.event).toMatchObject({ id: ev.id, state: "closed", data: { facts: { messages: 3, recipients: 3, delivered: 3 } } });
    }
    for (const t of ["outage.started", "outage.recovered", "outage.drained"]) {
      const m = mails(t);
      expect(m, t).toHaveLength(1);
      expect(m[0]!.rcpts).toEqual(["ops@example.net"]);
      expect(m[0]!.body).toMatch(/^Content-Type: text\/plain/im);
      expect(m[0]!.body).toContain(ev.id);
    }
    expect(mails("outage.update").length).toBeGreaterThanOrEqual(1);
    // the alerts went through the relay, never the primary; the spooled mail reached the primary
    expect(primary.received.filter((m) => /\[mxspool\]/.test(m.body))).toEqual([]);
    expect(primary.countBy("X-Test-Id")).toEqual(new Map(msgs.map((m) => [m.testId, 1])));
    const outages = (await api<{ items: ContinuityEvent[] }>("/api/events?kind=outage", 1)).items;
    expect(outages.map((o) => [o.id, o.state])).toEqual([[ev.id, "closed"]]);
  }, 400_000);

  it("then `mxspool drill` passes, is a drill event, and shows in the drill metrics", async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await run(["drill", "example.test"]);
    expect(r.stdout).toMatch(/^PASS$/m);
    expect(r.status).toBe(0);
    const drills = (await api<{ items: ContinuityEvent[] }>("/api/events?kind=drill")).items;
    expect(drills).toHaveLength(1);
    expect(drills[0]).toMatchObject({ kind: "drill", domain: "example.test" });
    const text = await metrics();
    const ts = /^mxspool_drill_last_timestamp_seconds\{domain="example\.test"\} (\d+(?:\.\d+)?)$/m.exec(text);
    expect(ts, text.split("\n").filter((l) => l.includes("drill")).join("\n")).not.toBeNull();
    expect(Number(ts![1])).toBeGreaterThanOrEqual(before);
    expect(text).toMatch(/^mxspool_drill_last_passed\{domain="example\.test"\} 1$/m);
  }, 200_000);
});

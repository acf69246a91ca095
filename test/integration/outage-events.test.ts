/**
 * An outage as an operator sees it afterwards: a real primary stops and comes back, a real
 * mxspool (1 s monitor, three failed probes before down) spools mail meanwhile, and the outage
 * shows up once through GET /api/events — started, detected, recovered, drained — with the
 * mail it held, its report through GET /api/events/{id}, `mxspool events` and
 * `mxspool events show ID` (Markdown), and in the outage metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import nodemailer from "nodemailer";
import { freePort, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { cliPath, MxspoolProcess } from "../helpers/mxspool-process.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";
import { compose } from "../helpers/messages.js";
import type { ContinuityEvent } from "../../src/continuity/continuity-event.js";
import type { Report } from "../../src/continuity/outage-report.js";

const TOKEN = "outage-events-test-token-0123456789";

describe("outage events", () => {
  let redis: TestRedis;
  let mx: MxspoolProcess;
  let primary: RecordingPrimary;
  let smtpPort: number;
  let httpPort: number;

  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as T;
  };
  const metric = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const line = text.split("\n").find((l) => l.startsWith(`${name}{domain="example.test"}`));
    return line === undefined ? undefined : Number(line.split(" ").pop());
  };
  const outages = async () => (await api<{ items: ContinuityEvent[] }>("/api/events?kind=outage")).items;
  const cli = (...args: string[]) => execFileSync(process.execPath, [cliPath(), ...args, "--config", mx.configFile], { encoding: "utf8", timeout: 30_000 });

  beforeAll(async () => {
    redis = await startRedis();
    smtpPort = await freePort();
    httpPort = await freePort();
    primary = new RecordingPrimary({ port: await freePort(), closeTimeout: 100 });
    await primary.start();
    mx = new MxspoolProcess(await testMxspoolConfig({ smtpPort, redisUrl: redis.url, primaryPort: primary.port, processes: 1 }, {
      http: { listen: `127.0.0.1:${httpPort}`, adminToken: TOKEN },
      // a stopped primary refuses at once, so a long probe timeout costs nothing here; it keeps a slow probe on a loaded machine from opening a second outage after the return
      monitor: { interval: "1s", timeout: "6s", failuresBeforeDown: 3 },
      delivery: { retry: { first: "1s", max: "2s" } },
    }));
    await mx.start();
  }, 120_000);
  afterAll(async () => { await mx?.stop(); await primary?.stop(); await redis?.stop(); mx?.cleanup(); });

  it("answers 404 for an unknown event and 400 for a bad kind", async () => {
    const r = await fetch(`http://127.0.0.1:${httpPort}/api/events/ev_nosuchevent`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(404);
    const k = await fetch(`http://127.0.0.1:${httpPort}/api/events?kind=nope`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(k.status).toBe(400);
  });

  it("records one outage with started, detected, recovered and drained, and the mail spooled during it", async () => {
    expect(await outages()).toEqual([]);
    await primary.stop();
    await waitFor("the outage event", async () => (await outages()).length === 1, 60_000);
    const [open] = await outages();
    expect(open).toMatchObject({ kind: "outage", domain: "example.test", state: "open" });
    // three failed probes before down: the decision comes two intervals after the first failure
    expect(open!.detectedAt).toBeGreaterThan(open!.startedAt);
    expect(await metric("mxspool_outage_active")).toBe(1);

    const t = nodemailer.createTransport({ host: "127.0.0.1", port: smtpPort, ignoreTLS: true });
    const sends: [string, string[]][] = [["a@sender.test", ["u1@example.test", "u2@example.test"]], ["a@sender.test", ["u3@example.test"]], ["b@sender.test", ["u1@example.test"]]];
    for (const [i, [from, to]] of sends.entries()) await t.sendMail({ envelope: { from, to }, raw: await compose({ testId: `outage-${i}`, from, to }) });
    t.close();

    await primary.start();
    await waitFor("the outage to close (queue drained)", async () => (await outages())[0]?.state === "closed", 90_000);
    expect(primary.received).toHaveLength(3);
    const [ev] = await outages();
    expect(ev!.id, JSON.stringify(mx.logs.filter((l) => /^(PRIMARY|OUTAGE)_/.test(l.event ?? "")))).toBe(open!.id);
    expect(ev!.recoveredAt).toBeGreaterThan(ev!.detectedAt!);
    expect(ev!.drainedAt).toBeGreaterThanOrEqual(ev!.recoveredAt!);

    const { report } = await api<{ event: ContinuityEvent; report: Report }>(`/api/events/${ev!.id}`);
    expect(report.mail).toMatchObject({ messages: 3, recipients: 4, delivered: 4, bounced: 0, held: 0, waiting: 0 });
    expect(report.mail!.topSenders[0]).toEqual({ name: "a@sender.test", count: 2 });
    expect(report.mail!.topRecipients[0]).toEqual({ name: "u1@example.test", count: 2 });
    expect(report.timeline.map((x) => x.what.split(":")[0])).toEqual(["started", "detected", "recovered", "first delivery after the return", "drained"]);
    expect(report.figures.timeToDetectMs).toBe(ev!.detectedAt! - ev!.startedAt);
    console.log(`measured: time to detect ${report.figures.timeToDetectMs} ms (monitor.interval 1 s × failuresBeforeDown 3), primary away ${report.figures.outageMs} ms, first delivery ${report.figures.timeToFirstDeliveryMs} ms after the return, drained in ${report.figures.drainMs} ms`);
    expect(await metric("mxspool_outage_active")).toBe(0);
    expect(await metric("mxspool_outage_seconds_total")).toBe(report.figures.outageMs! / 1000);
    expect(await metric("mxspool_time_to_detect_seconds")).toBe(report.figures.timeToDetectMs! / 1000);
    expect(mx.events("OUTAGE_STARTED")).toHaveLength(1);
    expect(mx.events("OUTAGE_DRAINED")).toHaveLength(1);

    const listed = cli("events");
    expect(listed).toContain(ev!.id);
    expect(JSON.parse(cli("events", "--json")).items[0].id).toBe(ev!.id);
    const shown = cli("events", "show", ev!.id);
    expect(shown).toContain(`# outage of example.test — ${ev!.id} (closed)`);
    expect(shown).toContain("| messages spooled | 3 |");
    console.log(`sample report:\n${shown}`);
  }, 240_000);
});

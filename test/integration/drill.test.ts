/**
 * `mxspool drill DOMAIN` as the admin runs it, against a real mxspool and a recording
 * primary: the drill pauses the domain, sends a marked message through mxspool's own SMTP
 * listener, sees it spooled, resumes and waits for the primary's 250 — and prints the
 * figures. When the primary refuses the drill's recipient it fails, saying so. The doctor
 * then reports when each domain's failover was last tested.
 */
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliPath, MxspoolProcess } from "../helpers/mxspool-process.js";
import { freePort, waitFor } from "../helpers/net.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { DrillSchedule } from "../../src/doctor/drill-schedule.js";
import type { DrillDeps } from "../../src/doctor/drill.js";
import { Keyspace } from "../../src/redis/keyspace.js";

const TOKEN = "drill-admin-token-0123456789";

describe("mxspool drill", () => {
  let primary: RecordingPrimary;
  let redis: TestRedis;
  let mx: MxspoolProcess;

  // not spawnSync: the primary lives in this process and must keep answering
  const run = (args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [cliPath(), ...args, "--config", mx.configFile], { encoding: "utf8", timeout: 200_000, env: { ...process.env, MXSPOOL_ADMIN_TOKEN: "" } },
      (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr }));
  });

  beforeAll(async () => {
    primary = new RecordingPrimary({ port: await freePort(), rcptReply: (r) => (r === "nobody@bad.test" ? { code: 550, text: "5.1.1 no such user" } : undefined) });
    await primary.start();
    redis = await startRedis();
    const p = [`127.0.0.1:${primary.port}`];
    mx = new MxspoolProcess({
      hostname: "mx2.example.test",
      smtp: { listen: [`127.0.0.1:${await freePort()}`], processes: 1, reverseLookup: false },
      http: { listen: `127.0.0.1:${await freePort()}`, adminToken: TOKEN },
      redis: { url: redis.url },
      domains: { "good.test": { primary: p, probeRecipient: "probe@good.test" }, "bad.test": { primary: p, probeRecipient: "nobody@bad.test" } },
      monitor: { interval: "1s", timeout: "2s" },
      delivery: { retry: { first: "1s", max: "2s" } },
      drills: { timeout: "60s" },
    });
    await mx.start();
  });

  afterAll(async () => {
    await mx?.stop();
    await primary?.stop();
    await redis?.stop();
    mx?.cleanup();
  });

  it("passes against a primary that accepts, prints the figures and delivers the marked message", async () => {
    await waitFor("the primary seen up", async () => (await run(["status", "--json"])).stdout.includes('"state": "up"'), 60_000, 500);
    const r = await run(["drill", "good.test"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^accept latency: +\d+ ms$/m);
    expect(r.stdout).toMatch(/^time to spool: +\d+ ms$/m);
    expect(r.stdout).toMatch(/^first delivery after resume: +\d+ ms$/m);
    expect(r.stdout).toMatch(/^PASS$/m);
    expect(r.status).toBe(0);
    const got = primary.received.filter((m) => /^X-Mxspool-Drill: drill_/m.test(m.body));
    expect(got).toHaveLength(1);
    expect(got[0].rcpts).toEqual(["probe@good.test"]);
    expect(got[0].from).toBe("");
    expect(await mx.waitForEvents("DRILL_PASSED")).toHaveLength(1);
  });

  it("fails with the primary's reason when the primary refuses the drill message", async () => {
    const r = await run(["drill", "bad.test", "--json"]);
    expect(r.status).toBe(1);
    const d = JSON.parse(r.stdout);
    expect(d).toMatchObject({ domain: "bad.test", recipient: "nobody@bad.test", passed: false });
    expect(d.reason).toMatch(/the primary did not accept the drill message: 550/);
    expect(d.figures.acceptMs).toBeGreaterThanOrEqual(0);
  });

  it("the doctor shows when each domain's failover was last tested", async () => {
    const r = await run(["doctor", "--json"]);
    const checks = new Map((JSON.parse(r.stdout).checks as { name: string; status: string; detail: string }[]).map((c) => [c.name, c]));
    expect(checks.get("drill:good.test")).toMatchObject({ status: "ok", detail: expect.stringMatching(/^last passed drill 20\d\d-/) });
    expect(checks.get("drill:bad.test")).toMatchObject({ status: "warn", detail: "never drilled" });
  });

  it("drills.every: of two nodes, one claims each period, and the next period is claimed again", async () => {
    const keys = new Keyspace("mxspool-sched-test");
    const every = 7 * 86_400_000;
    const node = () => new DrillSchedule({ config: { drills: { every } }, redis: redis.client(), keys } as unknown as DrillDeps, () => []);
    const [a, b] = [node(), node()];
    const now = Date.now();
    const won = await Promise.all([a.tick(every, now), b.tick(every, now)]);
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await b.tick(every, now + 1000)).toBe(false);
    expect(await b.tick(every, now + every)).toBe(true);
  });
});

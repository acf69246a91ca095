/**
 * `mxspool doctor` as the admin runs it, against a real mxspool whose world is wrong in
 * known ways: a test DNS server with a correct MX set-up, one where mxspool is preferred over
 * the primary and one without MX records; a recording primary that refuses one domain's probe
 * recipient; a real redis-server without AOF. Each fault is flagged by its check name with
 * `fail` and a fix hint, and the command exits 1; a set-up without faults exits 0.
 */
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDnsServer, type TestDnsServer } from "../helpers/dns-server.js";
import { cliPath, MxspoolProcess } from "../helpers/mxspool-process.js";
import { freePort } from "../helpers/net.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";

const TOKEN = "doctor-admin-token-0123456789";
const ME = "mx2.example.test";

interface Check { name: string; status: string; detail: string; hint?: string }

describe("mxspool doctor", () => {
  let dns: TestDnsServer;
  let primary: RecordingPrimary;
  let noAof: TestRedis;
  let aof: TestRedis;
  let broken: MxspoolProcess;
  let healthy: MxspoolProcess;

  // not spawnSync: the DNS server and the primary live in this process and must keep answering
  const run = (mx: MxspoolProcess, args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [cliPath(), ...args, "--config", mx.configFile], { encoding: "utf8", timeout: 120_000, env: { ...process.env, MXSPOOL_ADMIN_TOKEN: "" } },
      (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr }));
  });
  const config = async (redisUrl: string, domains: Record<string, unknown>) => ({
    hostname: ME,
    smtp: { listen: [`127.0.0.1:${await freePort()}`], processes: 1, reverseLookup: false },
    http: { listen: `127.0.0.1:${await freePort()}`, adminToken: TOKEN },
    redis: { url: redisUrl },
    dns: { servers: [dns.address] },
    domains,
    monitor: { interval: "1s", timeout: "2s" },
  });

  beforeAll(async () => {
    dns = await startDnsServer({
      "good.test": { MX: [{ priority: 10, exchange: "mx1.good.test" }, { priority: 20, exchange: ME }] },
      "refuse.test": { MX: [{ priority: 10, exchange: "mx1.good.test" }, { priority: 20, exchange: ME }] },
      "wrong.test": { MX: [{ priority: 10, exchange: ME }, { priority: 20, exchange: "mx1.good.test" }] },
      "mx1.good.test": { A: ["127.0.0.1"] },
      [ME]: { A: ["127.0.0.1"] },
    });
    primary = new RecordingPrimary({ port: await freePort(), rcptReply: (r) => (r === "probe@refuse.test" ? { code: 550, text: "5.1.1 no such user" } : undefined) });
    await primary.start();
    [noAof, aof] = await Promise.all([startRedis({ persistence: false }), startRedis()]);
    const p = [`127.0.0.1:${primary.port}`];
    broken = new MxspoolProcess(await config(noAof.url, {
      "good.test": { primary: p, probeRecipient: "probe@good.test" },
      "wrong.test": { primary: p, probeRecipient: "probe@wrong.test" },
      "nomx.test": { primary: p, probeRecipient: "probe@nomx.test" },
      "refuse.test": { primary: p, probeRecipient: "probe@refuse.test" },
    }));
    healthy = new MxspoolProcess(await config(aof.url, { "good.test": { primary: p, probeRecipient: "probe@good.test" } }));
    await Promise.all([broken.start(), healthy.start()]);
  });

  afterAll(async () => {
    await Promise.all([broken?.stop(), healthy?.stop()]);
    await primary?.stop();
    await Promise.all([noAof?.stop(), aof?.stop()]);
    await dns?.stop();
    broken?.cleanup();
    healthy?.cleanup();
  });

  it("flags a wrong MX, a missing MX, a primary refusing the probe recipient and a Redis without AOF, and exits 1", async () => {
    const r = await run(broken, ["doctor", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(1);
    const checks = new Map((JSON.parse(r.stdout).checks as Check[]).map((c) => [c.name, c]));
    expect(checks.get("mx:good.test")?.status).toBe("ok");
    expect(checks.get("mx:wrong.test")).toMatchObject({ status: "fail", detail: expect.stringMatching(/preference 10, the primary 20/) });
    expect(checks.get("mx:nomx.test")).toMatchObject({ status: "fail", detail: "no MX records" });
    expect(checks.get("primary:good.test")?.status).toBe("ok");
    expect(checks.get("primary:refuse.test")).toMatchObject({ status: "fail", detail: expect.stringMatching(/refuses probe@refuse\.test: 550/) });
    expect(checks.get("redis:persistence")).toMatchObject({ status: "fail", detail: expect.stringMatching(/AOF is off/), hint: expect.stringMatching(/appendonly yes/) });
    expect(checks.get("clock")?.status).toBe("ok");
    expect(checks.get("drill:good.test")).toMatchObject({ status: "warn", detail: "never drilled" });
    expect(checks.get("alerts")).toMatchObject({ status: "warn", detail: "alerts not configured" });
  });

  it("prints one line per check with its status and a fix hint", async () => {
    const r = await run(broken, ["doctor"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^fail +mx:wrong\.test +mx2\.example\.test has preference 10/m);
    expect(r.stdout).toMatch(/^fail +redis:persistence +AOF is off.*\n +fix: set appendonly yes/m);
    expect(r.stdout).toMatch(/^ok +primary:good\.test +127\.0\.0\.1:\d+ accepts probe@good\.test/m);
  });

  it("exits 0 when nothing fails, and --send-test-alert without an alert destination says alerts are not configured", async () => {
    const r = await run(healthy, ["doctor", "--send-test-alert"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).not.toMatch(/^fail/m);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ok +redis:persistence +AOF on$/m);
    expect(r.stdout).toMatch(/^ok +tls:certificate +.*expires/m);
    expect(r.stdout).toMatch(/^warn +alerts +alerts not configured$/m);
  });
});

/**
 * mxspool's start and stop when something around it is wrong: a stale redis.pid naming a
 * process that is not our redis-server, a Redis that is gone when SIGTERM comes, an address
 * already in use at start. Whatever happens, mxspool signals only its own children, leaves
 * none behind, stops within its grace, and writes only JSON lines.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/net.js";
import { startRedis } from "../helpers/redis-server.js";
import { MxspoolProcess, redisServersIn } from "../helpers/mxspool-process.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => { for (const c of cleanups.reverse()) await c(); });

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** Every line mxspool wrote, stdout then stderr, that is not a JSON object. */
function nonJsonLines(mx: MxspoolProcess): string[] {
  const out = mx.logs.filter((l) => l.level === 0).map((l) => l.msg);
  for (const line of mx.stderr.join("").split("\n")) {
    if (!line.trim()) continue;
    try { if (typeof JSON.parse(line) !== "object") out.push(line); } catch { out.push(line); }
  }
  return out;
}

const embeddedConfig = (smtpPort: number, httpPort: number) => ({
  hostname: "mx2.example.test",
  smtp: { listen: [`127.0.0.1:${smtpPort}`], processes: 1, reverseLookup: false },
  http: { listen: `127.0.0.1:${httpPort}` },
  domains: { "example.test": { primary: ["127.0.0.1:9"] } },
  monitor: { interval: "1s", timeout: "2s" },
});

describe("shutdown with Redis gone", () => {
  it("exits within its grace, logs only JSON lines, and says each repeated error a few times, not hundreds", async () => {
    const redis = await startRedis();
    const mx = new MxspoolProcess({
      hostname: "mx2.example.test",
      smtp: { listen: [`127.0.0.1:${await freePort()}`], processes: 2, reverseLookup: false, shutdownGrace: "2s" },
      http: { listen: `127.0.0.1:${await freePort()}` },
      redis: { url: redis.url },
      domains: { "example.test": { primary: ["127.0.0.1:9"] }, "other.test": { primary: ["127.0.0.1:9"] } },
      monitor: { interval: "1s", timeout: "2s" },
    });
    cleanups.push(async () => { await mx.kill9(); await redis.stop(); mx.cleanup(); });
    await mx.start();
    await redis.kill9();
    await new Promise((r) => setTimeout(r, 3000)); // Redis gone for a while before the admin stops mxspool
    // shutdownGrace (2 s) + the few seconds mxspool allows itself, with a wide margin for a loaded machine
    const code = await mx.stop("SIGTERM", 25_000);
    expect(code).toBe(1); // 1: stopped without Redis answering (SHUTDOWN_FORCED)
    expect(mx.events("SHUTDOWN_FORCED").length).toBeGreaterThan(0);
    expect(nonJsonLines(mx)).toEqual([]);
    // one error of one process: the same line but for its time and repeat count (first line, a summary, the last count)
    const perError = new Map<string, number>();
    for (const l of mx.logs.filter((l) => l.level >= 50)) {
      const { time: _t, repeated: _r, msg: _m, ...same } = l;
      const k = JSON.stringify(same);
      perError.set(k, (perError.get(k) ?? 0) + 1);
    }
    expect([...perError.entries()].filter(([, n]) => n > 3)).toEqual([]);
    await redis.restart();
  });
});

describe("a stale redis.pid", () => {
  it("leaves alone a process that is not our redis-server, and starts on its own", async () => {
    const stranger: ChildProcess = spawn("sleep", ["300"], { stdio: "ignore" });
    cleanups.push(() => { stranger.kill("SIGKILL"); });
    const mx = new MxspoolProcess(embeddedConfig(await freePort(), await freePort()));
    cleanups.push(async () => { await mx.stop(); mx.cleanup(); });
    const redisDir = path.join(mx.dir, "data/redis");
    fs.mkdirSync(redisDir, { recursive: true });
    fs.writeFileSync(path.join(redisDir, "redis.pid"), `${stranger.pid}\n`); // as after a host crash and PID reuse
    await mx.start();
    expect(stranger.signalCode).toBeNull();
    expect(alive(stranger.pid!)).toBe(true);
    expect(mx.events("EMBEDDED_REDIS_STALE_PID")).toHaveLength(1);
    expect(mx.events("EMBEDDED_REDIS_STALE")).toHaveLength(0);
    expect(Number(fs.readFileSync(path.join(redisDir, "redis.pid"), "utf8"))).not.toBe(stranger.pid); // now our redis-server's
    expect(await mx.stop()).toBe(0);
    expect(stranger.signalCode).toBeNull();
    expect(alive(stranger.pid!)).toBe(true);
  });

  it("stops a redis-server left running in its data dir (an older mxspool, no setpriv), then starts its own", async () => {
    const mx = new MxspoolProcess(embeddedConfig(await freePort(), await freePort()));
    cleanups.push(async () => { await mx.stop(); for (const p of redisServersIn(mx.dir)) process.kill(p, "SIGKILL"); mx.cleanup(); });
    // a SIGKILLed mxspool takes its redis-server along (--pdeathsig): start one in its place as mxspool did before
    const redisDir = path.join(mx.dir, "data/redis");
    fs.mkdirSync(redisDir, { recursive: true });
    const left = spawn("redis-server", ["--port", "0", "--unixsocket", path.join(redisDir, "redis.sock"), "--dir", redisDir,
      "--pidfile", path.join(redisDir, "redis.pid"), "--appendonly", "yes", "--daemonize", "no"], { stdio: "ignore", detached: true, cwd: redisDir });
    cleanups.push(() => { left.kill("SIGKILL"); });
    await waitFor("the left-over redis.pid", () => fs.existsSync(path.join(redisDir, "redis.pid")), 10_000);
    await mx.start();
    expect(mx.events("EMBEDDED_REDIS_STALE")).toEqual([expect.objectContaining({ redisPid: left.pid })]);
    await waitFor("the left-over redis-server to have exited", () => left.exitCode !== null || left.signalCode !== null, 10_000);
    expect(redisServersIn(mx.dir)).toHaveLength(1);
  });
});

describe("a start that fails", () => {
  for (const key of ["http.listen", "smtp.listen"]) {
    it(`exits 3 naming the address of ${key} that is in use, and leaves no redis-server behind, twice`, async () => {
      const taken = net.createServer();
      await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
      cleanups.push(() => { taken.close(); });
      const port = (taken.address() as net.AddressInfo).port;
      const smtpPort = key === "smtp.listen" ? port : await freePort();
      const httpPort = key === "http.listen" ? port : await freePort();
      const mx = new MxspoolProcess(embeddedConfig(smtpPort, httpPort));
      cleanups.push(async () => { await mx.kill9(); for (const p of redisServersIn(mx.dir)) process.kill(p, "SIGKILL"); mx.cleanup(); });
      const says = `127.0.0.1:${port} is already in use (${key})`;
      for (let attempt = 0; attempt < 2; attempt++) {
        await expect(mx.start()).rejects.toThrow(/exited/);
        expect(mx.exitCode).toBe(3);
        await waitFor("the reason on stderr", () => mx.stderr.join("").includes(says), 10_000);
        expect(mx.events("START_FAILED").at(-1)).toMatchObject({ address: `127.0.0.1:${port}`, key });
        expect(redisServersIn(mx.dir)).toEqual([]);
      }
    });
  }
});

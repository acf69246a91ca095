/**
 * docker/redis-start.sh, the HA compose file's Redis start script, run for real: sh, redis-cli
 * and redis-server, against real sentinels on loopback (test/helpers/redis-sentinel.ts).
 * - A killed master restarted through it after a failover comes back as a replica of the new
 *   master and in sync with it — not as the master it was, with the data of before its death
 *   (the state in which a second failover can promote it and drop acknowledged mail).
 * - A master restarted through it before the sentinels noticed stays the master, even when its
 *   arguments say replica (the compose file's replicas carry `--replicaof redis-master`).
 *   Redis must not be left dialling its arguments' old master: `--replicaof no one` after
 *   `--replicaof H P` left Redis 7.0 "Connecting to MASTER (null):P" once a second.
 * - With no sentinel answering and no data (the set's first start) it starts as its arguments
 *   say; with data (a reboot, the sentinels still starting) it asks again until one answers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { freePort, portOpen, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { startSentinels, type TestSentinels } from "../helpers/redis-sentinel.js";
import { withParentDeathSignal } from "../../src/redis/parent-death.js";

const script = path.resolve(import.meta.dirname, "../../docker/redis-start.sh");

const replication = async (port: number): Promise<Record<string, string>> => {
  const c = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 3 });
  try {
    return Object.fromEntries((await c.info("replication")).split("\r\n").filter((l) => l.includes(":")).map((l) => l.split(":", 2) as [string, string]));
  } finally { c.disconnect(); }
};

describe("docker/redis-start.sh with real sentinels", () => {
  let set: TestSentinels;
  const via = (node: TestRedis, sentinels: string[]) => ({ command: ["sh", script, "127.0.0.1", String(node.port)], env: { MXSPOOL_SENTINELS: sentinels.join(" "), MXSPOOL_REDIS_NAME: set.name } });

  beforeAll(async () => { set = await startSentinels(); });
  afterAll(async () => { await set?.stop(); });

  it("restarts a killed master as a replica of the master promoted meanwhile, in sync with it", async () => {
    const old = await set.master();
    const c = new Redis({ port: old.port, host: "127.0.0.1", maxRetriesPerRequest: 3 });
    await c.set("before-kill", "1");
    c.disconnect();
    await old.kill9();
    const next = await set.failedOver(old);
    const m = next.client();
    await m.set("after-failover", "acknowledged");
    await old.restart([], via(old, set.sentinels));
    const info = await replication(old.port);
    expect([info.role, info.master_port]).toEqual(["slave", String(next.port)]);
    await waitFor("the restarted node in sync", async () => new RegExp(`port=${old.port},state=online`).test(await m.info("replication")), 30_000, 100);
    const r = old.client();
    await waitFor("the write made after the failover on the restarted node", async () => (await r.get("after-failover")) === "acknowledged", 10_000, 50);
    expect(await r.get("before-kill")).toBe("1");
  });

  it("keeps a master restarted before the sentinels noticed a master, though its arguments name another", async () => {
    const master = await set.master();
    const others = set.nodes.filter((n) => n !== master);
    const log = path.join(master.dir, "redis.log");
    await master.kill9(); // and back within down-after (2 s): the sentinels still name it
    const logFrom = fs.statSync(log).size;
    await master.restart(["--replicaof", "127.0.0.1", String(others[0]!.port)], via(master, set.sentinels));
    const info = await replication(master.port);
    expect(info.role).toBe("master");
    expect((await set.master()).port).toBe(master.port);
    await sleep(1500); // Redis' replication cron runs once a second
    expect(fs.readFileSync(log, "utf8").slice(logFrom)).not.toMatch(/Connecting to MASTER/);
  });

  it("follows the sentinel with the newest configuration, though the others are more (they have not heard of the failover yet)", async () => {
    const oldMaster = await startRedis({ persistence: false });
    const newMaster = await startRedis({ persistence: false });
    const node = await startRedis({ persistence: false });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-epochs-"));
    const sentinels: ReturnType<typeof spawn>[] = [];
    const ports: number[] = [];
    try {
      // two real sentinels at config epoch 0 name the old master, one at epoch 1 the new one
      for (const [master, epoch] of [[oldMaster, 0], [oldMaster, 0], [newMaster, 1]] as const) {
        const port = await freePort();
        const conf = path.join(dir, `sentinel-${port}.conf`);
        fs.writeFileSync(conf, [`port ${port}`, "bind 127.0.0.1", `dir ${dir}`, `sentinel monitor epochs 127.0.0.1 ${master.port} 1`, `sentinel config-epoch epochs ${epoch}`, ""].join("\n"));
        sentinels.push(spawn(...withParentDeathSignal("redis-server", [conf, "--sentinel"], "SIGKILL"), { stdio: "ignore" }));
        ports.push(port);
      }
      for (const p of ports) await waitFor("a sentinel", () => portOpen(p), 20_000);
      await node.kill9();
      await node.restart([], { command: ["sh", script, "127.0.0.1", String(node.port)], env: { MXSPOOL_SENTINELS: ports.map((p) => `127.0.0.1:${p}`).join(" "), MXSPOOL_REDIS_NAME: "epochs" } });
      const info = await replication(node.port);
      expect([info.role, info.master_port]).toEqual(["slave", String(newMaster.port)]);
    } finally {
      for (const s of sentinels) s.kill("SIGKILL");
      for (const n of [node, oldMaster, newMaster]) await n.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("starts as its arguments say when no sentinel answers and it holds no data (the set's first start)", async () => {
    const upstream = await startRedis({ persistence: false });
    const node = await startRedis({ persistence: false });
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-empty-"));
    try {
      await node.kill9();
      await node.restart(["--replicaof", "127.0.0.1", String(upstream.port)], { command: ["sh", script, "127.0.0.1", String(node.port)], env: { MXSPOOL_SENTINELS: `127.0.0.1:${await freePort()}`, MXSPOOL_REDIS_DATA: empty } });
      const info = await replication(node.port);
      expect([info.role, info.master_port]).toEqual(["slave", String(upstream.port)]);
    } finally {
      await node.stop();
      await upstream.stop();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it("holding data, asks again until a sentinel answers (after a reboot the sentinels may start later)", async () => {
    const master = await startRedis({ persistence: false });
    const node = await startRedis(); // AOF: its dir holds data
    const sentinelPort = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-late-sentinel-"));
    let sentinel: ReturnType<typeof spawn> | undefined;
    try {
      await node.kill9();
      // its arguments say master; no sentinel listens yet
      const started = node.restart([], { command: ["sh", script, "127.0.0.1", String(node.port)], env: { MXSPOOL_SENTINELS: `127.0.0.1:${sentinelPort}`, MXSPOOL_REDIS_DATA: node.dir, MXSPOOL_REDIS_NAME: "late", MXSPOOL_SENTINEL_WAIT: "30" } });
      await sleep(1500);
      const conf = path.join(dir, "sentinel.conf");
      fs.writeFileSync(conf, [`port ${sentinelPort}`, "bind 127.0.0.1", `dir ${dir}`, `sentinel monitor late 127.0.0.1 ${master.port} 1`, ""].join("\n"));
      sentinel = spawn(...withParentDeathSignal("redis-server", [conf, "--sentinel"], "SIGKILL"), { stdio: "ignore" });
      await waitFor("the late sentinel", () => portOpen(sentinelPort), 20_000);
      await started;
      const info = await replication(node.port);
      expect([info.role, info.master_port]).toEqual(["slave", String(master.port)]);
    } finally {
      sentinel?.kill("SIGKILL");
      await node.stop();
      await master.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

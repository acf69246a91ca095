/**
 * A real Redis Cluster for a test: `masters` redis-servers with cluster-enabled on free loopback
 * ports (their cluster bus on free ports too: `cluster-port`), in one temp dir, joined by
 * `redis-cli --cluster create ... --cluster-yes` (slots split evenly), AOF appendfsync always.
 * `replicas` per master (0 by default: most tests here are about slots, not replication).
 * Stopped by PID.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { freePort, portOpen, waitFor } from "./net.js";
import { withParentDeathSignal } from "../../src/redis/parent-death.js";

export interface TestCluster {
  /** "127.0.0.1:PORT" of each master, for redis.cluster. */
  nodes: string[];
  ports: number[];
  /** A plain client on one node (DBSIZE, CLUSTER KEYSLOT, ...). */
  node(port: number): Redis;
  /** The redis-server PID on a port (SIGSTOP a replica to make it stop acknowledging). */
  pid(port: number): number;
  /** The ports of the replicas of the master that owns `slot` (CLUSTER SLOTS). */
  replicasOfSlot(slot: number): Promise<number[]>;
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3, replicas = 0): Promise<TestCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-cluster-"));
  const procs: ChildProcess[] = [];
  const clients: Redis[] = [];
  const ports: number[] = [];
  const stop = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(procs.map((p) => new Promise<void>((r) => {
      if (p.exitCode !== null || p.signalCode) return r();
      p.once("exit", () => r());
      p.kill("SIGTERM");
    })));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    // every port chosen before any server starts, all different: a port freePort() handed out
    // and released can come back from the next call before its server has bound it
    const taken = new Set<number>();
    const unique = async () => { for (;;) { const p = await freePort(); if (!taken.has(p)) { taken.add(p); return p; } } };
    const pairs: [number, number][] = [];
    for (let i = 0; i < masters * (1 + replicas); i++) pairs.push([await unique(), await unique()]);
    for (const [port, bus] of pairs) {
      const nodeDir = path.join(dir, String(port));
      fs.mkdirSync(nodeDir);
      procs.push(spawn(...withParentDeathSignal("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", nodeDir, "--daemonize", "no", "--save", "",
        "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", String(bus), "--cluster-node-timeout", "2000",
        "--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction", "--logfile", path.join(nodeDir, "redis.log")], "SIGKILL"), { stdio: "ignore" }));
      ports.push(port);
    }
    for (const [i, port] of ports.entries()) await waitFor(`redis-server on ${port}`, () => {
      if (procs[i]!.exitCode !== null) throw new Error(`redis-server on ${port} exited ${procs[i]!.exitCode} (see its redis.log)`);
      return portOpen(port);
    }, 20_000);
    await promisify(execFile)("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", String(replicas), "--cluster-yes"], { timeout: 60_000 });
    const node = (port: number) => { const c = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 5 }); clients.push(c); return c; };
    for (const port of ports) {
      const c = node(port);
      await waitFor(`cluster_state:ok on ${port}`, async () => /cluster_state:ok/.test(await c.cluster("INFO") as string), 60_000, 200);
      await waitFor(`replication settled on ${port}`, async () => { const i = await c.info("replication"); return /role:master/.test(i) || /master_link_status:up/.test(i); }, 60_000, 200);
    }
    const first = node(ports[0]!);
    return {
      nodes: ports.map((p) => `127.0.0.1:${p}`), ports, node, stop,
      pid: (port) => procs[ports.indexOf(port)]!.pid!,
      async replicasOfSlot(slot) {
        const ranges = await first.cluster("SLOTS");
        const range = ranges.find(([from, to]) => slot >= from && slot <= to)!;
        // [from, to, master, ...replicas], each node [host, port, id, ...]
        return range.slice(3).map((n) => Number((n as unknown as [string, number])[1]));
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A replicated Redis for a test, on loopback: one master and `replicas` replicas (real
 * redis-server, AOF with appendfsync always) watched by `sentinels` real sentinels
 * (`redis-server sentinel.conf --sentinel`, quorum 2, down-after 2 s, failover-timeout 5 s).
 * Any node can be killed with SIGKILL and rejoin as a replica; a sentinel can be frozen
 * (SIGSTOP); `master()` asks the last sentinel who the master is now.
 *
 * Why down-after 2 s and not 1: a sentinel pings each instance once a second, and after a
 * +switch-master its link to the new master may wait up to that second to reconnect. At 1 s a
 * freshly promoted master was sometimes judged down ~1,004 ms after the switch and failed over
 * again (seen in 1 of 3 runs of sentinel.test.ts), to the killed master restarted moments
 * before — which had never synced: acknowledged mail was gone (README, "Failure cases").
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { freePort, portOpen, waitFor } from "./net.js";
import { startRedis, type TestRedis } from "./redis-server.js";
import { withParentDeathSignal } from "../../src/redis/parent-death.js";

export interface TestSentinels {
  name: string;
  /** "127.0.0.1:port" of each sentinel, as redis.sentinels takes them. */
  sentinels: string[];
  nodes: TestRedis[];
  /** Stops (SIGSTOP) or resumes (SIGCONT) sentinel `i`: a frozen host, connections open but silent. */
  freezeSentinel(i: number, frozen: boolean): void;
  /** The node the sentinels name as master now. */
  master(): Promise<TestRedis>;
  /** Waits until the sentinels name a master other than `old` and it accepts writes; resolves with it. */
  failedOver(old: TestRedis, timeoutMs?: number): Promise<TestRedis>;
  /**
   * Restarts a killed node as a replica of the master the sentinels name now, and waits until
   * that master counts it in sync — as a start script that asks the sentinels first does. A
   * killed master restarted as it was comes back a master with stale data until a sentinel
   * demotes it (~8 s later); a second failover in that window can promote it.
   */
  rejoin(node: TestRedis, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startSentinels(opts: { replicas?: number; sentinels?: number; name?: string } = {}): Promise<TestSentinels> {
  const name = opts.name ?? "mxspool";
  const master = await startRedis();
  const nodes = [master];
  for (let i = 0; i < (opts.replicas ?? 2); i++) nodes.push(await startRedis({ args: ["--replicaof", "127.0.0.1", String(master.port), "--replica-announce-ip", "127.0.0.1"] }));
  const probe = master.client();
  await waitFor("replicas in sync", async () => (await probe.info("replication")).match(/state=online/g)?.length === nodes.length - 1, 30_000);
  probe.disconnect();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-sentinel-"));
  const procs: ChildProcess[] = [];
  const ports: number[] = [];
  for (let i = 0; i < (opts.sentinels ?? 3); i++) {
    const port = await freePort();
    const conf = path.join(dir, `sentinel-${port}.conf`); // sentinel rewrites its own conf: one writable file each
    fs.writeFileSync(conf, [
      `port ${port}`, "bind 127.0.0.1", "daemonize no", `dir ${dir}`, `logfile ${path.join(dir, `sentinel-${port}.log`)}`,
      "sentinel announce-ip 127.0.0.1",
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
      `sentinel down-after-milliseconds ${name} 2000`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 2`, "",
    ].join("\n"));
    procs.push(spawn(...withParentDeathSignal("redis-server", [conf, "--sentinel"], "SIGKILL"), { stdio: "ignore" }));
    ports.push(port);
    await waitFor(`sentinel on ${port}`, () => portOpen(port), 20_000);
  }
  const ask = new Redis({ port: ports[ports.length - 1], host: "127.0.0.1", maxRetriesPerRequest: 3 });
  // every sentinel must know the others and the replicas before a failover can get its quorum
  await waitFor("sentinels see each other and the replicas", async () => {
    const m = (await ask.call("SENTINEL", "MASTER", name)) as string[];
    const field = (k: string) => Number(m[m.indexOf(k) + 1]);
    return field("num-other-sentinels") === ports.length - 1 && field("num-slaves") === nodes.length - 1;
  }, 30_000, 200);

  const masterNow = async (): Promise<TestRedis> => {
    const [, port] = (await ask.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)) as string[];
    const node = nodes.find((n) => n.port === Number(port));
    if (!node) throw new Error(`sentinel names an unknown master :${port}`);
    return node;
  };
  return {
    name, nodes,
    sentinels: ports.map((p) => `127.0.0.1:${p}`),
    master: masterNow,
    freezeSentinel(i, frozen) { process.kill(procs[i].pid!, frozen ? "SIGSTOP" : "SIGCONT"); },
    async failedOver(old, timeoutMs = 60_000) {
      let next: TestRedis | undefined;
      await waitFor("a replica promoted by the sentinels", async () => {
        const m = await masterNow();
        if (m === old) return false;
        const c = new Redis({ port: m.port, host: "127.0.0.1", maxRetriesPerRequest: 1, lazyConnect: true });
        try { await c.connect(); return /role:master/.test(await c.info("replication")) ? (next = m, true) : false; } finally { c.disconnect(); }
      }, timeoutMs, 100);
      return next!;
    },
    async rejoin(node, timeoutMs = 30_000) {
      const master = await masterNow();
      await node.restart(["--replicaof", "127.0.0.1", String(master.port)]);
      const m = new Redis({ port: master.port, host: "127.0.0.1", maxRetriesPerRequest: 3 });
      try {
        await waitFor(`:${node.port} in sync with the master :${master.port}`,
          async () => new RegExp(`port=${node.port},state=online`).test(await m.info("replication")), timeoutMs, 100);
      } finally { m.disconnect(); }
    },
    async stop() {
      ask.disconnect();
      for (const p of procs) { p.kill("SIGCONT"); p.kill("SIGKILL"); }
      for (const n of nodes) await n.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What `redis.minReplicasAcked: 1` costs at acceptance (issue 16), measured in one run beside
 * the single-instance figure (`node dist/test/bench/replica-ack.js`; part of `npm run bench`).
 * Three rows, each a fresh mxspool (the built CLI, 2 SMTP processes) with the primary down, fed
 * by Postfix's smtp-source (20 sessions, BENCH_ACK_MESSAGES (2000) messages of 10 KB):
 *   - one redis-server (minReplicasAcked 0): today's single instance;
 *   - a master with one replica, minReplicasAcked 0: what replication alone costs;
 *   - the same with minReplicasAcked 1: every 250 waits for the replica's WAIT.
 * Nothing is asserted; the table goes to stdout.
 */
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { freePort, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { runSmtpSource } from "./postfix-tools.js";
import { env, f0, f1 } from "./figures.js";

interface AckRow { name: string; sent: number; seconds: number; perSecond: number }

async function row(name: string, replica: boolean, acked: number, messages: number): Promise<AckRow> {
  const servers: TestRedis[] = [await startRedis()];
  let mx: MxspoolProcess | undefined;
  try {
    if (replica) {
      servers.push(await startRedis({ args: ["--replicaof", "127.0.0.1", String(servers[0].port)] }));
      const r = servers[1].client();
      await waitFor("replica in sync", async () => /master_link_status:up/.test(await r.info("replication")), 30_000);
      r.disconnect();
    }
    const smtpPort = await freePort();
    mx = new MxspoolProcess({
      hostname: "mx2.bench.test",
      smtp: { listen: [`127.0.0.1:${smtpPort}`], processes: 2, reverseLookup: false },
      http: { listen: `127.0.0.1:${await freePort()}` },
      redis: { url: servers[0].url, minReplicasAcked: acked },
      domains: { "bench.test": { primary: [`127.0.0.1:${await freePort()}`] } }, // nothing listens: the primary is down
    });
    await mx.start();
    const src = await runSmtpSource({ port: smtpPort, sessions: 20, messages, length: 10_240 });
    return { name, sent: src.sent, seconds: src.wallMs / 1000, perSecond: src.sent / (src.wallMs / 1000) };
  } finally {
    await mx?.stop().catch(() => undefined);
    mx?.cleanup();
    for (const s of servers.reverse()) await s.stop();
  }
}

export async function benchReplicaAck(messages = Number(env("BENCH_ACK_MESSAGES", "2000"))): Promise<AckRow[]> {
  if (!fs.existsSync("/usr/sbin/smtp-source")) throw new Error("smtp-source (Postfix) is needed: apt-get install postfix");
  return [
    await row("single redis-server", false, 0, messages),
    await row("master + 1 replica, minReplicasAcked 0", true, 0, messages),
    await row("master + 1 replica, minReplicasAcked 1", true, 1, messages),
  ];
}

export function formatReplicaAck(rows: AckRow[]): string {
  let s = "### Accept throughput: minReplicasAcked 1 against a single instance (smtp-source, 20 sessions, 10 KB, primary down)\n\n";
  s += "| Redis | sent | seconds | messages/s |\n|---|---:|---:|---:|\n";
  for (const r of rows) s += `| ${r.name} | ${r.sent} | ${f1(r.seconds)} | ${f0(r.perSecond)} |\n`;
  return s;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchReplicaAck().then((r) => { process.stdout.write(formatReplicaAck(r)); }, (err) => { process.stderr.write(`replica-ack: ${(err as Error).message}\n`); process.exit(1); });
}

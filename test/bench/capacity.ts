/**
 * How many queued messages fit in Redis (`npm run bench`; run alone: `node dist/test/bench/capacity.js`).
 * For each load, mxspool (the built CLI, its embedded redis-server) takes messages with the primary
 * down, then the bench reads Redis: `used_memory` before and after (bytes per queued message,
 * messages per GiB) and `MEMORY USAGE` of every key a message owns, grouped by kind (the
 * bytes, the record, the ledger, the BullMQ job, the indexes and queue structures shared by
 * all), beside the raw bytes of the messages (the records' sizes). Loads:
 *   - the realistic corpus (test/helpers/mail-corpus.ts, its statistics printed first), sent
 *     over SMTP by nodemailer, BENCH_CAPACITY_MESSAGES (2000) of it;
 *   - smtp-source's 10 KB messages (one repeated letter), BENCH_CAPACITY_SOURCE (5000).
 * BENCH_MXSPOOL_ROOT measures another built checkout (e.g. the revision before, for "today").
 * Nothing is asserted; `test-artifacts/bench-capacity.md` gets the table.
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import nodemailer from "nodemailer";
import { Redis } from "ioredis";
import { corpus, corpusStats, formatCorpusStats } from "../helpers/mail-corpus.js";
import { waitFor } from "../helpers/net.js";
import { runSmtpSource } from "./postfix-tools.js";
import { MxspoolUnderTest, repoRoot } from "./systems.js";
import { env, f0, f2 } from "./figures.js";

const GIB = 1024 ** 3;

export interface CapacityResult {
  load: string;
  messages: number;
  rawBytes: number;
  usedMemoryDelta: number;
  bytesPerMessage: number;
  rawBytesPerMessage: number;
  perGiB: number;
  /** MEMORY USAGE per message, by kind of key. */
  parts: Record<string, number>;
  problems: string[];
}

const log = (s: string) => process.stderr.write(`[capacity ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

async function usedMemory(r: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await r.info("memory"))![1]);
}

/** Which part of a message a key is, or null for keys that are not per message. */
function partOf(key: string): string {
  if (/:msg:\{[^}]+\}:raw$/.test(key)) return "bytes (raw key)";
  if (/:msg:\{[^}]+\}:meta$/.test(key)) return "record (meta hash)";
  if (/:msg:\{[^}]+\}:ledger$/.test(key)) return "ledger (list)";
  if (/:idx:/.test(key)) return "indexes (sorted sets)";
  if (/^\{[^}]+\}:delivery-[^:]+:[^:]+$/.test(key) && !/:(wait|paused|active|delayed|prioritized|completed|failed|events|meta|id|marker|stalled-check|limiter)$/.test(key)) return "BullMQ job (hash)";
  if (/^\{[^}]+\}:/.test(key)) return "BullMQ queue (lists, events stream)";
  return "other";
}

async function breakdown(r: Redis, messages: number): Promise<{ parts: Record<string, number>; rawBytes: number }> {
  const parts: Record<string, number> = {};
  let rawBytes = 0;
  let cursor = "0";
  do {
    const [next, keys] = await r.scan(cursor, "COUNT", 1000);
    cursor = next;
    const p = r.pipeline();
    for (const k of keys) p.memory("USAGE", k, "SAMPLES", "0");
    const res = await p.exec();
    keys.forEach((k, i) => { const part = partOf(k); parts[part] = (parts[part] ?? 0) + Number(res![i][1] ?? 0); });
    const metas = keys.filter((k) => k.endsWith(":meta") && k.includes(":msg:"));
    if (metas.length) {
      const q = r.pipeline();
      for (const k of metas) q.hget(k, "size");
      for (const [, v] of (await q.exec())!) rawBytes += Number(v ?? 0);
    }
  } while (cursor !== "0");
  for (const k of Object.keys(parts)) parts[k] = Math.round(parts[k] / messages);
  return { parts, rawBytes };
}

/** Sends the corpus over SMTP, `concurrency` messages in flight, generating them as it goes. */
async function sendCorpus(port: number, count: number, concurrency: number): Promise<{ sent: number; errors: string[] }> {
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true, pool: true, maxConnections: concurrency, maxMessages: 100, name: "client.bench.test", socketTimeout: 300_000 });
  const it = corpus({ count });
  let sent = 0;
  const errors: string[] = [];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let n = it.next(); !n.done; n = it.next()) {
      try { await transport.sendMail({ envelope: { from: "from@x.test", to: ["user@bench.test"] }, raw: n.value.raw }); sent++; } catch (e) { if (errors.length < 5) errors.push((e as Error).message); }
    }
  }));
  transport.close();
  return { sent, errors };
}

export async function measureCapacity(load: "corpus" | "smtp-source", count: number, root = repoRoot()): Promise<CapacityResult> {
  const mx = new MxspoolUnderTest({ redis: "embedded", processes: 2, concurrency: 20, logLevel: "info", cli: path.join(root, "dist/src/cli/main.js") });
  const problems: string[] = [];
  try {
    await mx.start(); // nothing listens on its sink port: the primary is down
    const r = new Redis({ ...mx.redisConnection!, maxRetriesPerRequest: null });
    try {
      const before = await usedMemory(r);
      let sent: number;
      if (load === "corpus") {
        const res = await sendCorpus(mx.smtpPort, count, 8);
        sent = res.sent;
        problems.push(...res.errors);
      } else {
        const src = await runSmtpSource({ port: mx.smtpPort, sessions: 20, messages: count, length: 10_240 });
        sent = src.sent;
      }
      if (sent < count) problems.push(`${load}: ${sent} of ${count} accepted`);
      await waitFor("every accepted message queued", async () => (await mx.queued()) >= sent, 300_000, 500);
      const after = await usedMemory(r);
      const { parts, rawBytes } = await breakdown(r, sent);
      const delta = after - before;
      problems.push(...mx.problems());
      return { load, messages: sent, rawBytes, usedMemoryDelta: delta, bytesPerMessage: Math.round(delta / sent), rawBytesPerMessage: Math.round(rawBytes / sent),
        perGiB: Math.floor(GIB / (delta / sent)), parts, problems };
    } finally {
      r.disconnect();
    }
  } finally {
    // a slow shutdown on a loaded machine must not lose the figures
    await mx.stop().catch((e: Error) => { problems.push(`stop: ${e.message}`); mx.emergencyStop(); });
  }
}

export function formatCapacity(results: CapacityResult[]): string {
  const rows = ["| load | messages | raw bytes/msg | Redis bytes/msg (used_memory) | Redis/raw | queued messages per GiB |", "|---|---:|---:|---:|---:|---:|"];
  for (const c of results) rows.push(`| ${c.load} | ${c.messages} | ${f0(c.rawBytesPerMessage)} | ${f0(c.bytesPerMessage)} | ${f2(c.bytesPerMessage / c.rawBytesPerMessage)} | ${f0(c.perGiB)} |`);
  rows.push("", "Where the bytes go (MEMORY USAGE per message, by kind of key):", "");
  const kinds = [...new Set(results.flatMap((c) => Object.keys(c.parts)))].sort();
  rows.push(`| key kind | ${results.map((c) => c.load).join(" | ")} |`, `|---|${results.map(() => "---:").join("|")}|`);
  for (const k of kinds) rows.push(`| ${k} | ${results.map((c) => f0(c.parts[k] ?? 0)).join(" | ")} |`);
  return rows.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const root = path.resolve(env("BENCH_MXSPOOL_ROOT", repoRoot()));
  const nCorpus = Number(env("BENCH_CAPACITY_MESSAGES", "2000"));
  const nSource = Number(env("BENCH_CAPACITY_SOURCE", "5000"));
  const stats = corpusStats((function* () { for (const m of corpus({ count: nCorpus })) yield { kind: m.kind, size: m.raw.length }; })());
  log(`the realistic mix (seeded):\n${formatCorpusStats(stats)}`);
  const results: CapacityResult[] = [];
  if (nCorpus > 0) results.push(await measureCapacity("corpus", nCorpus, root));
  if (nSource > 0) results.push(await measureCapacity("smtp-source", nSource, root));
  const table = `Realistic mix: ${formatCorpusStats(stats)}\n\n${formatCapacity(results)}\n`;
  process.stdout.write(table);
  for (const c of results) for (const p of c.problems) log(`problem (${c.load}): ${p}`);
  fs.mkdirSync(path.join(repoRoot(), "test-artifacts"), { recursive: true });
  fs.writeFileSync(path.join(repoRoot(), "test-artifacts", "bench-capacity.md"), table);
}

/**
 * Listing speed of the admin API on a big queue: mxspool (embedded Redis, the built CLI) with
 * its primary down takes BENCH_API_MESSAGES (10,000) messages from smtp-source, then the
 * benchmark pages through all of them via GET /api/messages at several page sizes, and times
 * a few filtered listings (an indexed rcpt filter, a scanning from filter, and a filter that
 * matches nothing — the worst case: one request scans the whole index). Nothing here asserts
 * a timing: `benchApiListing()` returns the figures and `formatApiListing()` a markdown table;
 * run directly (`node dist/test/bench/api-listing.js`) it prints them.
 */
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { freePort, waitFor } from "../helpers/net.js";
import { runSmtpSource } from "./postfix-tools.js";
import { percentile } from "./latency-client.js";

export interface ListingRun { name: string; limit: number; requests: number; items: number; totalMs: number; p50Ms: number; p95Ms: number; maxMs: number; firstMs: number; lastMs: number }

export interface ApiListingResult { messages: number; queued: number; acceptSeconds: number; runs: ListingRun[]; problems: string[] }

const TOKEN = "bench-admin-token-0123456789";

export async function benchApiListing(opts: { messages?: number; keep?: boolean; log?: (s: string) => void } = {}): Promise<ApiListingResult> {
  const messages = opts.messages ?? Number(process.env.BENCH_API_MESSAGES ?? 10_000);
  const log = opts.log ?? ((s: string) => process.stderr.write(`[api-listing] ${s}\n`));
  const problems: string[] = [];
  if (!fs.existsSync("/usr/sbin/smtp-source")) throw new Error("smtp-source (Postfix) is needed: apt-get install postfix");
  const smtpPort = await freePort();
  const httpPort = await freePort();
  const mx = new MxspoolProcess({
    hostname: "mx2.bench.test",
    smtp: { listen: [`127.0.0.1:${smtpPort}`], processes: 2, reverseLookup: false },
    http: { listen: `127.0.0.1:${httpPort}`, adminToken: TOKEN },
    domains: { "bench.test": { primary: [`127.0.0.1:${await freePort()}`] } }, // nothing listens: the primary is down
    monitor: { timeout: "1s" },
  });
  const base = `http://127.0.0.1:${httpPort}`;
  const get = async (path: string) => {
    const started = performance.now();
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = await res.json() as { items?: unknown[]; next?: string | null; queue?: { queued: number }; error?: { message: string } };
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${body.error?.message ?? ""}`);
    return { ms: performance.now() - started, body };
  };
  try {
    await mx.start();
    log(`sending ${messages} messages with the primary down`);
    const src = await runSmtpSource({ port: smtpPort, sessions: 20, messages, length: 2048 });
    if (src.sent < messages) problems.push(`smtp-source sent ${src.sent} of ${messages}: ${src.stderr.slice(0, 300)}`);
    const queued = await waitFor("every message recorded", async () => {
      const q = (await get("/api/status")).body.queue!.queued;
      return q >= src.sent ? q : undefined;
    }, 120_000, 500);
    log(`${queued} queued in ${(src.wallMs / 1000).toFixed(1)} s; paging`);

    const page = async (name: string, query: string, limit: number, maxRequests = Infinity): Promise<ListingRun> => {
      const times: number[] = [];
      let items = 0;
      let cursor: string | null | undefined = null;
      const started = performance.now();
      do {
        const r = await get(`/api/messages?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ""}`);
        times.push(r.ms);
        items += r.body.items!.length;
        cursor = r.body.next;
      } while (cursor && times.length < maxRequests);
      const totalMs = performance.now() - started;
      const sorted = [...times].sort((a, b) => a - b);
      const round = (x: number) => Math.round(x * 10) / 10;
      return { name, limit, requests: times.length, items, totalMs: Math.round(totalMs), p50Ms: round(percentile(sorted, 50)), p95Ms: round(percentile(sorted, 95)),
        maxMs: round(sorted[sorted.length - 1]), firstMs: round(times[0]), lastMs: round(times[times.length - 1]) };
    };
    const runs: ListingRun[] = [];
    await page("warm-up", "", 50, 3);
    for (const limit of [50, 100, 500]) runs.push(await page(`all, newest first`, "", limit));
    runs.push(await page("state=queued", "&state=queued", 100));
    runs.push(await page("rcpt= (indexed)", `&rcpt=${encodeURIComponent("user@bench.test")}`, 100));
    runs.push(await page("from= (scan)", `&from=${encodeURIComponent("from@x.test")}`, 100));
    runs.push(await page("q= matching nothing (scans all)", "&q=no-such-subject", 50, 5));
    for (const r of runs) if (r.name.startsWith("all") && r.items !== queued) problems.push(`${r.name} limit ${r.limit}: listed ${r.items} of ${queued}`);
    return { messages, queued, acceptSeconds: Math.round(src.wallMs / 100) / 10, runs, problems };
  } finally {
    await mx.stop().catch(() => undefined);
    if (!opts.keep) mx.cleanup();
  }
}

export function formatApiListing(r: ApiListingResult): string {
  let s = `### Admin API listing: ${r.queued} queued messages (primary down)\n\n`;
  s += "| listing | limit | requests | items | total ms | p50 ms | p95 ms | max ms | first ms | last ms |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const x of r.runs) s += `| ${x.name} | ${x.limit} | ${x.requests} | ${x.items} | ${x.totalMs} | ${x.p50Ms} | ${x.p95Ms} | ${x.maxMs} | ${x.firstMs} | ${x.lastMs} |\n`;
  if (r.problems.length) s += `\nProblems:\n${r.problems.map((p) => `- ${p}`).join("\n")}\n`;
  return s;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchApiListing().then((r) => { process.stdout.write(formatApiListing(r)); }, (err) => { process.stderr.write(`api-listing: ${(err as Error).message}\n`); process.exit(1); });
}

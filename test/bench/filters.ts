/**
 * `npm run bench`, filters part: how close mxspool's accept path gets to what its scanners
 * allow. A real clamd (test signature database) and a real spamd (Debian's rules, local tests
 * only, BENCH_SPAMD_CHILDREN children) are started once; then, for each session count C and
 * each run, on the same 10 KB messages (latency-client.ts's body10k, the bench's message):
 *   1. clamd alone: C connections scanning with INSTREAM (mxspool's own ClamdEngine, no SMTP,
 *      no Redis) — scans/s;
 *   2. spamd alone: C `spamc -R` processes at a time (Debian's C client, so the ceiling does not
 *      depend on our client), and C connections through mxspool's SpamdEngine — checks/s;
 *   3. mxspool filters off: C SMTP sessions, primary down — msg/s;
 *   4. mxspool filters on (both scanners): C SMTP sessions; after a 451 (saturation, 4.3.2)
 *      the client quits and offers the message again BENCH_FILTER_RETRY_MS (1000) later —
 *      Postfix's sender would wait 300 s, a 100 ms retry measures the cost of refused sessions
 *      more than the filters — msg/s of messages answered 250.
 * Ratios: filters-on / filters-off, and filters-on / the slower scanner's ceiling at the same
 * concurrency (target ≥ 0.8). Nothing is asserted. Writes test-artifacts/bench-filters.md
 * and .json. Overrides: BENCH_FILTER_MESSAGES (300: spamd does ~5–9 checks/s here),
 * BENCH_FILTER_RUNS (3), BENCH_FILTER_SESSIONS (4,20), BENCH_SPAMD_CHILDREN (4),
 * BENCH_FILTER_RETRY_MS (1000), BENCH_SPAM_SLOTS (filters.spamassassin.maxConcurrent per process;
 * default: mxspool's default).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ClamdEngine } from "../../src/filters/clamd-client.js";
import { SpamdEngine } from "../../src/filters/spamd-client.js";
import { startClamd, type TestClamd } from "../helpers/clamd.js";
import { startSpamd, type TestSpamd } from "../helpers/spamd.js";
import { body10k, measureLatency, percentile } from "./latency-client.js";
import { MxspoolUnderTest, repoRoot } from "./systems.js";
import { machineCpuSeconds, treeCpuSeconds } from "./procs.js";
import { env, f0, f1, median } from "./figures.js";

const MESSAGES = Number(env("BENCH_FILTER_MESSAGES", "300"));
const RUNS = Number(env("BENCH_FILTER_RUNS", "3"));
const SESSIONS = env("BENCH_FILTER_SESSIONS", "4,20").split(",").map((s) => Number(s.trim())).filter((n) => n > 0);
const SPAMD_CHILDREN = Number(env("BENCH_SPAMD_CHILDREN", "4"));
/** How long the bench client waits after a 451 before reconnecting (real senders wait minutes). */
const RETRY_MS = Number(env("BENCH_FILTER_RETRY_MS", "1000"));
const LENGTH = 10_240;
const PROCESSES = 2;
/** filters.spamassassin.maxConcurrent per SMTP process; unset = mxspool's default (4). */
const SPAM_SLOTS = process.env.BENCH_SPAM_SLOTS ? Number(process.env.BENCH_SPAM_SLOTS) : undefined;
/** The bytes the scanners see: what the client sends, dot-unstuffed (body10k has no leading dots). */
const message = (i: number) => body10k(i, LENGTH);

const log = (s: string) => process.stderr.write(`[bench-filters ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** CPU seconds used during a measurement: by spamd's tree, by mxspool's tree, by the whole machine (all cores). */
interface Cpu { spamd: number; mxspool: number; machineBusy: number; machineTotal: number }
interface Rate { done: number; seconds: number; perSec: number; errors: string[]; p50Ms?: number; p99Ms?: number; tempfails?: number; cpu?: Cpu }

/** Runs f, and records the CPU seconds spent meanwhile by spamd, by mxspool (roots()) and by the machine. */
async function withCpu<T extends { cpu?: Cpu }>(spamdPid: number, roots: () => number[], f: () => Promise<T>): Promise<T> {
  const tree = () => roots().reduce((a, p) => a + treeCpuSeconds(p), 0);
  const s0 = treeCpuSeconds(spamdPid), m0 = tree(), c0 = machineCpuSeconds();
  const r = await f();
  const c1 = machineCpuSeconds();
  r.cpu = { spamd: treeCpuSeconds(spamdPid) - s0, mxspool: tree() - m0, machineBusy: c1.busy - c0.busy, machineTotal: c1.total - c0.total };
  return r;
}
interface Run { run: number; sessions: number; clamd: Rate; spamc: Rate; spamdEngine: Rate; off: Rate; on: Rate }

/** n jobs, c at a time; each job returns an error text or null. */
async function pool(n: number, c: number, job: (i: number) => Promise<string | null>): Promise<Rate> {
  let next = 0;
  let done = 0;
  const errors: string[] = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async () => {
    while (next < n) {
      const i = next++;
      const e = await job(i);
      if (e) errors.push(e); else done++;
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  return { done, seconds, perSec: done / seconds, errors: [...new Set(errors)].slice(0, 5) };
}

function spamc(port: number, msg: Buffer): Promise<string | null> {
  return new Promise((resolve) => {
    // -R: REPORT, exit code 0/1 for ham/spam; -x: exit code 74 rather than "0/0" when spamd fails
    const p = spawn("spamc", ["-d", "127.0.0.1", "-p", String(port), "-R", "-x", "-t", "60"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => { out += d.toString("latin1"); });
    p.stderr.on("data", (d: Buffer) => { out += d.toString("latin1"); });
    p.on("error", (e) => resolve(`spamc: ${e.message}`));
    p.on("close", (code) => resolve(code === 0 || code === 1 ? (/^-?[\d.]+\/[\d.]+/.test(out) ? null : `spamc printed ${out.slice(0, 80)}`) : `spamc exit ${code}: ${out.slice(0, 120)}`));
    p.stdin.end(msg);
  });
}

async function clamdAlone(clamd: TestClamd, c: number, n: number): Promise<Rate> {
  const engine = new ClamdEngine({ address: { kind: "unix", path: clamd.socketPath }, connectTimeout: 2000, timeout: 60_000 });
  return pool(n, c, async (i) => {
    const scan = engine.open();
    scan.write(message(i));
    const r = await scan.end();
    return r.status === "clean" ? null : `clamd: ${JSON.stringify(r)}`;
  });
}

async function spamdEngineAlone(spamd: TestSpamd, c: number, n: number): Promise<Rate> {
  const engine = new SpamdEngine({ address: { kind: "tcp", host: "127.0.0.1", port: spamd.port }, connectTimeout: 2000, timeout: 60_000 });
  return pool(n, c, async (i) => {
    const r = await engine.check(message(i));
    return r.status === "scored" ? null : `spamd: ${JSON.stringify(r)}`;
  });
}

async function mxspoolAccept(spamd: TestSpamd, c: number, n: number, filters: Record<string, unknown> | undefined): Promise<{ rate: Rate; problems: string[] }> {
  const sys = new MxspoolUnderTest({ redis: "embedded", processes: PROCESSES, concurrency: 20, logLevel: "info", extraConfig: filters ? { filters } : {} });
  await sys.start();
  try {
    const l = await withCpu(spamd.pid, () => sys.memRoots(), async () => ({
      ...(await measureLatency({ port: sys.smtpPort, sessions: c, messages: n, length: LENGTH, retryTempfail: true, retryDelayMs: RETRY_MS, message })),
      cpu: undefined as Cpu | undefined,
    }));
    const sorted = [...l.samplesMs].sort((a, b) => a - b);
    const seconds = l.wallMs / 1000;
    return {
      rate: { done: l.sent, seconds, perSec: l.sent / seconds, errors: l.errors.slice(0, 5), p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), tempfails: l.tempfails, cpu: l.cpu },
      problems: sys.problems().filter((p) => !/^FILTERS_(SATURATED|UNSATURATED)|^SCAN_/.test(p)),
    };
  } finally {
    await sys.stop().catch((e) => log(`stop: ${(e as Error).message}`));
  }
}

function report(runs: Run[], startedAt: Date, loadStart: number, problems: string[]): string {
  const L: string[] = [];
  L.push("## Content filters: mxspool against its scanners' own ceilings", "");
  L.push(`- date ${startedAt.toISOString()}; 1-min load average ${loadStart.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end; nproc ${os.availableParallelism()}`);
  L.push(`- ${MESSAGES} messages of 10 KB per measurement, ${RUNS} run(s), medians; clamd ${"(test signature DB, unix socket)"}; spamd ${SPAMD_CHILDREN} children, -L (local tests only), no Bayes, TCP loopback`);
  L.push(`- mxspool: ${PROCESSES} SMTP processes, embedded Redis (AOF always), filters config defaults except the addresses${SPAM_SLOTS ? ` and spamassassin.maxConcurrent ${SPAM_SLOTS}` : ""} (spamassassin: ${SPAM_SLOTS ?? 4} checks in flight per process, ${(SPAM_SLOTS ?? 4) * PROCESSES} in all against spamd's ${SPAMD_CHILDREN} children, which queue the rest); a 451 makes the client quit and reconnect after ${RETRY_MS} ms`);
  L.push("");
  L.push("| sessions | clamd alone (scans/s) | spamd alone, spamc (checks/s) | spamd alone, mxspool's client (checks/s) | mxspool filters off (msg/s) | mxspool filters on (msg/s) | on / off | on / slower scanner's ceiling | target | 451s per message (on) | p50 / p99 end of DATA → 250, on (ms) |");
  L.push("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|");
  for (const c of SESSIONS) {
    const rs = runs.filter((r) => r.sessions === c);
    const m = (f: (r: Run) => number) => median(rs.map(f));
    const clamd = m((r) => r.clamd.perSec), sc = m((r) => r.spamc.perSec), se = m((r) => r.spamdEngine.perSec);
    const off = m((r) => r.off.perSec), on = m((r) => r.on.perSec);
    // spamd's ceiling: the better of the two clients (the harder target)
    const slower = Math.min(clamd, Math.max(sc, se));
    const ratioTxt = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}` : "–");
    L.push(`| ${c} | ${f0(clamd)} | ${f1(sc)} | ${f1(se)} | ${f0(off)} | ${f1(on)} | ${ratioTxt(on, off)} | ${ratioTxt(on, slower)} | ≥ 0.80 | ${f1(m((r) => (r.on.tempfails ?? 0) / Math.max(1, r.on.done)))} | ${f0(m((r) => r.on.p50Ms ?? NaN))} / ${f0(m((r) => r.on.p99Ms ?? NaN))} |`);
  }
  L.push("", "Where the CPU went (medians; 100% = all cores of the machine busy):", "");
  L.push("| sessions | measurement | machine busy | spamd's share of the machine | spamd CPU ms per check | mxspool CPU ms per message |");
  L.push("|---:|---|---:|---:|---:|---:|");
  for (const c of SESSIONS) {
    const rs = runs.filter((r) => r.sessions === c);
    for (const [name, pick] of [["spamd alone (spamc)", (r: Run) => r.spamc], ["spamd alone (mxspool's client)", (r: Run) => r.spamdEngine], ["mxspool filters on", (r: Run) => r.on]] as const) {
      const m = (f: (x: Rate, cpu: Cpu) => number) => median(rs.map((r) => { const x = pick(r); return x.cpu ? f(x, x.cpu) : NaN; }));
      const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : "–");
      L.push(`| ${c} | ${name} | ${pct(m((_, u) => u.machineBusy / u.machineTotal))} | ${pct(m((_, u) => u.spamd / u.machineTotal))} | ${f0(m((x, u) => (u.spamd * 1000) / Math.max(1, x.done)))} | ${name.startsWith("mxspool") ? f1(m((x, u) => (u.mxspool * 1000) / Math.max(1, x.done))) : ""} |`);
    }
  }
  L.push("", "Per run:", "");
  L.push("| run | sessions | clamd | spamc | mxspool's spamd client | off | on | 451s (on) | errors |");
  L.push("|---:|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const r of runs) {
    const errs = [r.clamd, r.spamc, r.spamdEngine, r.off, r.on].flatMap((x) => x.errors);
    L.push(`| ${r.run} | ${r.sessions} | ${f0(r.clamd.perSec)} | ${f1(r.spamc.perSec)} | ${f1(r.spamdEngine.perSec)} | ${f0(r.off.perSec)} | ${f1(r.on.perSec)} (${r.on.done}/${MESSAGES}) | ${r.on.tempfails ?? 0} | ${errs.length ? errs[0].replace(/\|/g, "/").slice(0, 120) : "none"} |`);
  }
  if (problems.length) L.push("", "mxspool logged:", "", ...[...new Set(problems)].slice(0, 20).map((p) => `- ${p.slice(0, 200)}`));
  return L.join("\n") + "\n";
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadStart = os.loadavg()[0];
  log(`messages ${MESSAGES}, runs ${RUNS}, sessions ${SESSIONS.join(",")}, spamd children ${SPAMD_CHILDREN}`);
  const clamd = await startClamd();
  const spamd = await startSpamd({ children: SPAMD_CHILDREN });
  const stopAll = async () => { await clamd.stop().catch(() => undefined); await spamd.stop().catch(() => undefined); };
  process.on("SIGINT", () => { void stopAll().then(() => process.exit(130)); });
  const filters = {
    clamav: { address: clamd.address },
    spamassassin: { address: spamd.address, ...(SPAM_SLOTS ? { maxConcurrent: SPAM_SLOTS } : {}) },
  };
  const runs: Run[] = [];
  const problems: string[] = [];
  try {
    // spamd forks its children lazily and warms its rules: a few checks before measuring
    await spamdEngineAlone(spamd, SPAMD_CHILDREN, SPAMD_CHILDREN * 3);
    for (let run = 1; run <= RUNS; run++) {
      for (const c of SESSIONS) {
        log(`run ${run}, ${c} sessions: clamd alone`);
        const clamdRate = await clamdAlone(clamd, c, Math.max(MESSAGES, 2000));
        log(`  ${f0(clamdRate.perSec)} scans/s; spamd alone (spamc)`);
        const spamcRate = await withCpu(spamd.pid, () => [], () => pool(MESSAGES, c, (i) => spamc(spamd.port, message(i))));
        log(`  ${f1(spamcRate.perSec)} checks/s; spamd alone (mxspool's client)`);
        const engineRate = await withCpu(spamd.pid, () => [], () => spamdEngineAlone(spamd, c, MESSAGES));
        log(`  ${f1(engineRate.perSec)} checks/s; mxspool filters off`);
        const off = await mxspoolAccept(spamd, c, Math.max(MESSAGES, 2000), undefined);
        log(`  ${f0(off.rate.perSec)} msg/s; mxspool filters on`);
        const on = await mxspoolAccept(spamd, c, MESSAGES, filters);
        log(`  ${f1(on.rate.perSec)} msg/s, ${on.rate.tempfails} × 451${on.rate.errors.length ? `, errors: ${on.rate.errors[0]}` : ""}`);
        problems.push(...off.problems, ...on.problems);
        runs.push({ run, sessions: c, clamd: clamdRate, spamc: spamcRate, spamdEngine: engineRate, off: off.rate, on: on.rate });
      }
    }
  } finally {
    await stopAll();
  }
  const md = report(runs, startedAt, loadStart, problems);
  const outDir = path.join(repoRoot(), "test-artifacts");
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "bench-filters.md"), md);
  fs.writeFileSync(path.join(outDir, "bench-filters.json"), JSON.stringify({ startedAt, messages: MESSAGES, runs: RUNS, sessions: SESSIONS, spamdChildren: SPAMD_CHILDREN, processes: PROCESSES, spamSlots: SPAM_SLOTS, results: runs, problems }, null, 2));
  process.stdout.write("\n" + md);
  process.exit(0);
}

main().catch((err) => {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});

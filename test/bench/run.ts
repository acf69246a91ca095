/**
 * `npm run bench`: mxspool against Debian's Postfix configured as a backup MX, on the same
 * load, in the same run, on this machine. For each run and each system (fresh state):
 *   1. accept: the primary is down; smtp-source sends BENCH_MESSAGES 10 KB messages with
 *      20 sessions, then again with 100 (one message per connection); msgs/s by wall time;
 *   2. end-of-DATA → 250 latency: a small raw-socket client, 20 sessions;
 *   3. drain: smtp-sink comes up as the primary (Postfix gets `postqueue -f`, mxspool the admin's
 *      "probe now", POST /api/primaries/{domain}/probe); time from
 *      the sink listening until it has received every queued message;
 *   4. memory: the process trees sampled every 500 ms, and at 5k/10k/20k/… queued messages.
 * Before 1., untimed, each system gets a warm-up right after it starts (BENCH_WARMUP 10 KB
 * messages, BENCH_WARMUP_MIX files of the mix), drained with the rest.
 * Then, per run and system again (fresh state), the realistic mix (test/helpers/mail-corpus.ts,
 * BENCH_MIX_MESSAGES, messages over Postfix's default 10 MB limit left out): the same files sent
 * by the raw-socket client over 20 sessions, then again over 100 (several messages per connection),
 * everything drained to smtp-sink.
 * Prints a markdown table (medians, ratios mxspool/Postfix, then per-run figures) and writes
 * it to test-artifacts/bench.md, the raw figures to test-artifacts/bench.json.
 * Nothing here asserts a timing. Overrides: BENCH_MESSAGES, BENCH_RUNS, BENCH_SESSIONS,
 * BENCH_LATENCY_MESSAGES, BENCH_REDIS (embedded|external), BENCH_SYSTEMS (mxspool,postfix),
 * BENCH_MXSPOOL_LOG (info), BENCH_PROCESSES (smtp.processes; mxspool's default when unset), BENCH_MIX_MESSAGES (1000), BENCH_WARMUP (1000), BENCH_WARMUP_MIX (1000), BENCH_KEEP=1 (keep the temp dirs with logs and queues),
 * BENCH_MXSPOOL_ROOT (another built checkout to benchmark, e.g. a git worktree of an older revision).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MemSampler, treeCpuByGroup } from "./procs.js";
import { runSmtpSource, SmtpSink, type SourceResult } from "./postfix-tools.js";
import { measureLatency, percentile } from "./latency-client.js";
import { corpus, corpusStats, formatCorpusStats } from "../helpers/mail-corpus.js";
import { benchProcesses, MxspoolUnderTest, PostfixUnderTest, repoRoot, type RedisMode, type SystemUnderTest } from "./systems.js";
import { sleep } from "../helpers/net.js";
import { env, f0, f1, f2, median } from "./figures.js";
import { forkedProcessCount } from "../../policies/process-memory.js";

const MESSAGES = Number(env("BENCH_MESSAGES", "20000"));
const RUNS = Number(env("BENCH_RUNS", "3"));
const SESSIONS = env("BENCH_SESSIONS", "20,100").split(",").map((s) => Number(s.trim())).filter((n) => n > 0);
const LAT_MESSAGES = Number(env("BENCH_LATENCY_MESSAGES", String(Math.min(3000, MESSAGES))));
const LAT_SESSIONS = 20;
/** The warm-up's sessions (untimed, right after the start). */
const WARMUP_SESSIONS = 20;
const MIX_MESSAGES = Number(env("BENCH_MIX_MESSAGES", "1000"));
/** Messages each system gets right after it starts, before anything is timed (smtp-source's 10 KB / files of the mix). */
const WARMUP_SOURCE = Number(env("BENCH_WARMUP", "1000"));
const WARMUP_MIX = Number(env("BENCH_WARMUP_MIX", "1000"));
/** The mix is sent at these session counts in turn (the same files each time; the latency is the first pass's). */
const MIX_SESSIONS = [20, 100];
/** Postfix's default message_size_limit is 10,240,000 bytes: larger messages of the mix are left out for both. */
const MIX_MAX_SIZE = 10_000_000;
const REDIS_MODE = env("BENCH_REDIS", "embedded") as RedisMode;
const SYSTEMS = env("BENCH_SYSTEMS", "mxspool,postfix").split(",").map((s) => s.trim().toLowerCase());
const LENGTH = 10_240;
const MXSPOOL_PROCESSES = benchProcesses();
/** What smtp.processes gives on this machine, in words. */
function processesLabel(): string {
  const n = forkedProcessCount(MXSPOOL_PROCESSES, os.availableParallelism());
  return `smtp.processes ${JSON.stringify(MXSPOOL_PROCESSES)}: ${n ? `the supervisor and ${n} forked SMTP/delivery process(es)` : "one node process (the supervisor runs SMTP and delivery)"}`;
}
const MXSPOOL_CONCURRENCY = 20;
const MIB = 1024;
/** info is mxspool's default (READY is logged at info); lines go to a file, like Postfix's maillog. */
const MXSPOOL_LOG = env("BENCH_MXSPOOL_LOG", "info");
/** The checkout whose built dist/ is benchmarked (another worktree, to compare two revisions with the same bench). */
const MXSPOOL_ROOT = path.resolve(env("BENCH_MXSPOOL_ROOT", repoRoot()));
let REV = "?";
const LOAD_START = os.loadavg()[0];

interface Milestone { queued: number; groups: Record<string, { rssKiB: number; pssKiB: number; procs: number }> }
type Load = "source" | "mix";
interface SystemRun {
  run: number;
  system: string;
  load: Load;
  accept: Record<string, { messages: number; sent: number; seconds: number; msgsPerSec: number; errors: string[]; aofRewrites?: number }>;
  latency: { messages: number; ok: number; reconnects?: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number; msgsPerSec: number; errors: string[] };
  drain: { queued: number; received: number; seconds: number; msgsPerSec: number; firstToLastSeconds: number; queueEmptyAfterSeconds: number | null; sinkSessions: number };
  memory: { peak: Record<string, { rssKiB: number; pssKiB: number; procs: number }>; hwmSumKiB: Record<string, number>; milestones: Milestone[] };
  /** CPU seconds per process group spent accepting (all accept tests and the latency test) and draining. */
  cpu: { accept: Record<string, number>; acceptMessages: number; drain: Record<string, number>; drainMessages: number };
  problems: string[];
  logEvents?: Record<string, number>;
  failed?: string;
}

const cleanups = new Set<() => void>();
function onFatalSignal(sig: NodeJS.Signals) {
  process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
  for (const c of cleanups) { try { c(); } catch { /* best effort */ } }
  process.exit(130);
}
process.on("SIGINT", onFatalSignal);
process.on("SIGTERM", onFatalSignal);

const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

async function waitUntil(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try { if (await cond()) return true; } catch { /* retry */ }
    await sleep(everyMs);
  }
  log(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
  return false;
}

/** The mix's messages, dot-stuffed and ending in CRLF, ready to write between DATA and ".". */
let mixMessages: Buffer[] = [];
function prepareMix(): string {
  const msgs = [...corpus({ count: MIX_MESSAGES, maxSize: MIX_MAX_SIZE })];
  mixMessages = msgs.map((m) => {
    let t = m.raw.toString("latin1").replace(/\r\n\./g, "\r\n..");
    if (t.startsWith(".")) t = "." + t;
    if (!t.endsWith("\r\n")) t += "\r\n";
    return Buffer.from(t, "latin1");
  });
  return formatCorpusStats(corpusStats(msgs.map((m) => ({ kind: m.kind, size: m.raw.length }))));
}

/** How many messages smtp-source delivered: its own count, else all of them when it exited 0. */
function sourceSent(r: SourceResult, asked: number): number {
  return r.sent || (r.exitCode === 0 ? asked : 0);
}

/** Runs one accept pass and counts the AOF rewrites `sys`'s Redis did meanwhile (undefined for a system that does not count them). */
async function countingRewrites<T>(sys: SystemUnderTest, pass: () => Promise<T>): Promise<[T, number | undefined]> {
  const before = await sys.aofRewrites?.();
  const out = await pass();
  return [out, before === undefined ? undefined : (await sys.aofRewrites!()) - before];
}

const rewritesText = (n: number | undefined): string => (n === undefined ? "" : `, AOF rewrites ${n}`);

async function benchSystem(sys: SystemUnderTest, runNo: number, load: Load = "source"): Promise<SystemRun> {
  const result: SystemRun = {
    run: runNo, system: sys.name, load, accept: {},
    latency: { messages: 0, ok: 0, p50Ms: NaN, p90Ms: NaN, p99Ms: NaN, maxMs: NaN, msgsPerSec: NaN, errors: [] },
    drain: { queued: 0, received: 0, seconds: NaN, msgsPerSec: NaN, firstToLastSeconds: NaN, queueEmptyAfterSeconds: null, sinkSessions: 0 },
    memory: { peak: {}, hwmSumKiB: {}, milestones: [] },
    cpu: { accept: {}, acceptMessages: 0, drain: {}, drainMessages: 0 },
    problems: [],
  };
  const cpuNow = () => treeCpuByGroup(sys.memRoots(), (p, all) => sys.memGroup(p, all));
  const cpuSince = (before: Record<string, number>) => {
    const now = cpuNow();
    return Object.fromEntries(Object.keys({ ...before, ...now }).map((g) => [g, (now[g] ?? 0) - (before[g] ?? 0)]));
  };
  let sink: SmtpSink | undefined;
  let sampler: MemSampler | undefined;
  const cleanup = () => { sys.emergencyStop(); sink?.kill(); };
  cleanups.add(cleanup);
  try {
    log(`run ${runNo}: starting ${sys.name}`);
    await sys.start();
    sampler = new MemSampler(() => sys.memRoots(), (p, all) => sys.memGroup(p, all), 500);
    sampler.start();
    const thresholds = [5000, 10000, 20000, 40000, 80000, 160000];
    let cumulative = 0;
    const milestone = (queued: number) => {
      while (thresholds.length && queued >= thresholds[0]) {
        const t = thresholds.shift()!;
        try { result.memory.milestones.push({ queued: t, groups: sampler!.sample(true).groups }); } catch { /* vanished */ }
      }
    };

    // 0. warm-up, untimed: a backup MX runs for months, and a fresh process's first thousand
    // messages measure V8's compiler and heap sizing (mxspool) or the first smtpd forks
    // (Postfix), not its steady pace; the same for both systems, drained with the rest
    const warm = load === "mix" ? Math.min(WARMUP_MIX, mixMessages.length) : WARMUP_SOURCE;
    if (warm > 0) {
      log(`run ${runNo}: ${sys.name} warm-up, ${warm} ${load === "mix" ? "files of the mix" : "× 10 KB"}, ${WARMUP_SESSIONS} sessions (not timed)`);
      const sent = load === "mix"
        ? (await measureLatency({ port: sys.smtpPort, sessions: WARMUP_SESSIONS, messages: warm, length: 0, message: (i) => mixMessages[i] })).sent
        : sourceSent(await runSmtpSource({ port: sys.smtpPort, sessions: WARMUP_SESSIONS, messages: warm, length: LENGTH }), warm);
      if (sent !== warm) result.problems.push(`warm-up: ${sent} of ${warm} accepted`);
      cumulative += sent;
    }
    const warmed = cumulative;

    // 1. accept, primary down
    const cpuAccept = cpuNow();
    for (const s of load === "mix" ? MIX_SESSIONS : []) {
      log(`run ${runNo}: ${sys.name} accept the realistic mix, ${mixMessages.length} messages, ${s} sessions`);
      const [l, aofRewrites] = await countingRewrites(sys, () => measureLatency({ port: sys.smtpPort, sessions: s, messages: mixMessages.length, length: 0, message: (i) => mixMessages[i] }));
      const sorted = [...l.samplesMs].sort((a, b) => a - b);
      result.accept[String(s)] = { messages: mixMessages.length, sent: l.sent, seconds: l.wallMs / 1000, msgsPerSec: l.sent / (l.wallMs / 1000), errors: l.errors.slice(0, 20), aofRewrites };
      if (s === MIX_SESSIONS[0]) result.latency = {
        messages: mixMessages.length, ok: l.sent, reconnects: l.reconnects, p50Ms: percentile(sorted, 50), p90Ms: percentile(sorted, 90), p99Ms: percentile(sorted, 99),
        maxMs: sorted[sorted.length - 1] ?? NaN, msgsPerSec: l.sent / (l.wallMs / 1000), errors: l.errors.slice(0, 20),
      };
      log(`  ${(l.sent / (l.wallMs / 1000)).toFixed(0)} msg/s, p50 ${percentile(sorted, 50).toFixed(2)} ms${rewritesText(aofRewrites)}${l.errors.length ? `, ${l.errors.length} error(s): ${l.errors[0]}` : ""}`);
      cumulative += l.sent;
    }
    for (const s of load === "mix" ? [] : SESSIONS) {
      log(`run ${runNo}: ${sys.name} accept ${MESSAGES} × 10 KB, ${s} sessions`);
      const base = cumulative;
      const [r, aofRewrites] = await countingRewrites(sys, () => runSmtpSource({ port: sys.smtpPort, sessions: s, messages: MESSAGES, length: LENGTH, onProgress: (n) => milestone(base + n) }));
      const errors = r.stderr.split("\n").map((l) => l.trim()).filter(Boolean);
      if (r.exitCode !== 0) errors.unshift(`smtp-source exit code ${r.exitCode}`);
      const sent = sourceSent(r, MESSAGES);
      result.accept[String(s)] = { messages: MESSAGES, sent, seconds: r.wallMs / 1000, msgsPerSec: sent / (r.wallMs / 1000), errors: errors.slice(0, 20), aofRewrites };
      log(`  ${(sent / (r.wallMs / 1000)).toFixed(0)} msg/s (${sent} in ${(r.wallMs / 1000).toFixed(1)} s)${rewritesText(aofRewrites)}${errors.length ? `, ${errors.length} error line(s): ${errors[0]}` : ""}`);
      cumulative += sent;
      milestone(cumulative);
    }

    // 2. end-of-DATA → 250 latency
    if (LAT_MESSAGES > 0 && load === "source") {
      log(`run ${runNo}: ${sys.name} latency ${LAT_MESSAGES} messages, ${LAT_SESSIONS} sessions`);
      const l = await measureLatency({ port: sys.smtpPort, sessions: LAT_SESSIONS, messages: LAT_MESSAGES, length: LENGTH });
      const sorted = [...l.samplesMs].sort((a, b) => a - b);
      result.latency = {
        messages: LAT_MESSAGES, ok: l.sent, reconnects: l.reconnects, p50Ms: percentile(sorted, 50), p90Ms: percentile(sorted, 90), p99Ms: percentile(sorted, 99),
        maxMs: sorted[sorted.length - 1] ?? NaN, msgsPerSec: l.sent / (l.wallMs / 1000), errors: l.errors.slice(0, 20),
      };
      log(`  p50 ${result.latency.p50Ms.toFixed(2)} ms, p99 ${result.latency.p99Ms.toFixed(2)} ms, ${l.reconnects} reconnect(s) after 421${l.errors.length ? `, ${l.errors.length} error(s): ${l.errors[0]}` : ""}`);
      cumulative += l.sent;
      milestone(cumulative);
    }

    result.cpu.accept = cpuSince(cpuAccept);
    result.cpu.acceptMessages = cumulative - warmed;

    // everything accepted must be queued before the primary comes back
    // (Postfix's count walks incoming/, active/, deferred/ in turn: a file moving meanwhile can
    // be counted twice, so wait for the exact figure while qmgr settles)
    let inQueue = 0;
    await waitUntil(`${sys.name} to show ${cumulative} queued`, async () => { inQueue = await sys.queued(); return inQueue === cumulative; }, 30_000, 250);
    if (inQueue !== cumulative) result.problems.push(`queue holds ${inQueue} messages but ${cumulative} were accepted`);
    const queued = cumulative; // every message answered 250 must reach the primary
    result.drain.queued = queued;

    // 3. drain to the primary
    log(`run ${runNo}: ${sys.name} drain ${queued} messages to smtp-sink`);
    sink = new SmtpSink(sys.sinkPort);
    const cpuDrain = cpuNow();
    const t0 = await sink.start();
    await sys.primaryUp();
    const budget = Math.max(120_000, queued * 20); // 50 msg/s floor before giving up
    const all = await waitUntil(`${sys.name} to drain ${queued} messages`, () => sink!.messages >= queued, budget, 20);
    const tDone = all ? sink.lastAt! : performance.now();
    result.drain.received = sink.messages;
    result.drain.seconds = (tDone - t0) / 1000;
    result.drain.msgsPerSec = sink.messages / result.drain.seconds;
    result.drain.firstToLastSeconds = sink.firstAt && sink.lastAt ? (sink.lastAt - sink.firstAt) / 1000 : NaN;
    const emptyOk = await waitUntil(`${sys.name} queue to be empty`, async () => (await sys.queued()) === 0, 60_000, 100);
    result.drain.queueEmptyAfterSeconds = emptyOk ? (performance.now() - t0) / 1000 : null;
    result.drain.sinkSessions = sink.sessions;
    result.cpu.drain = cpuSince(cpuDrain);
    result.cpu.drainMessages = sink.messages;
    if (!all) result.problems.push(`drain incomplete: the sink received ${sink.messages} of ${queued}`);
    if (sink.messages > queued) result.problems.push(`the sink received ${sink.messages} messages for ${queued} queued (duplicates)`);
    if (!emptyOk) result.problems.push(`queue not empty 60 s after the drain: ${await sys.queued().catch(() => "?")}`);
    if ((!emptyOk || !all || inQueue !== cumulative) && sys instanceof PostfixUnderTest) await sys.describeQueue();
    if (sys instanceof MxspoolUnderTest) {
      const f = await sys.failed().catch(() => 0);
      if (f) result.problems.push(`${f} failed jobs`);
    }
    log(`  ${result.drain.msgsPerSec.toFixed(0)} msg/s (${sink.messages} in ${result.drain.seconds.toFixed(1)} s)`);
  } catch (err) {
    result.failed = (err as Error).stack ?? String(err);
    log(`run ${runNo}: ${sys.name} FAILED: ${(err as Error).message}`);
  } finally {
    sampler?.stop();
    if (sampler) {
      result.memory.peak = sampler.peak;
      for (const g of Object.keys(sampler.peak)) result.memory.hwmSumKiB[g] = sampler.hwmSum(g);
    }
    result.problems.push(...sys.problems().slice(0, 50));
    if (sys instanceof MxspoolUnderTest) result.logEvents = sys.logSummary();
    await sink?.stop().catch(() => undefined);
    await sys.stop().catch((e) => { result.problems.push(`stop: ${(e as Error).message}`); });
    cleanups.delete(cleanup);
  }
  return result;
}

// ---------------------------------------------------------------- report

const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : "–");
const mib = (k: number | undefined) => (k === undefined ? NaN : k / MIB);

/** CPU milliseconds per message of a phase, summed over process groups. */
function cpuPer(r: SystemRun, phase: "accept" | "drain", groups: string[]): number {
  const n = phase === "accept" ? r.cpu.acceptMessages : r.cpu.drainMessages;
  return n ? (groups.reduce((a, g) => a + (r.cpu[phase][g] ?? 0), 0) * 1000) / n : NaN;
}

/** The realistic mix's table: the same figures as smtp-source's, for the same files sent to both systems. */
function mixReport(results: SystemRun[], stats: string): string {
  const mx = results.filter((r) => r.system === "mxspool" && !r.failed);
  const pf = results.filter((r) => r.system === "Postfix" && !r.failed);
  const med = (rs: SystemRun[], f: (r: SystemRun) => number) => median(rs.map(f));
  const lines: string[] = [];
  const L = (s = "") => lines.push(s);
  const row = (name: string, f: (r: SystemRun) => number, fmt: (x: number) => string, target = "") => {
    const a = med(mx, f), b = med(pf, f);
    L(`| ${name} | ${fmt(a)} | ${fmt(b)} | ${ratio(a, b)} | ${target} |`);
  };
  L();
  L("## The realistic mix");
  L();
  L(`- ${stats}`);
  L(`- the same files to both systems: raw-socket client, ${MIX_SESSIONS.join(" then ")} sessions (the same files each time; the latency is the first pass's), several messages per connection, primary down, after an untimed warm-up of ${WARMUP_MIX} of the files at ${WARMUP_SESSIONS} sessions; then everything drained to smtp-sink (the warm-up's too); messages over ${MIX_MAX_SIZE / 1e6} MB left out (Postfix's default size limit); ${RUNS} run(s), medians`);
  L();
  L("| metric | mxspool | Postfix | mxspool/Postfix | target |");
  L("|---|---:|---:|---:|---|");
  for (const s of MIX_SESSIONS) row(`accept, ${s} sessions (msg/s)`, (r) => r.accept[String(s)]?.msgsPerSec ?? NaN, f0, s === 20 ? "≥ 2×" : "");
  row(`end of DATA → 250, p50 (ms; ${MIX_SESSIONS[0]} sessions)`, (r) => r.latency.p50Ms, f2, "lower is better");
  L(`| messages drained | ${f0(med(mx, (r) => r.drain.queued))} | ${f0(med(pf, (r) => r.drain.queued))} | | |`);
  row("drain to the primary (msg/s)", (r) => r.drain.msgsPerSec, f0, "≥ 1.5×");
  L(`| peak PSS (MiB) | ${f0(med(mx, (r) => mib(r.memory.peak.node?.pssKiB)))} (node) | ${f0(med(pf, (r) => mib(r.memory.peak.postfix?.pssKiB)))} (all) | ${ratio(med(mx, (r) => mib(r.memory.peak.node?.pssKiB)), med(pf, (r) => mib(r.memory.peak.postfix?.pssKiB)))} | ≤ 1.2× |`);
  L(`| peak PSS with mxspool's redis-server (MiB) | ${f0(med(mx, (r) => mib((r.memory.peak.node?.pssKiB ?? NaN) + (r.memory.peak.redis?.pssKiB ?? NaN))))} (node + redis) | | | |`);
  for (const phase of ["accept", "drain"] as const) {
    const a = med(mx, (r) => cpuPer(r, phase, ["node", "redis", "redis-fork"])), b = med(pf, (r) => cpuPer(r, phase, ["postfix"]));
    L(`| CPU per message, ${phase} (ms; mxspool: node + redis) | ${f2(a)} | ${f2(b)} | ${ratio(a, b)} | lower is better |`);
  }
  L();
  L(`Per run (accept msg/s at ${MIX_SESSIONS.join(" / ")} sessions; drain msg/s): ${[...results].sort((a, b) => a.run - b.run || a.system.localeCompare(b.system)).map((r) => r.failed ? `${r.run} ${r.system} FAILED` : `${r.run} ${r.system} ${MIX_SESSIONS.map((s) => f0(r.accept[String(s)]?.msgsPerSec ?? NaN)).join(" / ")}${rewritesNote(r, MIX_SESSIONS)}; ${f0(r.drain.msgsPerSec)}${r.problems.length ? ` (${r.problems.length} problem(s): ${r.problems[0].slice(0, 100)})` : ""}`).join("; ")}`);
  L("Redis bytes per queued message and messages per GiB on the mix, against the raw bytes: test/bench/capacity.ts (test-artifacts/bench-capacity.md), run last by `npm run bench`.");
  return lines.join("\n") + "\n";
}

/** " (AOF rewrites a / b)" for a run whose system counts them (mxspool's Redis), else "". */
function rewritesNote(r: SystemRun, sessions: number[]): string {
  const n = sessions.map((s) => r.accept[String(s)]?.aofRewrites);
  return n.some((x) => x !== undefined) ? ` (AOF rewrites ${n.map((x) => x ?? "?").join(" / ")})` : "";
}

function sh(cmd: string, args: string[]): string {
  try { return execFileSync(cmd, args, { stdio: ["ignore", "pipe", "ignore"] }).toString().trim(); } catch { return "?"; }
}

function report(results: SystemRun[], postfixSettings: string, startedAt: Date, wallS: number): string {
  const by = (sys: string) => results.filter((r) => r.system === sys && !r.failed);
  const mx = by("mxspool");
  const pf = by("Postfix");
  const med = (rs: SystemRun[], f: (r: SystemRun) => number) => median(rs.map(f));
  const cpu = (fs.readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? "?";
  const lines: string[] = [];
  const L = (s = "") => lines.push(s);
  L("## mxspool vs Postfix as a backup MX");
  L();
  L(`- date: ${startedAt.toISOString()}; bench wall time ${(wallS / 60).toFixed(1)} min; 1-min load average at start ${LOAD_START.toFixed(1)}, at end ${os.loadavg()[0].toFixed(1)} (above ${os.availableParallelism()}: other work shared the CPUs)`);
  L(`- machine: nproc ${os.availableParallelism()}, CPU ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}`);
  L(`- node ${process.version}; Postfix ${sh("/usr/sbin/postconf", ["-dh", "mail_version"])}; ${sh("redis-server", ["--version"]).split(" ").slice(0, 3).join(" ")}`);
  L(`- load: ${MESSAGES} messages of 10 KB (smtp-source -l ${LENGTH}) per accept test, sessions ${SESSIONS.join(" and ")}, one message per connection, primary down, after an untimed warm-up of ${WARMUP_SOURCE} at ${WARMUP_SESSIONS} sessions right after the start; latency: ${LAT_MESSAGES} messages over ${LAT_SESSIONS} sessions (raw-socket client); drain: everything queued, to smtp-sink; ${RUNS} run(s), order alternating; figures are medians of runs`);
  L(`- mxspool: revision ${REV} (built once, copied aside for the whole bench), ${processesLabel()}, started as its launchers start it (node --max-semi-space-size=4 --max-old-space-size=1024 --initial-old-space-size=64, MALLOC_ARENA_MAX=2), ${REDIS_MODE === "embedded" ? "embedded redis-server (unix socket)" : "external redis-server on TCP loopback (test/helpers/redis-server.ts)"}, AOF appendfsync always, delivery.concurrency ${MXSPOOL_CONCURRENCY}, monitor.interval 1s; the drain starts with the admin's \`POST /api/primaries/bench.test/probe\` ("probe now"), as Postfix's with \`postqueue -f\`; log level ${MXSPOOL_LOG} to a file`);
  L(`- Postfix: private instance, default fsync of each queue file before 250, no chroot, logging to a file (postlogd); defaults except: ${postfixSettings.split("\n").filter((l) => /^(relay_domains|smtpd_relay_restrictions|transport_maps|mydestination|local_recipient_maps|inet_interfaces|compatibility_level)/.test(l)).join("; ")}; default_destination_concurrency_limit 20, smtpd process limit 100; drain starts with \`postqueue -f\``);
  L();
  L("| metric | mxspool | Postfix | mxspool/Postfix | target |");
  L("|---|---:|---:|---:|---|");
  for (const s of SESSIONS) {
    const a = med(mx, (r) => r.accept[String(s)]?.msgsPerSec ?? NaN);
    const b = med(pf, (r) => r.accept[String(s)]?.msgsPerSec ?? NaN);
    L(`| accept, ${s} sessions (msg/s) | ${f0(a)} | ${f0(b)} | ${ratio(a, b)} | ${s === 20 ? "≥ 2×" : ""} |`);
  }
  {
    const a = med(mx, (r) => r.latency.p50Ms), b = med(pf, (r) => r.latency.p50Ms);
    L(`| end of DATA → 250, p50 (ms) | ${f2(a)} | ${f2(b)} | ${ratio(a, b)} | lower is better |`);
    const c = med(mx, (r) => r.latency.p99Ms), d = med(pf, (r) => r.latency.p99Ms);
    L(`| end of DATA → 250, p99 (ms) | ${f2(c)} | ${f2(d)} | ${ratio(c, d)} | lower is better |`);
  }
  {
    const a = med(mx, (r) => r.drain.msgsPerSec), b = med(pf, (r) => r.drain.msgsPerSec);
    L(`| drain to the primary (msg/s) | ${f0(a)} | ${f0(b)} | ${ratio(a, b)} | ≥ 1.5× |`);
    const qa = med(mx, (r) => r.drain.queued), qb = med(pf, (r) => r.drain.queued);
    L(`| messages drained | ${f0(qa)} | ${f0(qb)} | | |`);
  }
  {
    const a = med(mx, (r) => mib(r.memory.peak.node?.rssKiB)), b = med(pf, (r) => mib(r.memory.peak.postfix?.rssKiB));
    L(`| peak RSS, sum of processes (MiB; counts shared pages once per process) | ${f0(a)} (node) | ${f0(b)} (all) | ${ratio(a, b)} | |`);
    const c = med(mx, (r) => mib(r.memory.peak.node?.pssKiB)), d = med(pf, (r) => mib(r.memory.peak.postfix?.pssKiB));
    L(`| peak PSS, sum of processes (MiB) | ${f0(c)} (node) | ${f0(d)} (all) | ${ratio(c, d)} | ≤ 1.2× |`);
    const cr = med(mx, (r) => mib((r.memory.peak.node?.pssKiB ?? NaN) + (r.memory.peak.redis?.pssKiB ?? NaN)));
    L(`| peak PSS with mxspool's redis-server (MiB; Postfix's queue is on disk, in no process) | ${f0(cr)} (node + redis) | ${f0(d)} (all) | ${ratio(cr, d)} | |`);
    const e = med(mx, (r) => mib(r.memory.peak.redis?.rssKiB));
    L(`| peak RSS of mxspool's redis-server (MiB) | ${f0(e)} | (queue on disk) | | |`);
    const fk = med(mx, (r) => mib(r.memory.peak["redis-fork"]?.rssKiB ?? 0));
    if (fk > 0) L(`| peak RSS of redis's AOF-rewrite child (MiB, copy-on-write, shares most of the above) | ${f0(fk)} | | | |`);
  }
  {
    // CPU per message: mxspool's node processes and its redis-server (with its AOF-rewrite forks) against all of Postfix's processes
    const per = cpuPer;
    for (const phase of ["accept", "drain"] as const) {
      const node = med(mx, (r) => per(r, phase, ["node"])), red = med(mx, (r) => per(r, phase, ["redis", "redis-fork"]));
      const pfx = med(pf, (r) => per(r, phase, ["postfix"]));
      L(`| CPU per message, ${phase} (ms; mxspool: node + redis) | ${f2(node + red)} (${f2(node)} + ${f2(red)}) | ${f2(pfx)} | ${ratio(node + red, pfx)} | lower is better |`);
    }
  }
  const thresholds = [...new Set(results.flatMap((r) => r.memory.milestones.map((m) => m.queued)))].sort((a, b) => a - b);
  if (thresholds.length) {
    const at = (rs: SystemRun[], g: string, q: number) => med(rs, (r) => mib(r.memory.milestones.find((m) => m.queued === q)?.groups[g]?.rssKiB));
    L(`| RSS at ${thresholds.map((q) => `${q / 1000}k`).join(" / ")} queued (MiB) | ${thresholds.map((q) => f0(at(mx, "node", q))).join(" / ")} | ${thresholds.map((q) => f0(at(pf, "postfix", q))).join(" / ")} | | flat |`);
    const atP = (rs: SystemRun[], g: string, q: number) => med(rs, (r) => mib(r.memory.milestones.find((m) => m.queued === q)?.groups[g]?.pssKiB));
    L(`| PSS at the same points (MiB) | ${thresholds.map((q) => f0(atP(mx, "node", q))).join(" / ")} | ${thresholds.map((q) => f0(atP(pf, "postfix", q))).join(" / ")} | | flat |`);
    L(`| mxspool redis-server RSS at the same points (MiB) | ${thresholds.map((q) => f0(at(mx, "redis", q))).join(" / ")} | | | |`);
  }
  L();
  L("Per run:");
  L();
  L(`| run | system | ${SESSIONS.map((s) => `accept @${s} (msg/s)`).join(" | ")} | p50 / p99 (ms) | drain (msg/s, n) | peak RSS (MiB) | problems |`);
  L(`|---|---|${SESSIONS.map(() => "---:|").join("")}---:|---:|---:|---|`);
  for (const r of [...results].sort((a, b) => a.run - b.run || a.system.localeCompare(b.system))) {
    if (r.failed) { L(`| ${r.run} | ${r.system} | FAILED: ${r.failed.split("\n")[0]} |`); continue; }
    const memTxt = r.system === "mxspool"
      ? `${f0(mib(r.memory.peak.node?.rssKiB))} node + ${f0(mib(r.memory.peak.redis?.rssKiB))} redis`
      : `${f0(mib(r.memory.peak.postfix?.rssKiB))} (${r.memory.peak.postfix?.procs ?? 0} procs)`;
    const errs = Object.values(r.accept).reduce((n, a) => n + a.errors.length, 0) + r.latency.errors.length;
    const probs = r.problems.length + errs;
    L(`| ${r.run} | ${r.system} | ${SESSIONS.map((s) => f0(r.accept[String(s)]?.msgsPerSec ?? NaN) + (r.accept[String(s)]?.aofRewrites ? ` (AOF rewrites ${r.accept[String(s)]!.aofRewrites})` : "")).join(" | ")} | ${f2(r.latency.p50Ms)} / ${f2(r.latency.p99Ms)} | ${f0(r.drain.msgsPerSec)} (${r.drain.received}) | ${memTxt} | ${probs ? `${probs}: ${(r.problems[0] ?? Object.values(r.accept).flatMap((a) => a.errors)[0] ?? r.latency.errors[0] ?? "").replace(/\|/g, "/").slice(0, 120)}` : "none"} |`);
  }
  return lines.join("\n") + "\n";
}

/**
 * A private copy of the built mxspool (dist/src, dist/queues, dist/policies) for this bench:
 * other work rebuilding dist/ while the bench runs must not change the code under test
 * between runs. It lives under test-artifacts/ so that node_modules and package.json
 * ("type": "module") still resolve by walking up.
 */
function snapshotDist(): { cli: string; dir: string } {
  const root = repoRoot();
  const dir = path.join(root, "test-artifacts", ".mxspool-dist");
  fs.rmSync(dir, { recursive: true, force: true });
  for (const d of ["src", "queues", "policies"]) {
    const from = path.join(MXSPOOL_ROOT, "dist", d);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(dir, d), { recursive: true });
  }
  return { cli: path.join(dir, "src", "cli", "main.js"), dir };
}

function revision(): string {
  const root = MXSPOOL_ROOT;
  const head = sh("git", ["-C", root, "rev-parse", "--short", "HEAD"]);
  const dirty = sh("git", ["-C", root, "status", "--porcelain", "--", "src", "queues", "policies"]);
  return `${head}${dirty && dirty !== "?" ? ` + uncommitted changes in ${dirty.split("\n").length} file(s) of src/queues/policies` : ""}`;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const t0 = Date.now();
  const snap = snapshotDist();
  cleanups.add(() => fs.rmSync(snap.dir, { recursive: true, force: true }));
  REV = revision();
  log(`messages ${MESSAGES}, runs ${RUNS}, sessions ${SESSIONS.join(",")}, latency messages ${LAT_MESSAGES}, redis ${REDIS_MODE}, systems ${SYSTEMS.join(",")}`);
  const results: SystemRun[] = [];
  let postfixSettings = "";
  const mixStats = MIX_MESSAGES > 0 ? prepareMix() : "";
  if (mixStats) log(`realistic mix: ${mixStats}`);
  const loads: Load[] = MIX_MESSAGES > 0 ? ["source", "mix"] : ["source"];
  for (let run = 1; run <= RUNS; run++) for (const load of loads) {
    const order = run % 2 === 1 ? ["mxspool", "postfix"] : ["postfix", "mxspool"];
    for (const name of order) {
      if (!SYSTEMS.includes(name)) continue;
      let sys: SystemUnderTest;
      if (name === "mxspool") sys = new MxspoolUnderTest({ redis: REDIS_MODE, processes: MXSPOOL_PROCESSES, concurrency: MXSPOOL_CONCURRENCY, logLevel: MXSPOOL_LOG, cli: snap.cli });
      else {
        const p = new PostfixUnderTest();
        const origStart = p.start.bind(p);
        p.start = async () => { await origStart(); if (!postfixSettings) postfixSettings = p.settings(); };
        sys = p;
      }
      results.push(await benchSystem(sys, run, load));
      await sleep(2000); // let the disk and the CPU settle between systems
    }
  }
  const wallS = (Date.now() - t0) / 1000;
  const md = report(results.filter((r) => r.load === "source"), postfixSettings, startedAt, wallS)
    + (mixStats ? mixReport(results.filter((r) => r.load === "mix"), mixStats) : "");
  const outDir = path.join(repoRoot(), "test-artifacts");
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "bench.md"), md);
  fs.writeFileSync(path.join(outDir, "bench.json"), JSON.stringify({
    startedAt: startedAt.toISOString(), wallSeconds: wallS,
    machine: { nproc: os.availableParallelism(), cpu: (fs.readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m) ?? [])[1], node: process.version },
    settings: { revision: REV, messages: MESSAGES, runs: RUNS, sessions: SESSIONS, latencyMessages: LAT_MESSAGES, latencySessions: LAT_SESSIONS, length: LENGTH, redis: REDIS_MODE, mxspoolProcesses: MXSPOOL_PROCESSES, mxspoolConcurrency: MXSPOOL_CONCURRENCY, postfixMainCf: postfixSettings },
    results,
  }, null, 2));
  fs.rmSync(snap.dir, { recursive: true, force: true });
  process.stdout.write("\n" + md);
  log(`wrote ${path.relative(process.cwd(), path.join(outDir, "bench.md"))} and bench.json`);
  process.exit(0);
}

main().catch((err) => {
  log(`bench failed: ${(err as Error).stack ?? err}`);
  for (const c of cleanups) { try { c(); } catch { /* best effort */ } }
  process.exit(1);
});

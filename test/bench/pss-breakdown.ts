/**
 * Where mxspool's memory goes, per process: starts mxspool as the bench does (smtp.processes default,
 * embedded Redis), sends smtp-source's 10 KB load with 20 sessions, and prints every
 * process of the tree with its role, PSS, and PSS split by mapping (V8 heap and other
 * anonymous memory, node's binary, shared libraries) from /proc/PID/smaps. Run after a
 * build: `node dist/test/bench/pss-breakdown.js` (BENCH_MESSAGES 4000; BENCH_PROCESSES sets smtp.processes, default auto;
 * BENCH_NODE_ARGS passes node flags to mxspool; BENCH_EXTRA_CONFIG adds top-level config as JSON).
 */
import fs from "node:fs";
import { benchProcesses, MxspoolUnderTest } from "./systems.js";
import { descendants, treeCpuByGroup } from "./procs.js";
import { runSmtpSource } from "./postfix-tools.js";
import { env, f1 } from "./figures.js";

const MESSAGES = Number(env("BENCH_MESSAGES", "4000"));
const PROCESSES = benchProcesses();

interface Split { pss: number; anon: number; binary: number; libs: number; other: number }

/** PSS (KiB) of one process, split by what is mapped: anonymous (heaps), node's binary, shared libraries, the rest. */
function pssSplit(pid: number): Split | undefined {
  let text: string;
  try { text = fs.readFileSync(`/proc/${pid}/smaps`, "utf8"); } catch { return undefined; }
  const s: Split = { pss: 0, anon: 0, binary: 0, libs: 0, other: 0 };
  let kind: keyof Split = "other";
  for (const line of text.split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1].trim();
      kind = !name || name.startsWith("[heap]") || name.startsWith("[anon") || name.startsWith("[stack") ? "anon"
        : /\/node$|redis-server$/.test(name) ? "binary" : name.includes(".so") ? "libs" : "other";
      continue;
    }
    const m = /^Pss:\s+(\d+) kB/.exec(line);
    if (m) { s.pss += Number(m[1]); s[kind] += Number(m[1]); }
  }
  return s;
}

function table(title: string, roots: number[]): number {
  const mib = (k: number) => f1(k / 1024);
  process.stdout.write(`\n${title}\n| pid | process | PSS | anon (heaps) | binary | libs | other |\n|---|---|---:|---:|---:|---:|---:|\n`);
  let total = 0;
  for (const root of roots) for (const pid of descendants(root)) {
    const s = pssSplit(pid);
    if (!s) continue;
    let cmd = "";
    try { cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim().slice(0, 70); } catch { /* gone */ }
    total += s.pss;
    process.stdout.write(`| ${pid} | ${cmd} | ${mib(s.pss)} | ${mib(s.anon)} | ${mib(s.binary)} | ${mib(s.libs)} | ${mib(s.other)} |\n`);
  }
  process.stdout.write(`| | **total** | **${mib(total)}** | | | | |\n`);
  return total;
}

async function main(): Promise<void> {
  const extra = process.env.BENCH_EXTRA_CONFIG ? JSON.parse(process.env.BENCH_EXTRA_CONFIG) as Record<string, unknown> : undefined;
  const sys = new MxspoolUnderTest({ redis: "embedded", processes: PROCESSES, concurrency: 20, logLevel: "info", extraConfig: extra });
  await sys.start();
  try {
    table("after start (idle)", sys.memRoots());
    let peak = 0;
    const timer = setInterval(() => {
      const t = sys.memRoots().flatMap((r) => descendants(r)).reduce((a, p) => a + (pssSplit(p)?.pss ?? 0), 0);
      peak = Math.max(peak, t);
    }, 1000);
    const cpu = () => treeCpuByGroup(sys.memRoots(), (p, all) => sys.memGroup(p, all));
    const c0 = cpu();
    const t0 = Date.now();
    const r = await runSmtpSource({ port: sys.smtpPort, sessions: 20, messages: MESSAGES, length: 10_240 });
    clearInterval(timer);
    const c1 = cpu();
    const perMsg = (g: string) => f1((((c1[g] ?? 0) - (c0[g] ?? 0)) * 1e6) / Math.max(1, r.sent));
    process.stdout.write(`\naccepted ${r.sent} in ${((Date.now() - t0) / 1000).toFixed(1)} s; CPU per message: node ${perMsg("node")} µs, redis ${perMsg("redis")} µs; peak total PSS during the load (1 s samples) ${f1(peak / 1024)} MiB\n`);
    table(`after ${MESSAGES} × 10 KB with 20 sessions`, sys.memRoots());
  } finally {
    await sys.stop();
  }
}

main().catch((e) => { process.stderr.write(String((e as Error).stack ?? e) + "\n"); process.exit(1); });

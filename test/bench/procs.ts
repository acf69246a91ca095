/**
 * Memory of a process tree, read from /proc: the root and every descendant, with VmRSS,
 * VmHWM (the kernel's own per-process peak) and, from smaps_rollup, PSS (shared pages
 * divided among the processes sharing them, so a sum over many forked processes is honest).
 */
import fs from "node:fs";

export interface ProcMem { pid: number; ppid: number; comm: string; cmdline: string; rssKiB: number; hwmKiB: number; pssKiB: number }

function statusField(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

/** pid → ppid for every process on the machine. */
function parentMap(): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try { stat = fs.readFileSync(`/proc/${e}/stat`, "utf8"); } catch { continue; }
    // comm may contain spaces and parentheses: the fields after the last ")" are fixed
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(rest[1]);
    const list = kids.get(ppid) ?? [];
    list.push(Number(e));
    kids.set(ppid, list);
  }
  return kids;
}

export function descendants(root: number): number[] {
  const kids = parentMap();
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    for (const k of kids.get(p) ?? []) stack.push(k);
  }
  return out;
}

export function procMem(pid: number, withPss = true): ProcMem | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const comm = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? "?";
    const ppid = Number(/^PPid:\s+(\d+)$/m.exec(status)?.[1] ?? 0);
    let cmdline = "";
    try { cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim(); } catch { /* gone */ }
    let pssKiB = 0;
    if (withPss) {
      try { pssKiB = statusField(fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"), "Pss"); } catch { /* gone */ }
    }
    return { pid, ppid, comm, cmdline, rssKiB: statusField(status, "VmRSS"), hwmKiB: statusField(status, "VmHWM"), pssKiB };
  } catch {
    return undefined;
  }
}

export function treeMem(root: number, withPss = true): ProcMem[] {
  return descendants(root).map((p) => procMem(p, withPss)).filter((m): m is ProcMem => Boolean(m && m.rssKiB > 0));
}

export interface MemSample { t: number; groups: Record<string, { rssKiB: number; pssKiB: number; procs: number }> }

/**
 * Samples a process tree every `everyMs`, splitting it into named groups (e.g. "node" and
 * "redis") by a classifier; keeps the peak of each group's sums. PSS (smaps_rollup walks the
 * page tables: dear with 250 Postfix processes) is read on every `pssEvery`-th sample only,
 * so the sampler does not steal much CPU from the system under test on 2 cores.
 */
export class MemSampler {
  readonly peak: Record<string, { rssKiB: number; pssKiB: number; procs: number }> = {};
  /** Highest VmHWM seen per pid (the kernel's peak, between our samples too). */
  readonly hwm = new Map<number, { comm: string; group: string; hwmKiB: number }>();
  last?: MemSample;
  private timer?: NodeJS.Timeout;

  private n = 0;

  constructor(private readonly roots: () => number[], private readonly classify: (p: ProcMem, all: Map<number, ProcMem>) => string | undefined,
              private readonly everyMs = 500, private readonly pssEvery = 4) {}

  sample(withPss = this.n++ % this.pssEvery === 0): MemSample {
    const groups: MemSample["groups"] = {};
    const seen = new Set<number>();
    const all = new Map<number, ProcMem>();
    for (const root of this.roots()) for (const m of treeMem(root, withPss)) all.set(m.pid, m);
    {
      for (const m of all.values()) {
        if (seen.has(m.pid)) continue;
        seen.add(m.pid);
        const g = this.classify(m, all);
        if (!g) continue;
        const s = (groups[g] ??= { rssKiB: 0, pssKiB: 0, procs: 0 });
        s.rssKiB += m.rssKiB;
        s.pssKiB += m.pssKiB;
        s.procs++;
        const h = this.hwm.get(m.pid);
        if (!h || h.hwmKiB < m.hwmKiB) this.hwm.set(m.pid, { comm: m.comm, group: g, hwmKiB: m.hwmKiB });
      }
    }
    for (const [g, s] of Object.entries(groups)) {
      const p = (this.peak[g] ??= { rssKiB: 0, pssKiB: 0, procs: 0 });
      p.rssKiB = Math.max(p.rssKiB, s.rssKiB);
      if (withPss) p.pssKiB = Math.max(p.pssKiB, s.pssKiB);
      p.procs = Math.max(p.procs, s.procs);
    }
    if (!withPss) for (const s of Object.values(groups)) s.pssKiB = NaN;
    this.last = { t: Date.now(), groups };
    return this.last;
  }

  start(): void {
    const tick = () => {
      try { this.sample(); } catch { /* a process vanished mid-read */ }
      this.timer = setTimeout(tick, this.everyMs);
    };
    tick();
  }

  stop(): void { clearTimeout(this.timer); try { this.sample(true); } catch { /* ignore */ } }

  /** Sum of per-process VmHWM in a group: an upper bound of the group's peak. */
  hwmSum(group: string): number {
    let s = 0;
    for (const h of this.hwm.values()) if (h.group === group) s += h.hwmKiB;
    return s;
  }
}

const CLK_TCK = 100; // Linux's USER_HZ on every architecture Node runs on here

/**
 * CPU seconds (user + system) used so far by a process and its descendants: the live ones'
 * own time plus what each has collected from children it reaped (spamd replaces its
 * children, redis reaps its AOF-rewrite forks), so every CPU second is counted once.
 */
export function treeCpuSeconds(root: number): number {
  return descendants(root).reduce((a, p) => a + cpuSeconds(p), 0);
}

/** A process's own CPU seconds plus those of the children it reaped; 0 when it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from 3 (state) on
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK; // utime, stime, cutime, cstime (fields 14–17)
  } catch {
    return 0;
  }
}

/** Busy and total CPU seconds of the whole machine so far (all cores), from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const v = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/** CPU seconds per group (as the memory sampler's classifier names them) over the trees under `roots`. */
export function treeCpuByGroup(roots: number[], classify: (p: ProcMem, all: Map<number, ProcMem>) => string | undefined): Record<string, number> {
  const all = new Map<number, ProcMem>();
  for (const root of roots) for (const p of descendants(root)) { const m = procMem(p, false); if (m) all.set(p, m); }
  const out: Record<string, number> = {};
  for (const m of all.values()) {
    const g = classify(m, all);
    if (!g) continue;
    out[g] = (out[g] ?? 0) + cpuSeconds(m.pid);
  }
  return out;
}

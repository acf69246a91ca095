/**
 * How the SMTP/delivery processes are started so that their memory stays near what they use:
 * left to its defaults, V8 lets a busy process's young generation grow to 3 × 16 MiB and its
 * old generation fill with garbage it collects late (measured under 20 sessions of 10 KB
 * messages: 160 MiB of PSS per process, 66 MiB of it old space holding ~30 MiB of live
 * objects), and glibc gives every libuv thread (brotli compression) its own malloc arena.
 * With a 4 MiB semi-space, an old-space limit of 256 MiB (V8 then collects at a lower
 * growth) and two malloc arenas, the same load peaks near 60 MiB per process
 * (test/bench/pss-breakdown.ts). Flags or variables the admin set (NODE_OPTIONS, node's own
 * arguments, the environment) win: a setting is only added where none is given. Pure.
 *
 * The supervisor cannot set its own: V8 sizes its heap when the process starts (a flag set
 * later is ignored), so every launcher (the command's `#!` line, the .deb's /usr/bin/mxspool,
 * the Dockerfile) starts node with SUPERVISOR_LAUNCH — the semi-space and the arenas, not the
 * old-space limit: the supervisor's API and webmail may parse a message of maxMessageSize.
 * test/unit/policies/process-memory.test.ts holds the launchers to it.
 */
export const CHILD_NODE_FLAGS: ReadonlyArray<readonly [name: string, value: string]> = [
  ["--max-semi-space-size", "4"],
  ["--max-old-space-size", "256"],
];
export const CHILD_MALLOC_ARENA_MAX = "2";

/** How the launchers start the supervisor: environment, then node's flags. */
export const SUPERVISOR_LAUNCH = { env: { MALLOC_ARENA_MAX: CHILD_MALLOC_ARENA_MAX }, nodeFlags: ["--max-semi-space-size=4"] } as const;

/** node's arguments for a forked process: the parent's, plus each default flag neither they nor NODE_OPTIONS set. */
export function childExecArgv(parentArgv: readonly string[], nodeOptions = ""): string[] {
  const given = [...parentArgv, ...nodeOptions.split(/\s+/)].map((a) => a.split("=")[0].replace(/_/g, "-"));
  return [...parentArgv, ...CHILD_NODE_FLAGS.filter(([name]) => !given.includes(name)).map(([name, value]) => `${name}=${value}`)];
}

/** Variables added to a forked process's environment (those already set are left as they are). */
export function childEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return env.MALLOC_ARENA_MAX ? {} : { MALLOC_ARENA_MAX: CHILD_MALLOC_ARENA_MAX };
}

/**
 * How many SMTP/delivery processes `smtp.processes: 0` (the default) means: one per core but
 * one, and at least one — the spare core is redis-server's and the kernel's network stack's.
 * Measured on 2 cores (README, "Benchmark"): one process accepted as fast as two, with 25%
 * less CPU per message and 40% less memory.
 */
export function defaultProcessCount(cores: number): number {
  return Math.max(1, cores - 1);
}

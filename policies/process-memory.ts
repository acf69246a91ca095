/**
 * How mxspool's node processes are started so that their memory stays near what they use:
 * left to its defaults, V8 lets a busy process's young generation grow to 3 × 16 MiB and its
 * old generation fill with garbage it collects late (it sizes its first old-generation limit
 * from the old-space maximum, 4 GiB on a machine this size), and glibc gives every libuv
 * thread (brotli compression) its own malloc arena. Measured under 20 sessions of 10 KB
 * messages (test/bench/pss-breakdown.ts): a forked SMTP process 160 MiB of PSS with the
 * defaults, ~60 MiB with a 4 MiB semi-space, an old-space maximum of 256 MiB and two arenas;
 * the supervisor running SMTP itself peaks at ~150 MiB with only the semi-space set and at
 * ~85–90 MiB with a maximum of 256 or 1024 MiB (the same). 1024 it is: the API and webmail
 * may parse a message of smtp.maxMessageSize (its attachments are Buffers, outside this limit).
 * The other way, that maximum alone leaves the old generation's limit at ~1.6 × its live
 * ~32 MiB, and V8 counts against that room the message Buffers promoted since its last full
 * collection: under the mix's accept a full collection every ~300 ms, whose marking threads
 * cost ~0.35 ms of CPU per message. A 64 MiB floor (`--initial-old-space-size`) took them from
 * 18 to 7–8 per run and those threads to ~0.27 ms, for ~10 MiB of PSS (README, "Benchmark").
 *
 * The supervisor cannot set its own: V8 sizes its heap when the process starts (a flag set
 * later is ignored), so every launcher (the command's `#!` line, the .deb's /usr/bin/mxspool,
 * the Dockerfile) starts node with SUPERVISOR_LAUNCH; test/unit/policies/process-memory.test.ts
 * holds them to it. A forked process inherits the supervisor's flags and gets each of
 * CHILD_NODE_FLAGS nobody gave: flags or variables the admin set (NODE_OPTIONS, node's own
 * arguments, the environment) win. Pure.
 */
export const CHILD_NODE_FLAGS: ReadonlyArray<readonly [name: string, value: string]> = [
  ["--max-semi-space-size", "4"],
  ["--max-old-space-size", "1024"],
  ["--initial-old-space-size", "64"],
];
export const CHILD_MALLOC_ARENA_MAX = "2";

/** How the launchers start the supervisor: environment, then node's flags (the same as a forked process's). */
export const SUPERVISOR_LAUNCH = {
  env: { MALLOC_ARENA_MAX: CHILD_MALLOC_ARENA_MAX },
  nodeFlags: CHILD_NODE_FLAGS.map(([name, value]) => `${name}=${value}`),
} as const;

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
 * How many processes are forked for the SMTP and delivery roles (`smtp.processes`); 0 = none:
 * the supervisor runs them itself (src/worker-roles.ts). "auto" (the default): none on a
 * machine of one or two cores, else one per core but one (the spare core is redis-server's
 * and the network stack's). Measured on 2 cores (README, "Benchmark"): the supervisor alone
 * accepts as fast as the supervisor and two forked processes with ~25% less CPU per message
 * and ~40% of the memory; what it gives up is the crash isolation (an uncaught error ends the
 * service, which its manager restarts; no acknowledged message is lost).
 */
export function forkedProcessCount(configured: number | "auto", cores: number): number {
  if (configured !== "auto") return configured;
  return cores <= 2 ? 0 : cores - 1;
}

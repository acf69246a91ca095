/**
 * A Lua script sent by its SHA1 (EVALSHA): Redis keeps the text once it has run it, so each
 * call carries 40 bytes instead of the script, and Redis does not hash the text again. A Redis
 * that does not hold it yet (first call, restarted, failed over, SCRIPT FLUSH, another Cluster
 * node) answers NOSCRIPT, and that one call is sent again with the text (EVAL), which also
 * loads it. Every script of mxspool goes through here: one place decides how scripts reach Redis.
 */
import { createHash } from "node:crypto";

type Arg = string | number | Buffer;

/** What a script needs of a connection: ioredis' Redis and Cluster both have these. */
export interface ScriptRunner {
  evalsha(sha: string, numKeys: number, ...args: Arg[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: Arg[]): Promise<unknown>;
}

export class LuaScript {
  readonly sha: string;

  constructor(readonly text: string) {
    this.sha = createHash("sha1").update(text).digest("hex");
  }

  /** Runs the script on `redis` with `keys` (KEYS) and `args` (ARGV); resolves with its reply. */
  run(redis: ScriptRunner, keys: readonly string[], args: readonly Arg[] = []): Promise<unknown> {
    return redis.evalsha(this.sha, keys.length, ...keys, ...args).catch((err: Error) => {
      if (!String(err?.message).startsWith("NOSCRIPT")) throw err;
      return redis.eval(this.text, keys.length, ...keys, ...args);
    });
  }
}

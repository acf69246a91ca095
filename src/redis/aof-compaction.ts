/**
 * Rewrites the embedded Redis's AOF when purged messages have left half or more of it dead
 * (policies/aof-rewrite.ts says when; Redis's own trigger is off in embedded.ts, because it
 * also rewrites a spool that is only growing). Every CHECK_EVERY_MS it reads the AOF's size
 * and the dataset's from INFO and, when due, asks for BGREWRITEAOF: Redis forks and writes the
 * live data to a new base while it goes on serving. Only for the embedded Redis: an admin's
 * own Redis keeps the rewrite rules they gave it.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../observability/log.js";
import { repeatedErrors } from "../observability/repeated-errors.js";
import { infoNumber } from "./info-field.js";
import { aofRewriteDue, type AofFacts } from "../../policies/aof-rewrite.js";

export const CHECK_EVERY_MS = 10_000;

/** The facts the policy needs, from the text of `INFO persistence memory`. */
export function aofFacts(info: string): AofFacts {
  const field = (name: string): number => infoNumber(info, name);
  return {
    aofBytes: field("aof_current_size"),
    liveBytes: field("used_memory_dataset"),
    busy: field("aof_rewrite_in_progress") === 1 || field("aof_rewrite_scheduled") === 1 || field("loading") === 1 || field("aof_enabled") !== 1,
  };
}

export class AofCompactor {
  private timer?: NodeJS.Timeout;
  private checking = false;

  constructor(private readonly redis: Redis, private readonly log: Logger, private readonly everyMs = CHECK_EVERY_MS) {}

  start(): this {
    this.timer = setInterval(() => { void this.check(); }, this.everyMs).unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Starts a rewrite when one is due; resolves whether it did. Never throws: a failed check is logged and tried again at the next tick. */
  async check(): Promise<boolean> {
    if (this.checking) return false;
    this.checking = true;
    try {
      const facts = aofFacts(await this.redis.info("persistence", "memory"));
      if (!aofRewriteDue(facts)) return false;
      await this.redis.bgrewriteaof();
      this.log.info({ event: "AOF_REWRITE", aofBytes: facts.aofBytes, liveBytes: facts.liveBytes }, "half or more of the embedded Redis's AOF is purged mail: rewriting it");
      return true;
    } catch (err) {
      repeatedErrors(this.log).warn({ event: "AOF_CHECK_FAILED", err: (err as Error).message }, "could not check or rewrite the embedded Redis's AOF");
      return false;
    } finally {
      this.checking = false;
    }
  }
}

/**
 * Collapses a storm of identical error lines into a few. With Redis gone every connection,
 * queue and worker reports the same "connect ECONNREFUSED" several times a second; the log
 * then says it once, and every `everyMs` one summary line with how many times it repeated
 * (`repeated: N`), until it stops. Two lines are identical when their level, fields and
 * message are; anything that differs (another domain, another error) is logged as new.
 * Only for errors that repeat by nature (connection errors): a message event must never go
 * through it.
 */
import type { Logger } from "./log.js";
import type { EventFields } from "./event-logger.js";

type Level = "error" | "warn";
interface Seen { level: Level; fields: Record<string, unknown>; msg: string; count: number; timer: NodeJS.Timeout }

export class RepeatedErrors {
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly log: Logger, private readonly everyMs = 10_000) {}

  error(fields: EventFields<"error">, msg: string): void { this.note("error", fields, msg); }
  warn(fields: EventFields<"warn">, msg: string): void { this.note("warn", fields, msg); }

  /** The fields were checked against the event table by error()/warn(), for this level. */
  private write(level: Level, fields: Record<string, unknown>, msg: string): void {
    if (level === "error") this.log.error(fields as EventFields<"error">, msg);
    else this.log.warn(fields as EventFields<"warn">, msg);
  }

  private note(level: Level, fields: Record<string, unknown>, msg: string): void {
    const key = `${level}\0${msg}\0${JSON.stringify(fields)}`;
    const s = this.seen.get(key);
    if (s) { s.count++; return; }
    this.write(level, fields, msg);
    const timer = setInterval(() => this.summarize(key), this.everyMs).unref();
    this.seen.set(key, { level, fields, msg, count: 0, timer });
  }

  /** One line for the repeats since the last one; a quiet period forgets the error. */
  private summarize(key: string): void {
    const s = this.seen.get(key)!;
    if (s.count === 0) { clearInterval(s.timer); this.seen.delete(key); return; }
    this.write(s.level, { ...s.fields, repeated: s.count, periodMs: this.everyMs }, `${s.msg} (repeated ${s.count} times)`);
    s.count = 0;
  }

  /** Logs the pending counts and forgets everything (before exiting). */
  flush(): void {
    for (const [key, s] of [...this.seen]) {
      if (s.count > 0) this.summarize(key);
      clearInterval(s.timer);
      this.seen.delete(key);
    }
  }
}

const perLogger = new WeakMap<Logger, RepeatedErrors>();

/** The collapser shared by every caller of this logger, so that one process keeps one count per error. */
export function repeatedErrors(log: Logger): RepeatedErrors {
  let r = perLogger.get(log);
  if (!r) perLogger.set(log, (r = new RepeatedErrors(log)));
  return r;
}

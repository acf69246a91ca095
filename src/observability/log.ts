/**
 * Structured JSON logs (pino) on stdout. Every event carries a stable `event` code
 * (PRIMARY_DOWN, SMTP_TRANSACTION, ...) so that logs can be grepped and counted, and
 * message events carry the queue id as `id`. The codes are listed in events.ts (docs/events.md).
 */
import { pino } from "pino";
import { checkEventCodes, type Logger } from "./event-logger.js";
import { prettyDestination, wantsPretty } from "./pretty-log.js";

export type { Logger };

/**
 * Lines are written asynchronously: under load the lines logged while one write is under way
 * go out together in the next, instead of a write() per line (measured: a synchronous
 * write per line was ~6% of an SMTP process's CPU at 700 msg/s). pino flushes what is left
 * when the process exits; a kill -9 can lose the last lines, as syslog can.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}, format?: "json" | "pretty" | "auto"): Logger {
  const dest = wantsPretty(format) ? prettyDestination() : pino.destination({ dest: 1, sync: false }); // log.format, pretty-log.ts
  return pino({ level, hooks: { logMethod: checkEventCodes() }, base: { pid: process.pid, ...bindings }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

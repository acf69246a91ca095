/**
 * Structured JSON logs (pino) on stdout. Every event carries a stable `event` code
 * (PRIMARY_DOWN, SMTP_TRANSACTION, ...) so that logs can be grepped and counted, and
 * message events carry the queue id as `id`. The codes are listed in events.ts (docs/events.md).
 */
import { pino } from "pino";
import { checkEventCodes, type Logger } from "./event-logger.js";
import { prettyDestination, wantsPretty } from "./pretty-log.js";

export type { Logger };

/** Lines are written once this many bytes wait, or at the end of the event loop's turn. */
export const LOG_BATCH_BYTES = 8 * 1024; // sonic-boom wants it below its maxWrite (16 KiB)

/**
 * Lines are written asynchronously and in batches: a write() per line cost ~6% of an SMTP
 * process's CPU at 700 msg/s when synchronous, and still ~3% of the one process's on the mix
 * benchmark when each line started its own asynchronous write (a message logs ~3 lines). Now
 * the lines of one turn of the event loop go out in one write at its end (setImmediate), or
 * sooner once LOG_BATCH_BYTES wait: no line waits for a timer. A 100 ms timer saved ~1.5% more
 * and made every reader of the log (tests, tail -f) see lines late. pino flushes what is left
 * when the process exits; a kill -9 can lose the last lines, as syslog can.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}, format?: "json" | "pretty" | "auto"): Logger {
  const dest = wantsPretty(format) ? prettyDestination() : batchedStdout(); // log.format, pretty-log.ts
  return pino({ level, hooks: { logMethod: checkEventCodes() }, base: { pid: process.pid, ...bindings }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

function batchedStdout(): pino.DestinationStream {
  const dest = pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES });
  const write = dest.write.bind(dest);
  let pending: NodeJS.Immediate | undefined;
  const flush = () => {
    pending = undefined;
    try { dest.flush(); } catch { /* the stream is closed: the process is ending */ }
  };
  dest.write = (line: string) => {
    const ok = write(line);
    pending ??= setImmediate(flush);
    return ok;
  };
  return dest;
}

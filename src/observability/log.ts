/**
 * Structured JSON logs (pino) on stdout. Every event carries a stable `event` code
 * (PRIMARY_DOWN, SMTP_TRANSACTION, ...) so that logs can be grepped and counted, and
 * message events carry the queue id as `id`. The codes are listed in events.ts (docs/events.md).
 */
import { pino } from "pino";
import { checkEventCodes, type Logger } from "./event-logger.js";
import { prettyDestination, wantsPretty } from "./pretty-log.js";

export type { Logger };

/** Lines are handed to the writer once this many bytes wait, or at the end of the event loop's turn. */
export const LOG_BATCH_BYTES = 8 * 1024;

/**
 * Lines are written asynchronously and in batches: a write() per line cost ~6% of an SMTP
 * process's CPU at 700 msg/s when synchronous, and still ~3% of the one process's on the mix
 * benchmark when each line started its own asynchronous write (a message logs ~3 lines). Now
 * the lines of one turn of the event loop are joined and handed to the writer at its end
 * (setImmediate), or sooner once LOG_BATCH_BYTES wait: no line waits for a timer or for the
 * next line (sonic-boom's own minLength batching kept a line back until another came when it
 * arrived during a write). A 100 ms timer saved ~1.5% more and made every reader of the log
 * (tests, tail -f) see lines late. What is left is written when the process exits; a kill -9
 * can lose the last lines, as syslog can.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}, format?: "json" | "pretty" | "auto"): Logger {
  const dest = wantsPretty(format) ? prettyDestination() : batchedStdout(); // log.format, pretty-log.ts
  return pino({ level, hooks: { logMethod: checkEventCodes() }, base: { pid: process.pid, ...bindings }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

/** The process's one batching writer to stdout, made by the first logger that needs it: every logger shares it (one exit hook, and the lines of all of them in one write per turn). */
let sharedStdout: pino.DestinationStream | undefined;

function batchedStdout(): pino.DestinationStream {
  if (sharedStdout) return sharedStdout;
  const out = pino.destination({ dest: 1, sync: false });
  let lines: string[] = [];
  let bytes = 0;
  let pending: NodeJS.Immediate | undefined;
  const flush = () => {
    if (pending) clearImmediate(pending);
    pending = undefined;
    if (!lines.length) return;
    const text = lines.join("");
    lines = [];
    bytes = 0;
    try { out.write(text); } catch { /* the stream is closed: the process is ending */ }
  };
  process.on("exit", () => { flush(); try { out.flushSync(); } catch { /* nothing more can be done */ } });
  sharedStdout = {
    write(line: string) {
      lines.push(line);
      bytes += line.length;
      if (bytes >= LOG_BATCH_BYTES) flush();
      else pending ??= setImmediate(flush);
    },
  };
  return sharedStdout;
}

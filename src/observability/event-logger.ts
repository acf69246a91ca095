/**
 * The logger's contract with the event table (events.ts), checked twice:
 * - at compile time, `Logger` is pino's logger narrowed so that each call must pass an object
 *   whose `event` is a code of EVENTS listed for that level: tsc rejects a new code that is
 *   not in the table, or logged at a level the entry does not list;
 * - at run time, `checkEventCodes` (a pino logMethod hook) catches what types cannot (casts,
 *   plain-JS callers): the line is still written, and an UNKNOWN_EVENT_CODE error line names
 *   the code once per process; under vitest (or NODE_ENV=test) it throws instead, so a test
 *   run cannot pass with an undocumented code.
 */
import type { LogFn, Logger as PinoLogger } from "pino";
import { type EventCodeAt, type EventLevel, isEventCode } from "./events.js";

/** The object a log call starts with: its event code, and any other fields. */
export type EventFields<L extends EventLevel> = { event: EventCodeAt<L> } & Record<string, unknown>;

export interface Logger {
  debug(fields: EventFields<"debug">, msg?: string): void;
  info(fields: EventFields<"info">, msg?: string): void;
  warn(fields: EventFields<"warn">, msg?: string): void;
  error(fields: EventFields<"error">, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

const TABLE = "src/observability/events.ts";

/** Whether an unknown code throws (tests) rather than being reported in the log. */
export function strictEventCodes(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.VITEST) || env.NODE_ENV === "test";
}

/** pino `hooks.logMethod`: reports (or, when strict, throws on) a line whose event code is not in the table. */
export function checkEventCodes(strict = strictEventCodes()) {
  const reported = new Set<string>();
  return function logMethod(this: PinoLogger, args: Parameters<LogFn>, method: LogFn, level: number): void {
    const first: unknown = args[0];
    const code = typeof first === "object" && first !== null ? (first as { event?: unknown }).event : undefined;
    if (!isEventCode(code)) {
      const name = typeof code === "string" ? code : `(${code === undefined ? "no event field" : typeof code})`;
      const msg = typeof args[1] === "string" ? args[1] : typeof first === "string" ? first : undefined;
      if (strict) throw new Error(`log event code ${name} is not in ${TABLE}: add an entry for it there (level, fields, meaning), then run \`npm run docs:events\``);
      if (!reported.has(name)) {
        reported.add(name);
        this.error({ event: "UNKNOWN_EVENT_CODE", code: name, loggedAt: this.levels.labels[level], text: msg }, `log event code ${name} is not in ${TABLE}`);
      }
    }
    method.apply(this, args);
  };
}

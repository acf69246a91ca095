/**
 * Structured JSON logs (pino) on stdout. Every event carries a stable `event` code
 * (PRIMARY_DOWN, MESSAGE_ACCEPTED, ...) so that logs can be grepped and counted, and
 * message events carry the queue id as `id`.
 */
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings }, timestamp: pino.stdTimeFunctions.isoTime });
}

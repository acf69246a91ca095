/**
 * `log.format: pretty` — the same events as the JSON lines, one readable line each for an
 * admin at a terminal: time, level, event code, message id, message, then the other fields
 * as key=value. A pure function from one pino JSON line to one text line, so the JSON stays
 * the one source and machines (the journal, tests) keep reading JSON.
 */
const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
/** Shown in fixed places or not at all (pid and hostname say little at a terminal). */
const PLACED = new Set(["time", "level", "event", "id", "msg", "pid", "hostname"]);

function value(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v && typeof v === "object" && "message" in v && typeof (v as { message: unknown }).message === "string") return JSON.stringify((v as { message: string }).message);
  return JSON.stringify(v);
}

export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try { o = JSON.parse(json); } catch { return json.endsWith("\n") ? json : json + "\n"; }
  const time = typeof o.time === "string" ? o.time.slice(11, 23) : typeof o.time === "number" ? new Date(o.time).toISOString().slice(11, 23) : "";
  const parts = [time, (LEVELS[o.level as number] ?? String(o.level)).padEnd(5), String(o.event ?? "-")];
  if (o.id !== undefined) parts.push(String(o.id));
  if (o.msg) parts.push(String(o.msg));
  const rest = Object.entries(o).filter(([k, v]) => !PLACED.has(k) && v !== undefined).map(([k, v]) => `${k}=${value(v)}`);
  return [...parts, ...(rest.length ? [" " + rest.join(" ")] : [])].join(" ") + "\n";
}

/** A pino destination that writes pretty lines to stdout (synchronously: a terminal is slow anyway). */
export const prettyDestination = () => ({ write: (line: string) => { process.stdout.write(prettyLine(line)); } });

/** `auto` is pretty when stdout is a terminal, JSON otherwise (journal, pipes, files). */
export const wantsPretty = (format: "json" | "pretty" | "auto" = "json") => format === "pretty" || (format === "auto" && process.stdout.isTTY === true);

/**
 * docs/events.md from the event table (src/observability/events.ts), and the scan of the
 * sources that says where each code is logged. `npm run docs:events` writes the doc;
 * test/unit/observability/events.test.ts uses the same functions to check that the doc is
 * current, that every code written in src/ is in the table, and that every entry is used.
 * The scan reads `event: "CODE"` and `event = ... "CODE"` (ternaries too) in the sources.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EVENTS, eventLevels, type EventSpec } from "../src/observability/events.js";

export const DOC_PATH = "docs/events.md";
const SOURCE_DIRS = ["src", "queues", "policies"];

/** The code literals after `event:` / `event =` up to the end of the expression. */
const EVENT_EXPR = /\bevent\s*[:=]\s*([^,;}]*)/g;
const CODE_LITERAL = /["'`]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)["'`]/g;

function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts")) out.push(p);
    }
  };
  for (const d of SOURCE_DIRS) walk(path.join(root, d));
  return out.sort();
}

export interface EventUse { file: string; line: number; level?: string }

/** The level of the log call an `event:` sits in, when the call opens before it in the same statement. */
function callLevel(text: string, at: number): string | undefined {
  const before = text.slice(Math.max(0, at - 400), at);
  const calls = [...before.matchAll(/\.(debug|info|warn|error)\(/g)];
  const last = calls[calls.length - 1];
  return last && !before.slice(last.index).includes(";") ? last[1] : undefined;
}

/** Code → where it is logged (file relative to root, line, and the call's level when it can be read). */
export function scanEventUses(root: string): Map<string, EventUse[]> {
  const uses = new Map<string, EventUse[]>();
  for (const file of sourceFiles(root)) {
    const rel = path.relative(root, file).split(path.sep).join("/");
    if (rel === "src/observability/events.ts") continue;
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(EVENT_EXPR)) {
      for (const c of m[1].matchAll(CODE_LITERAL)) {
        const at = m.index + m[0].length - m[1].length + c.index;
        const use = { file: rel, line: text.slice(0, at).split("\n").length, level: callLevel(text, m.index) };
        uses.set(c[1], [...(uses.get(c[1]) ?? []), use]);
      }
    }
  }
  return uses;
}

/** The files a code is logged in, sorted. */
export function filesOf(uses: EventUse[] | undefined): string[] {
  return [...new Set((uses ?? []).map((u) => u.file))].sort();
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderEventsDoc(events: Record<string, EventSpec>, uses: Map<string, EventUse[]>): string {
  const rows = Object.entries(events).map(([code, spec]) => {
    const where = filesOf(uses.get(code)).map((f) => `\`${f}\``).join(", ") || "—";
    const fields = spec.fields.map((f) => `\`${f}\``).join(", ") || "—";
    return `| \`${code}\` | ${eventLevels(spec).join(", ")} | ${fields} | ${cell(spec.meaning)} | ${where} |`;
  });
  return [
    "# Log events",
    "",
    "<!-- Generated from src/observability/events.ts by `npm run docs:events`. Do not edit by hand. -->",
    "",
    "mxspool logs JSON lines (pino) on stdout. Every line has `level` (20 debug, 30 info, 40 warn,",
    "50 error), `time`, `pid`, `role` (the process's roles), `msg` (a human sentence) and `event`, a",
    "stable code from the table below: grep and count by `event`, not by `msg`. Lines about one",
    "message carry its queue id as `id` (the id in `250 2.0.0 Ok: queued as <id>`).",
    "",
    `${Object.keys(events).length} codes. \`level\` is the level the code is logged at (several when call sites differ);`,
    "`fields` are the line's other fields (absent when empty); `logged in` are the source files.",
    "",
    "| event | level | fields | meaning | logged in |",
    "|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

function main(): void {
  const root = fileURLToPath(new URL("../..", import.meta.url)); // dist/scripts/ → the repository
  const doc = renderEventsDoc(EVENTS, scanEventUses(root));
  fs.writeFileSync(path.join(root, DOC_PATH), doc);
  console.log(`wrote ${DOC_PATH} (${Object.keys(EVENTS).length} event codes)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

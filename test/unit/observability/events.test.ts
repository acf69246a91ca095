/** The event table against the sources, the generated doc, and the logger's run-time check. */
import fs from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { DOC_PATH, filesOf, renderEventsDoc, scanEventUses } from "../../../scripts/events-doc.js";
import { checkEventCodes, strictEventCodes } from "../../../src/observability/event-logger.js";
import { EVENTS, eventLevels } from "../../../src/observability/events.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const uses = scanEventUses(root);

function capture(strict: boolean) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(c, _e, cb) { lines.push(JSON.parse(c.toString())); cb(); } });
  return { log: pino({ level: "debug", hooks: { logMethod: checkEventCodes(strict) } }, sink), lines };
}

describe("log event codes", () => {
  it("finds the codes logged in src/ (a ternary, a const, the filters) where they are written", () => {
    expect(filesOf(uses.get("SMTP_TRANSACTION"))).toEqual(["src/smtp/server.ts"]);
    expect(uses.get("SMTP_TRANSACTION")?.map((u) => u.level)).toEqual(["info", "info"]);
    expect(filesOf(uses.get("DSN_SENT"))).toEqual(["src/dsn/dsn-worker.ts"]);
    expect(filesOf(uses.get("DSN_REFUSED"))).toEqual(["src/dsn/dsn-worker.ts"]);
    expect(filesOf(uses.get("FILTER_TIMEOUT"))).toEqual(["src/filters/scanner-health.ts"]);
    expect(filesOf(uses.get("FILTER_ERROR"))).toEqual(["src/filters/scan-session.ts", "src/filters/scanner-health.ts"]);
    expect(uses.size).toBeGreaterThanOrEqual(80);
  });

  it("has every code written in src/ in the table", () => {
    const missing = [...uses].filter(([code]) => !Object.hasOwn(EVENTS, code)).map(([code, at]) => {
      const levels = [...new Set(at.map((u) => u.level ?? "info"))];
      const level = levels.length > 1 ? JSON.stringify(levels) : `"${levels[0]}"`;
      return `  ${code}: { level: ${level}, fields: [...], meaning: "..." },   // logged at ${at.map((u) => `${u.file}:${u.line}`).join(", ")}`;
    });
    expect(missing, `event codes logged but not in src/observability/events.ts; add to EVENTS:\n${missing.join("\n")}\nthen run \`npm run docs:events\``).toEqual([]);
  });

  it("logs every code of the table somewhere (no dead entries)", () => {
    const dead = Object.keys(EVENTS).filter((code) => !uses.has(code));
    expect(dead, `entries of EVENTS in src/observability/events.ts that nothing logs; remove them (or log them), then run \`npm run docs:events\``).toEqual([]);
  });

  it("lists for each code exactly the levels its call sites log it at", () => {
    const wrong: string[] = [];
    for (const [code, spec] of Object.entries(EVENTS)) {
      const at = uses.get(code) ?? [];
      const read = new Set(at.map((u) => u.level));
      const table = eventLevels(spec);
      for (const u of at) if (u.level && !table.includes(u.level as never)) wrong.push(`${code} is logged at ${u.level} in ${u.file}:${u.line}; the table says ${table.join(", ")}`);
      for (const l of table) if (!read.has(l) && !read.has(undefined)) wrong.push(`${code}: the table lists ${l}, no call site logs it at ${l}`);
    }
    expect(wrong, "fix the level of these entries in src/observability/events.ts, then run `npm run docs:events`").toEqual([]);
  });

  it("describes every code: a level, a meaning of a sentence or more, no field twice", () => {
    for (const [code, spec] of Object.entries(EVENTS)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(eventLevels(spec).length, code).toBeGreaterThan(0);
      expect(spec.meaning.length, code).toBeGreaterThan(20);
      expect(new Set(spec.fields).size, code).toBe(spec.fields.length);
    }
  });

  it("has docs/events.md listing every code, as generated from the table", () => {
    const doc = fs.readFileSync(path.join(root, DOC_PATH), "utf8");
    for (const code of Object.keys(EVENTS)) expect(doc).toContain(`| \`${code}\` |`);
    expect(doc === renderEventsDoc(EVENTS, uses), `${DOC_PATH} is out of date with src/observability/events.ts: run \`npm run docs:events\``).toBe(true);
  });
});

describe("the logger's run-time check", () => {
  it("writes a known code as it is, with no report", () => {
    const { log, lines } = capture(false);
    log.warn({ event: "PRIMARY_DOWN", domain: "example.com" }, "primary down");
    expect(lines).toMatchObject([{ event: "PRIMARY_DOWN", domain: "example.com", level: 40 }]);
  });

  it("reports an unknown code once per process as UNKNOWN_EVENT_CODE, and still writes the line", () => {
    const { log, lines } = capture(false);
    const untyped = log as unknown as { info(o: object, m: string): void };
    untyped.info({ event: "NOT_IN_TABLE", n: 1 }, "first");
    untyped.info({ event: "NOT_IN_TABLE", n: 2 }, "second");
    untyped.info({ n: 3 }, "no event at all");
    expect(lines.map((l) => [l.event, l.code])).toEqual([
      ["UNKNOWN_EVENT_CODE", "NOT_IN_TABLE"], ["NOT_IN_TABLE", undefined], ["NOT_IN_TABLE", undefined],
      ["UNKNOWN_EVENT_CODE", "(no event field)"], [undefined, undefined],
    ]);
    expect(lines[0]).toMatchObject({ level: 50, loggedAt: "info", text: "first" });
  });

  it("throws on an unknown code in tests, naming the table to add it to", () => {
    const { log, lines } = capture(true);
    expect(() => (log as unknown as { warn(o: object, m: string): void }).warn({ event: "NOT_IN_TABLE" }, "x"))
      .toThrow(/NOT_IN_TABLE is not in src\/observability\/events\.ts: add an entry/);
    expect(lines).toEqual([]);
  });

  it("is strict under vitest or NODE_ENV=test, lenient in production", () => {
    expect(strictEventCodes({ VITEST: "true" })).toBe(true);
    expect(strictEventCodes({ NODE_ENV: "test" })).toBe(true);
    expect(strictEventCodes({ NODE_ENV: "production" })).toBe(false);
  });
});

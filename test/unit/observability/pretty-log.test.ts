/**
 * log.format: the pretty line for each kind of event (a table), and the logger choosing
 * pretty or JSON as configured (`auto`: JSON when stdout is not a terminal, as under systemd).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { prettyLine } from "../../../src/observability/pretty-log.js";

const root = path.resolve(import.meta.dirname, "../../..");

describe("prettyLine", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["a message event: time, level, event, id, message, then the rest",
      { level: 30, time: "2026-11-22T10:04:05.123Z", pid: 7, role: "smtp", event: "MESSAGE_ACCEPTED", id: "00MWR173JMQVYF0J49W5", msg: "accepted", size: 1234, rcpts: ["a@example.test"] },
      '10:04:05.123 INFO  MESSAGE_ACCEPTED 00MWR173JMQVYF0J49W5 accepted  role=smtp size=1234 rcpts=["a@example.test"]'],
    ["an event without a message id", { level: 40, time: "2026-11-22T10:04:05.123Z", event: "PRIMARY_DOWN", msg: "primary down", domain: "example.test", error: "ECONNREFUSED 127.0.0.1:25" },
      '10:04:05.123 WARN  PRIMARY_DOWN primary down  domain=example.test error="ECONNREFUSED 127.0.0.1:25"'],
    ["an error object shows its message only", { level: 50, time: "2026-11-22T10:04:05.123Z", event: "REDIS_ERROR", msg: "redis", err: { message: "boom", stack: "at x" } },
      '10:04:05.123 ERROR REDIS_ERROR redis  err="boom"'],
    ["a line without an event", { level: 30, time: "2026-11-22T10:04:05.123Z", msg: "hi" }, "10:04:05.123 INFO  - hi"],
  ];
  for (const [name, obj, line] of cases) it(name, () => expect(prettyLine(JSON.stringify(obj) + "\n")).toBe(line + "\n"));

  it("passes a line that is not JSON through unchanged", () => expect(prettyLine("plain text")).toBe("plain text\n"));
});

describe("createLogger's format", () => {
  const log = (format: string) => spawnSync(process.execPath, ["--input-type=module", "-e",
    `import { createLogger } from ${JSON.stringify(path.join(root, "dist/src/observability/log.js"))};
     createLogger("info", { role: "smtp" }, ${JSON.stringify(format)}).info({ event: "SMTP_TRANSACTION", id: "00MWR173JMQVYF0J49W5" }, "accepted");`],
  { encoding: "utf8" }).stdout;

  it("pretty writes one readable line per event with the message id", () => {
    expect(log("pretty")).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}SMTP_TRANSACTION 00MWR173JMQVYF0J49W5 accepted {2}role=smtp\n$/);
  });

  it("json, and auto when stdout is not a terminal, write the JSON line", () => {
    for (const f of ["json", "auto"]) expect(JSON.parse(log(f))).toMatchObject({ event: "SMTP_TRANSACTION", id: "00MWR173JMQVYF0J49W5", level: 30 });
  });
});

describe("JSON lines are written in batches", () => {
  // Counts the write() calls sonic-boom makes (it looks fs.write up at each call).
  const run = (body: string) => spawnSync(process.execPath, ["--input-type=module", "-e",
    `import fs from "node:fs";
     import { createLogger } from ${JSON.stringify(path.join(root, "dist/src/observability/log.js"))};
     const writes = []; const write = fs.write;
     fs.write = (fd, data, ...rest) => {
       if (fd !== 1) return write(fd, data, ...rest);
       writes.push(String(data).split("\\n").length - 1);
       const done = rest.pop(); // globalThis.slowDisk: each write's completion comes 20 ms late
       return write(fd, data, ...rest, (...a) => globalThis.slowDisk ? setTimeout(() => done(...a), 20) : done(...a));
     };
     const log = createLogger("info", {}, "json");
     const line = (i) => log.info({ event: "SMTP_TRANSACTION", id: "00MWR173JMQVYF0J49W5", n: i }, "accepted");
     ${body}`], { encoding: "utf8" });

  it("the lines of one turn of the event loop go out in one write, at its end, with no timer", () => {
    const r = run(`for (let i = 0; i < 20; i++) line(i);
      const before = writes.length;
      setImmediate(() => setTimeout(() => { line(20); setImmediate(() => setTimeout(() => process.stderr.write(JSON.stringify({ before, writes })), 5)); }, 5));`);
    const { before, writes } = JSON.parse(r.stderr) as { before: number; writes: number[] };
    expect(before).toBe(0); // nothing written while the turn is still running
    expect(writes).toEqual([20, 1]); // 20 lines in one write; a lone line right after its turn
    expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l).n)).toEqual([...Array(21).keys()]);
  });

  it("a line logged while the previous write is under way is written after it, without waiting for another line", () => {
    const r = run(`globalThis.slowDisk = true;
      line(0);
      setImmediate(() => line(1)); // the write of line 0 is still under way
      setTimeout(() => process.stderr.write(JSON.stringify({ writes })), 100);`);
    expect((JSON.parse(r.stderr) as { writes: number[] }).writes).toEqual([1, 1]);
  });

  it("a turn that logs more than a batch writes as it goes, and nothing is lost at exit", () => {
    const r = run(`for (let i = 0; i < 400; i++) line(i); process.stderr.write(JSON.stringify({ writes }));`);
    expect((JSON.parse(r.stderr) as { writes: number[] }).writes.length).toBeGreaterThan(0);
    expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l).n)).toEqual([...Array(400).keys()]);
  });
});

/**
 * The message flows one way, and so do the imports. Every folder belongs to one layer:
 *   shared   config, mail (replies, ids, dates, header parsing), policies (pure verdicts),
 *            observability, redis (connections, keyspace), transport (SMTP client,
 *            connection pools, endpoints, MX) — in that order: each uses only those before it
 *   spool    queues, store — the durable medium between the steps (Postfix's queue files):
 *            every step after the 250 reads it
 *   steps    smtp → ingress → filters → outbound → delivery ⇄ monitor → dsn, in flow order: a step may
 *            use the steps after it (the one it hands a message to), never one before it
 *   edges    api, admin, webmail, cli and the composition root: may use anything below
 * A lower layer never imports a higher one. This test reads every import in the tree and
 * fails naming the file and the arrow that goes against the flow.
 */
import { describe, it, expect } from "vitest";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../../..");

/** Inside the shared layer there is an order too: a part uses only the parts before it. */
const SHARED = ["src/config", "src/mail", "policies", "src/observability", "src/redis", "src/transport"];
/** The spool in flow order: the stored message first, then the queue jobs that point at it. */
const SPOOL = ["src/store", "queues"];
const STEPS = ["src/smtp", "src/ingress", "src/filters", "src/outbound", "src/delivery", "src/monitor", "src/dsn", "src/continuity", "src/alerts"];
const EDGES = ["src/admin", "src/webmail", "src/submission", "src/doctor", "src/api", "src/console", "src/cli", "src"];
/**
 * Pairs that go both ways on purpose: delivery asks the monitor to probe, the monitor pauses
 * delivery; continuity publishes to the alert sink, and alerts implements that sink (the
 * contract's types live in src/continuity) and reads an event back for its reminders.
 */
const BOTH_WAYS = new Set(["src/monitor>src/delivery", "src/continuity>src/alerts"]);
/**
 * Files any layer may import: they import nothing of the project themselves (checked below),
 * so no arrow can go up through them. The script helper is one: src/observability's traffic
 * series, below src/redis, sends its script through it like every other caller.
 */
const LEAVES = new Set(["src/redis/lua-script.ts"]);

function folderOf(file: string): string {
  const rel = path.relative(root, file).split(path.sep);
  if (rel[0] === "src") return rel.length > 2 ? `src/${rel[1]}` : "src";
  return rel[0];
}

function rank(folder: string): [layer: number, order: number] {
  for (const [layer, list] of [SHARED, SPOOL, STEPS, EDGES].entries()) {
    const i = list.indexOf(folder);
    if (i >= 0) return [layer, i];
  }
  throw new Error(`folder ${folder} belongs to no layer: add it to test/unit/architecture/layers.test.ts`);
}

/** Why `from` may not import `to`, or null when it may. */
export function violation(from: string, to: string): string | null {
  if (from === to) return null;
  const [lf, of] = rank(from);
  const [lt, ot] = rank(to);
  if (lt > lf) return "a lower layer imports a higher one";
  if (lt < lf) return null;
  if (lf === 3) return null; // the edges may use each other (the API serves the webmail's routes)
  if (lf === 2) return ot > of || BOTH_WAYS.has(`${from}>${to}`) || BOTH_WAYS.has(`${to}>${from}`) ? null : "a step imports a step before it in the flow";
  return ot < of ? null : "a shared or spool part imports one after it";
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
    out.push(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, ".ts")));
  }
  return out;
}

const files = ["src", "queues", "policies"].flatMap((d) => sourceFiles(path.join(root, d)));
const arrows = new Map<string, string[]>();
for (const file of files) {
  for (const target of imports(file)) {
    if (LEAVES.has(path.relative(root, target))) continue;
    const key = `${folderOf(file)} -> ${folderOf(target)}`;
    if (folderOf(file) === folderOf(target)) continue;
    arrows.set(key, [...(arrows.get(key) ?? []), path.relative(root, file)]);
  }
}

describe("the import graph follows the flow", () => {
  it("places every folder in a layer", () => {
    for (const f of files) expect(() => rank(folderOf(f))).not.toThrow();
  });

  it("has no arrow against the flow", () => {
    const bad: string[] = [];
    for (const [arrow, from] of arrows) {
      const [a, b] = arrow.split(" -> ") as [string, string];
      const why = violation(a, b);
      if (why) bad.push(`${arrow}: ${why} (${[...new Set(from)].join(", ")})`);
    }
    console.log(`import graph: ${files.length} files, ${arrows.size} folder arrows\n  ${[...arrows.keys()].sort().join("\n  ")}`);
    expect(bad).toEqual([]);
  });

  it("imports nothing of the project from a leaf", () => {
    for (const leaf of LEAVES) expect(imports(path.join(root, leaf)).map((f) => path.relative(root, f))).toEqual([]);
  });

  it.each([
    ["src/ingress", "src/smtp", false],
    ["src/smtp", "src/ingress", true],
    ["src/dsn", "src/delivery", false],
    ["src/delivery", "src/dsn", true],
    ["src/delivery", "src/monitor", true],
    ["src/monitor", "src/delivery", true],
    ["src/delivery", "src/store", true],
    ["src/store", "src/delivery", false],
    ["policies", "src/filters", false],
    ["src/config", "src/filters", false],
    ["src/mail", "src/config", true],
    ["policies", "src/mail", true],
    ["src/mail", "policies", false],
    ["src/config", "src/mail", false],
    ["src/api", "src/admin", true],
    ["src/transport", "src/monitor", false],
    ["src/monitor", "src/continuity", true],
    ["src/continuity", "src/monitor", false],
  ])("the rule itself: %s may import %s → %s", (from, to, allowed) => {
    expect(violation(from as string, to as string) === null).toBe(allowed);
  });
});

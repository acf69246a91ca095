import { describe, expect, it } from "vitest";
import fs from "node:fs";
import { childEnv, childExecArgv, forkedProcessCount, SUPERVISOR_LAUNCH } from "../../../policies/process-memory.js";

describe("the forked processes' memory settings", () => {
  it.each([
    // parent's node arguments, NODE_OPTIONS, the child's node arguments
    [[], "", ["--max-semi-space-size=4", "--max-old-space-size=1024", "--initial-old-space-size=64"]],
    [["--cpu-prof"], "", ["--cpu-prof", "--max-semi-space-size=4", "--max-old-space-size=1024", "--initial-old-space-size=64"]],
    [["--max-old-space-size=1024"], "", ["--max-old-space-size=1024", "--max-semi-space-size=4", "--initial-old-space-size=64"]],
    [[], "--max-semi-space-size=16", ["--max-old-space-size=1024", "--initial-old-space-size=64"]],
    [[], "--max_old_space_size=512 --max-semi-space-size=8 --initial-old-space-size=128", []],
  ])("parent %j with NODE_OPTIONS %j: the child runs with %j", (parent, nodeOptions, child) => {
    expect(childExecArgv(parent, nodeOptions)).toEqual(child);
  });
  it.each([
    [{}, { MALLOC_ARENA_MAX: "2" }],
    [{ MALLOC_ARENA_MAX: "8" }, {}],
  ])("environment %j adds %j", (env, added) => {
    expect(childEnv(env)).toEqual(added);
  });

  // V8 sizes the supervisor's heap at start: only the launcher can give it the settings
  const launch = [...Object.entries(SUPERVISOR_LAUNCH.env).map(([k, v]) => `${k}=${v}`), ...SUPERVISOR_LAUNCH.nodeFlags];
  it.each([
    ["the command's #! line", "src/cli/main.ts", (t: string) => t.split("\n")[0]!],
    ["the .deb's /usr/bin/mxspool", "packaging/debian/mxspool", (t: string) => t],
    ["the Dockerfile", "Dockerfile", (t: string) => t],
  ])("%s starts the supervisor with SUPERVISOR_LAUNCH", (_name, file, part) => {
    const text = part(fs.readFileSync(file, "utf8")).replace(/["',]|:=|\$\{|\}/g, " ").replace(/ENV (\w+)=/g, "$1=").replace(/\s+/g, " ");
    for (const item of launch) {
      const [name, value] = item.split("=");
      expect(text, `${file} has ${item}`).toMatch(new RegExp(`${name}[= ]+${value}\\b`));
    }
  });
  it.each([
    ["auto", 1, 0], ["auto", 2, 0], ["auto", 4, 3], ["auto", 16, 15], [0, 16, 0], [1, 2, 1], [3, 2, 3],
  ] as const)("smtp.processes %j on %i cores: %i forked", (configured, cores, n) => {
    expect(forkedProcessCount(configured, cores)).toBe(n);
  });
});

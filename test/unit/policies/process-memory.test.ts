import { describe, expect, it } from "vitest";
import { childEnv, childExecArgv } from "../../../policies/process-memory.js";

describe("the forked processes' memory settings", () => {
  it.each([
    // parent's node arguments, NODE_OPTIONS, the child's node arguments
    [[], "", ["--max-semi-space-size=4", "--max-old-space-size=256"]],
    [["--cpu-prof"], "", ["--cpu-prof", "--max-semi-space-size=4", "--max-old-space-size=256"]],
    [["--max-old-space-size=1024"], "", ["--max-old-space-size=1024", "--max-semi-space-size=4"]],
    [[], "--max-semi-space-size=16", ["--max-old-space-size=256"]],
    [[], "--max_old_space_size=512 --max-semi-space-size=8", []],
  ])("parent %j with NODE_OPTIONS %j: the child runs with %j", (parent, nodeOptions, child) => {
    expect(childExecArgv(parent, nodeOptions)).toEqual(child);
  });
  it.each([
    [{}, { MALLOC_ARENA_MAX: "2" }],
    [{ MALLOC_ARENA_MAX: "8" }, {}],
  ])("environment %j adds %j", (env, added) => {
    expect(childEnv(env)).toEqual(added);
  });
});

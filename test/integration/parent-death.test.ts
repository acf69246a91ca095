/**
 * withParentDeathSignal (src/redis/parent-death.ts), with real processes: a child started
 * through it is the command itself (setpriv execs it: same PID, its own name) and is gone
 * soon after the process that started it is killed by SIGKILL, which no exit handler sees.
 * The embedded Redis relies on it, and so do the test helpers' servers when a run is aborted.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/net.js";
import { cliPath } from "../helpers/mxspool-process.js";

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const leftovers: number[] = [];
afterAll(() => { for (const pid of leftovers) if (alive(pid)) process.kill(pid, "SIGKILL"); });

/** Starts a node process that starts `sleep 300` through withParentDeathSignal; resolves with both PIDs. */
async function parentWithChild(signal: "SIGTERM" | "SIGKILL"): Promise<{ parent: number; child: number }> {
  const module = path.join(path.dirname(cliPath()), "../redis/parent-death.js");
  const script = `import { spawn } from "node:child_process";
import { withParentDeathSignal } from ${JSON.stringify(module)};
const p = spawn(...withParentDeathSignal("sleep", ["300"], ${JSON.stringify(signal)}), { stdio: "ignore" });
console.log(p.pid);
setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  leftovers.push(parent.pid!);
  let out = "";
  parent.stdout!.on("data", (d: Buffer) => { out += d.toString(); });
  await waitFor("the child's PID", () => /\d+\n/.test(out), 10_000);
  const child = Number(out.trim());
  leftovers.push(child);
  return { parent: parent.pid!, child };
}

describe("a child started with a parent-death signal", () => {
  it.each(["SIGKILL", "SIGTERM"] as const)("with %s: is the command itself, and is gone when its parent is killed by SIGKILL", async (signal) => {
    const { parent, child } = await parentWithChild(signal);
    await waitFor("setpriv to exec sleep", () => fs.readFileSync(`/proc/${child}/comm`, "utf8").trim() === "sleep", 5_000);
    expect(alive(child)).toBe(true);
    process.kill(parent, "SIGKILL");
    await waitFor(`sleep (${child}) to go with its parent`, () => !alive(child) || fs.readFileSync(`/proc/${child}/stat`, "utf8").split(") ")[1]!.startsWith("Z"), 5_000);
  });
});

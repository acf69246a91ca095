/**
 * Starting a child that dies with the thread that started it: `setpriv --pdeathsig SIG --
 * cmd args` (util-linux) asks the kernel to send SIG to the child when that thread ends, even
 * by SIGKILL, which no exit handler of ours would see. setpriv execs the command, so the
 * child keeps its PID. Without setpriv (or off Linux) the command runs as it is.
 */
import fs from "node:fs";
import path from "node:path";

/** The command and arguments that run `cmd args` with `signal` as its parent-death signal, when setpriv is there. */
export function withParentDeathSignal(cmd: string, args: string[], signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): [string, string[]] {
  const setpriv = (process.env.PATH ?? "").split(path.delimiter).map((d) => path.join(d, "setpriv")).find((f) => {
    try { fs.accessSync(f, fs.constants.X_OK); return true; } catch { return false; }
  });
  return setpriv && process.platform === "linux" ? [setpriv, ["--pdeathsig", signal, "--", cmd, ...args]] : [cmd, args];
}

/**
 * A real spamd for tests, offline: Debian's SpamAssassin rules, local tests only (-L: no DNS,
 * no network rules), no user configs (-x), no Bayes, on a free loopback port, as the
 * debian-spamd user (spamd refuses to keep root for its children). One test rule is added with
 * --cf so a "borderline" message has a known score: BORDERLINE_MARK in a body scores
 * BORDERLINE_SCORE (between the default tagScore 5 and rejectScore 10). Waits until spamd
 * answers PING (loading the rules takes a few seconds).
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { freePort, waitFor } from "./net.js";
import { withParentDeathSignal } from "../../src/redis/parent-death.js";

/** SpamAssassin's Generic Test for Unsolicited Bulk Email: scores 1000. */
export const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
export const BORDERLINE_MARK = "mxspool-borderline-test";
/** 7: other rules move a message by a point or so (ALL_TRUSTED −1 for our loopback client), it stays between 5 and 10. */
export const BORDERLINE_SCORE = 7;
export const BORDERLINE_RULE = "MXSPOOL_BORDERLINE";

export interface TestSpamd {
  port: number;
  /** The spamd parent (its children are its descendants). */
  pid: number;
  /** "tcp:127.0.0.1:PORT", as filters.spamassassin.address takes it. */
  address: string;
  output(): string;
  stop(): Promise<void>;
}

export function spamdPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ port, host: "127.0.0.1" });
    let got = "";
    s.setTimeout(3000, () => { s.destroy(); resolve(false); });
    s.on("connect", () => s.end("PING SPAMC/1.5\r\n\r\n"));
    s.on("data", (d) => { got += d.toString("latin1"); });
    s.on("close", () => resolve(/^SPAMD\/[\d.]+ 0 PONG/.test(got)));
    s.on("error", () => resolve(false));
  });
}

export async function startSpamd(opts: { children?: number } = {}): Promise<TestSpamd> {
  const port = await freePort();
  const children = opts.children ?? 4;
  const args = [
    "-L", "-x", "-u", "debian-spamd", "--listen", `127.0.0.1:${port}`,
    "-m", String(children), "--min-children", String(Math.min(2, children)), "--syslog", "stderr",
    "--cf", `body ${BORDERLINE_RULE} /${BORDERLINE_MARK}/`,
    "--cf", `score ${BORDERLINE_RULE} ${BORDERLINE_SCORE}.0`,
    "--cf", `describe ${BORDERLINE_RULE} Borderline test rule of mxspool's filter tests`,
    "--cf", "use_bayes 0", "--cf", "bayes_auto_learn 0",
  ];
  const proc: ChildProcess = spawn(...withParentDeathSignal("spamd", args, "SIGKILL"), { stdio: ["ignore", "ignore", "pipe"] });
  let out = "";
  proc.stderr!.on("data", (d: Buffer) => { out = (out + d.toString()).slice(-20_000); });
  let exited = false;
  proc.on("exit", () => { exited = true; });
  await waitFor("spamd to answer PING", async () => {
    if (exited) throw new Error(`spamd exited: ${out}`);
    return spamdPing(port);
  }, 60_000, 200);
  return {
    port, pid: proc.pid!, address: `tcp:127.0.0.1:${port}`, output: () => out,
    async stop() {
      if (exited) return;
      proc.kill("SIGTERM"); // the parent stops its children
      await waitFor("spamd to exit", () => exited, 15_000).catch(() => proc.kill("SIGKILL"));
    },
  };
}

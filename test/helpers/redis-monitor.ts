/**
 * Redis' MONITOR read over a plain socket. ioredis' `monitor()` has a race: when the MONITOR's
 * +OK and the first watched command arrive in one read, it parses that line before switching
 * the connection to monitoring and throws "Command queue state error" (seen in CI with
 * another client's INFO). Here every line after the +OK is a watched command.
 */
import net from "node:net";

export interface MonitoredCommand { source: string; args: string[] }

export interface RedisMonitor { seen: MonitoredCommand[]; close(): void }

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", a: "\x07", b: "\b", "\\": "\\", '"': '"' };

/** The arguments of one MONITOR line (`+time [db addr] "cmd" "arg" …`): Redis quotes each and escapes \\ \" \n \r \t \a \b and other bytes as \xHH. */
export function parseMonitorLine(line: string): MonitoredCommand | null {
  const m = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
  if (!m) return null;
  const args: string[] = [];
  const text = m[2]!;
  for (let i = 0; i < text.length;) {
    if (text[i] !== '"') { i++; continue; }
    let arg = "";
    for (i++; i < text.length && text[i] !== '"'; i++) {
      if (text[i] !== "\\") { arg += text[i]; continue; }
      const e = text[++i]!;
      if (e === "x") { arg += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16)); i += 2; } else arg += ESCAPES[e] ?? e;
    }
    args.push(arg);
    i++;
  }
  return { source: m[1]!, args };
}

/** Resolves once Redis has answered MONITOR: every command after that is in `seen`, in order. */
export function monitorRedis(port: number, host = "127.0.0.1"): Promise<RedisMonitor> {
  return new Promise((resolve, reject) => {
    const seen: MonitoredCommand[] = [];
    const sock = net.createConnection({ port, host }, () => sock.write("MONITOR\r\n"));
    let buf = "";
    let ok = false;
    sock.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      let at;
      while ((at = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, at);
        buf = buf.slice(at + 2);
        if (!ok) {
          if (line !== "+OK") return reject(new Error(`MONITOR answered ${line}`));
          ok = true;
          resolve({ seen, close: () => sock.destroy() });
          continue;
        }
        const cmd = parseMonitorLine(line);
        if (cmd) seen.push(cmd);
      }
    });
    sock.once("error", reject);
  });
}

/**
 * A real clamd for tests, offline: at set-up it builds a tiny signature database with sigtool
 * (MD5 signatures, a .hdb file) for the EICAR test file and for a harmless payload the tests
 * hide inside a zip, then starts clamd in the foreground on a private unix socket and a free
 * loopback TCP port, and waits until it answers PING. clamd reports these signatures with
 * the ".UNOFFICIAL" suffix (they are not from the official database). Also builds zip files
 * (deflated), so that the tests prove clamd unpacks archives.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { freePort, waitFor } from "./net.js";
import { withParentDeathSignal } from "../../src/redis/parent-death.js";

/** The EICAR anti-virus test file: harmless, detected by every scanner by convention. */
export const EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/** A harmless file our test database calls a virus; the tests only ever send it zipped. */
export const ZIP_PAYLOAD = Buffer.from(Array.from({ length: 40 }, (_, i) => `mxspool filter test payload line ${i}: harmless, flagged by the test database\r\n`).join(""));

export const SIGNATURES = { eicar: "Mxspool.Test.EICAR", payload: "Mxspool.Test.ZipPayload" } as const;

export interface TestClamd {
  pid: number;
  socketPath: string;
  tcpPort: number;
  /** "unix:/…/clamd.sock", as filters.clamav.address takes it. */
  address: string;
  tcpAddress: string;
  stop(): Promise<void>;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive (deflate) of the given files. */
export function zip(files: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, "utf8");
    const packed = zlib.deflateRawSync(f.data);
    const crc = crc32(f.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(0, 6); local.writeUInt16LE(8, 8);
    local.writeUInt16LE(0, 10); local.writeUInt16LE(0x21, 12); local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18); local.writeUInt32LE(f.data.length, 22); local.writeUInt16LE(name.length, 26); local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(0, 8);
    central.writeUInt16LE(8, 10); central.writeUInt16LE(0, 12); central.writeUInt16LE(0x21, 14); central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20); central.writeUInt32LE(f.data.length, 24); central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(files.length, 8); end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** sigtool --md5 over each sample, renamed to our signature names: the .hdb database. */
export function buildTestDatabase(dir: string): string {
  fs.mkdirSync(path.join(dir, "db"), { recursive: true });
  const lines: string[] = [];
  for (const [name, data] of [[SIGNATURES.eicar, Buffer.from(EICAR, "latin1")], [SIGNATURES.payload, ZIP_PAYLOAD]] as const) {
    const file = path.join(dir, `${name}.sample`);
    fs.writeFileSync(file, data);
    const out = execFileSync("sigtool", ["--md5", file], { encoding: "utf8" }).trim(); // "md5:size:file"
    const [md5, size] = out.split(":");
    if (!/^[0-9a-f]{32}$/.test(md5)) throw new Error(`sigtool --md5 printed ${JSON.stringify(out)}`);
    lines.push(`${md5}:${size}:${name}`);
    fs.rmSync(file);
  }
  const db = path.join(dir, "db", "mxspool-test.hdb");
  fs.writeFileSync(db, lines.join("\n") + "\n");
  return path.dirname(db);
}

function clamdPing(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ path: socketPath });
    let got = "";
    s.setTimeout(2000, () => { s.destroy(); resolve(false); });
    s.on("connect", () => s.write("zPING\0"));
    s.on("data", (d) => { got += d.toString("latin1"); });
    s.on("close", () => resolve(got.startsWith("PONG")));
    s.on("error", () => resolve(false));
  });
}

export async function startClamd(): Promise<TestClamd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-clamd-"));
  const dbDir = buildTestDatabase(dir);
  const socketPath = path.join(dir, "clamd.sock");
  const tcpPort = await freePort();
  const conf = path.join(dir, "clamd.conf");
  fs.writeFileSync(conf, [
    "Foreground yes", `DatabaseDirectory ${dbDir}`, `LocalSocket ${socketPath}`, "FixStaleSocket yes",
    `TCPSocket ${tcpPort}`, "TCPAddr 127.0.0.1", `TemporaryDirectory ${dir}`, "LogSyslog no", `LogFile ${path.join(dir, "clamd.log")}`,
    "MaxThreads 10", "SelfCheck 0", "",
  ].join("\n"));
  const proc: ChildProcess = spawn(...withParentDeathSignal("clamd", ["-c", conf], "SIGKILL"), { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (d: Buffer) => { stderr += d.toString(); });
  let exited = false;
  proc.on("exit", () => { exited = true; });
  await waitFor("clamd to answer PING", async () => {
    if (exited) throw new Error(`clamd exited: ${stderr}${fs.existsSync(path.join(dir, "clamd.log")) ? fs.readFileSync(path.join(dir, "clamd.log"), "utf8") : ""}`);
    return clamdPing(socketPath);
  }, 30_000, 100);
  return {
    pid: proc.pid!, socketPath, tcpPort, address: `unix:${socketPath}`, tcpAddress: `tcp:127.0.0.1:${tcpPort}`,
    async stop() {
      if (!exited) {
        proc.kill("SIGTERM");
        await waitFor("clamd to exit", () => exited, 10_000).catch(() => proc.kill("SIGKILL"));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

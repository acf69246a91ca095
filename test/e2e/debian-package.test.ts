/**
 * The Debian package as an admin gets it: scripts/build-deb.sh builds it from this checkout,
 * dpkg installs it into a scratch root (`--root` with `--force-script-chrootless`, so the real
 * maintainer scripts run against that root and nothing touches this machine), and then: the
 * file list and control fields, the mxspool user and the spool's ownership, the unit checked
 * by systemd-analyze (as the package ships it, with the units it refers to), the installed
 * `mxspool check-config`, the installed mxspool starting and `mxspool status` working without
 * a token, and a purge.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/net.js";

const root = path.resolve(import.meta.dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-deb-"));
const scratch = path.join(tmp, "root");
const cleanups: (() => void)[] = [];
afterAll(() => { for (const c of cleanups.reverse()) c(); fs.rmSync(tmp, { recursive: true, force: true }); });

const sh = (cmd: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd ?? root, env: { ...process.env, ...opts.env }, timeout: 300_000 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
};
const dpkg = (...args: string[]) => sh("dpkg", [`--root=${scratch}`, "--log=/dev/null", "--force-depends", "--force-script-chrootless", ...args]);
const lookup = (file: string, name: string) => fs.readFileSync(path.join(scratch, file), "utf8").split("\n").find((l) => l.startsWith(`${name}:`))?.split(":");

let deb = "";

beforeAll(() => {
  const built = sh("bash", ["scripts/build-deb.sh"], { env: { OUT: path.join(tmp, "out") } });
  expect(built.status, built.stderr).toBe(0);
  deb = built.stdout.trim().split("\n").pop()!;
  // an empty system: a dpkg database and the account files useradd --prefix edits
  for (const d of ["var/lib/dpkg/updates", "var/lib/dpkg/info", "etc"]) fs.mkdirSync(path.join(scratch, d), { recursive: true });
  fs.writeFileSync(path.join(scratch, "var/lib/dpkg/status"), "");
  fs.writeFileSync(path.join(scratch, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n");
  fs.writeFileSync(path.join(scratch, "etc/group"), "root:x:0:\n");
  fs.writeFileSync(path.join(scratch, "etc/shadow"), "root:*:19000:0:99999:7:::\n", { mode: 0o640 });
  fs.writeFileSync(path.join(scratch, "etc/gshadow"), "root:*::\n", { mode: 0o640 });
}, 300_000);

describe("the Debian package", () => {
  it("holds the program, its production modules, the command, the conffile, the spool and the unit, with the right relations", () => {
    const list = sh("dpkg-deb", ["-c", deb]).stdout.split("\n").map((l) => l.split(/\s+/).slice(5).join(" ").replace(/^\.\//, "/"));
    for (const f of ["/usr/bin/mxspool", "/etc/mxspool/mxspool.yaml", "/var/lib/mxspool/", "/lib/systemd/system/mxspool.service",
      "/usr/lib/mxspool/dist/src/cli/main.js", "/usr/lib/mxspool/node_modules/bullmq/package.json", "/usr/lib/mxspool/node_modules/ioredis/package.json",
      "/usr/share/doc/mxspool/README.md", "/usr/share/doc/mxspool/mxspool.example.yaml"]) expect(list, f).toContain(f);
    expect(list.filter((f) => /node_modules\/(vitest|typescript|playwright-core)\//.test(f))).toEqual([]); // no dev dependencies
    expect(list.filter((f) => f.startsWith("/usr/lib/mxspool/dist/test/"))).toEqual([]);
    const info = sh("dpkg-deb", ["-f", deb]).stdout;
    expect(info).toMatch(/^Depends: nodejs \(>= 20\), redis-server/m);
    expect(info).toMatch(/^Recommends: clamav-daemon, spamd$/m);
    expect(sh("sh", ["-c", `dpkg-deb --info ${deb} conffiles`]).stdout.trim()).toBe("/etc/mxspool/mxspool.yaml");
  });

  it("installs into a scratch root: the mxspool user owns the spool, the config is root:mxspool 0640", () => {
    const r = dpkg("-i", deb);
    expect(r.status, r.stderr).toBe(0);
    expect(dpkg("-s", "mxspool").stdout).toMatch(/^Status: install ok installed$/m);
    const user = lookup("etc/passwd", "mxspool");
    expect(user?.slice(5)).toEqual(["/var/lib/mxspool", "/usr/sbin/nologin"]);
    expect(lookup("etc/group", "mxspool")).toBeTruthy();
    expect(fs.readFileSync("/etc/passwd", "utf8")).not.toMatch(/^mxspool:/m); // this machine is untouched
    const spool = fs.statSync(path.join(scratch, "var/lib/mxspool"));
    expect([spool.uid, spool.gid, spool.mode & 0o777]).toEqual([Number(user![2]), Number(user![3]), 0o750]);
    const conf = fs.statSync(path.join(scratch, "etc/mxspool/mxspool.yaml"));
    expect([conf.uid, conf.gid, conf.mode & 0o777]).toEqual([0, Number(user![3]), 0o640]);
  });

  it("ships a unit systemd-analyze verifies without a warning, with the capability, the restart policy and the hardening", () => {
    const unit = fs.readFileSync(path.join(scratch, "lib/systemd/system/mxspool.service"), "utf8");
    for (const line of ["Type=simple", "User=mxspool", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "Restart=on-failure", "ProtectSystem=strict",
      "ReadWritePaths=/var/lib/mxspool", "NoNewPrivileges=yes", "ExecReload=/bin/kill -HUP $MAINPID", "StandardOutput=journal",
      "ExecStart=/usr/bin/mxspool start --config /etc/mxspool/mxspool.yaml"]) expect(unit.split("\n"), line).toContain(line);
    const analyze = sh("sh", ["-c", "command -v systemd-analyze"]);
    if (analyze.status !== 0) {
      console.log("systemd-analyze is not installed: the unit was checked statically only (the lines above)");
      return;
    }
    // verify resolves commands and the targets the unit names inside --root: a copy with those
    const v = path.join(tmp, "verify");
    fs.cpSync(scratch, v, { recursive: true, verbatimSymlinks: true });
    fs.mkdirSync(path.join(v, "bin"), { recursive: true });
    fs.copyFileSync("/bin/kill", path.join(v, "bin/kill"));
    for (const f of fs.readdirSync("/lib/systemd/system")) {
      if (/\.(target|slice|socket)$/.test(f)) fs.cpSync(path.join("/lib/systemd/system", f), path.join(v, "lib/systemd/system", f), { verbatimSymlinks: true });
    }
    const r = sh("systemd-analyze", ["verify", `--root=${v}`, "/lib/systemd/system/mxspool.service"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).toBe("");
  });

  it("runs: the installed check-config accepts the shipped config; the installed mxspool starts and `mxspool status` works without a token", async () => {
    const bin = path.join(scratch, "usr/bin/mxspool");
    const check = sh(bin, ["check-config", path.join(scratch, "etc/mxspool/mxspool.yaml")], { cwd: tmp });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/ok \(1 domain\(s\): example\.test\)/);
    // with no --config and no MXSPOOL_CONFIG the installed command reads /etc/mxspool/mxspool.yaml (absent on this machine)
    const etc = sh(bin, ["check-config"], { cwd: tmp, env: { MXSPOOL_CONFIG: "" } });
    expect(etc.stderr).toMatch(/^invalid configuration in \/etc\/mxspool\/mxspool\.yaml:/);

    // the shipped config with this test's ports and a spool of its own (this is not /var/lib)
    const cfg = path.join(tmp, "installed.yaml");
    const doc = YAML.parse(fs.readFileSync(path.join(scratch, "etc/mxspool/mxspool.yaml"), "utf8"));
    Object.assign(doc, { dataDir: path.join(tmp, "spool"), smtp: { listen: [`127.0.0.1:${await freePort()}`], processes: 1 }, http: { listen: `127.0.0.1:${await freePort()}` } });
    fs.writeFileSync(cfg, YAML.stringify(doc));
    const proc = spawn(bin, ["start"], { cwd: tmp, env: { ...process.env, MXSPOOL_CONFIG: cfg, MXSPOOL_ADMIN_TOKEN: "" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let exited: number | null = null;
    proc.stdout.on("data", (d) => { out += d; });
    proc.stderr.on("data", (d) => { out += d; });
    proc.on("exit", (code) => { exited = code; });
    cleanups.push(() => { if (exited === null) proc.kill("SIGKILL"); });
    await waitFor("installed mxspool READY", () => { if (exited !== null) throw new Error(`exited ${exited}: ${out.slice(-600)}`); return out.includes('"event":"READY"'); }, 90_000);
    const status = sh(bin, ["status"], { cwd: tmp, env: { MXSPOOL_CONFIG: cfg, MXSPOOL_ADMIN_TOKEN: "" } });
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toContain("example.test");
    proc.kill("SIGTERM");
    await waitFor("installed mxspool STOPPED", () => out.includes('"event":"STOPPED"'), 90_000);
  });

  it("purges: the spool and the conffile go", () => {
    const r = dpkg("--purge", "mxspool");
    expect(r.status, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(scratch, "var/lib/mxspool"))).toBe(false);
    expect(fs.existsSync(path.join(scratch, "etc/mxspool/mxspool.yaml"))).toBe(false);
    expect(fs.existsSync(path.join(scratch, "usr/lib/mxspool"))).toBe(false);
  });
});

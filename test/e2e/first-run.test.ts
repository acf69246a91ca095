/**
 * The first hour of a new admin: `npm start` on a checkout without a config writes one with
 * safe local defaults (`mxspool init --yes`) and starts a relay on loopback; `mxspool init`
 * from flags; and `mxspool status` / `queue` on the box with no token configured, through the
 * token file the service keeps in dataDir (readable by root and the service user only).
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { cliPath, MxspoolProcess } from "../helpers/mxspool-process.js";
import { freePort, waitFor } from "../helpers/net.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { startRedis } from "../helpers/redis-server.js";
import { startDnsServer } from "../helpers/dns-server.js";

const root = path.resolve(import.meta.dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-first-run-"));
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => { for (const c of cleanups.reverse()) await c(); fs.rmSync(tmp, { recursive: true, force: true }); });

const cli = (args: string[], env: Record<string, string> = {}, opts: { uid?: number; gid?: number } = {}) =>
  spawnSync(process.execPath, [cliPath(), ...args], { encoding: "utf8", env: { ...process.env, MXSPOOL_ADMIN_TOKEN: "", MXSPOOL_CONFIG: "", ...env }, ...opts });

/** The CLI without blocking this process: the test's DNS server and primary answer meanwhile. */
function cliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cliPath(), ...args], { env: { ...process.env, MXSPOOL_ADMIN_TOKEN: "", MXSPOOL_CONFIG: "" } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => { stdout += d; });
    p.stderr.on("data", (d) => { stderr += d; });
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("mxspool init", () => {
  it("writes a config from flags that check-config accepts, with a token printed once and the file mode 0600, and checks the primaries and MX records", async () => {
    const dns = await startDnsServer({
      "example.org": { MX: [{ priority: 10, exchange: "mail.example.org" }, { priority: 20, exchange: "mx2.example.org" }] },
      "example.net": { MX: [{ priority: 10, exchange: "mail.example.net" }] },
      "mail.example.net": { A: ["127.0.0.1"] },
    });
    cleanups.push(() => dns.stop());
    const primary = new RecordingPrimary({ port: await freePort() });
    await primary.start();
    cleanups.push(() => primary.stop());
    const file = path.join(tmp, "init/mxspool.yaml");
    const r = await cliAsync(["init", "--yes", "--config", file, "--hostname", "mx2.example.org", "--domain", "example.org", "--domain", "example.net",
      "--primary", `example.org=127.0.0.1:9,127.0.0.1:${primary.port}`, "--primary", "example.net=mx", "--recipients", "verify", "--listen", "127.0.0.1:2525",
      "--dns", `127.0.0.1:${dns.port}`]);
    expect(r.status, r.stderr).toBe(0);
    const doc = YAML.parse(fs.readFileSync(file, "utf8"));
    expect(doc.domains).toEqual({ "example.org": { primary: ["127.0.0.1:9", `127.0.0.1:${primary.port}`], recipients: { verify: true } }, "example.net": { primary: "mx", recipients: { verify: true } } });
    expect(doc.dns).toEqual({ servers: [`127.0.0.1:${dns.port}`] });
    expect(r.stdout).toContain("ok example.org MX: 10 mail.example.org, 20 mx2.example.org\n");
    expect(r.stdout).toContain("!! example.net MX: 10 mail.example.net (mx2.example.org is not listed yet)\n");
    expect(r.stdout).toMatch(new RegExp(`ok example\\.org primary 127\\.0\\.0\\.1:${primary.port}: 220 `));
    expect(r.stdout).toMatch(/-- example\.net primary mail\.example\.net:25: not answering now|ok example\.net primary mail\.example\.net:25: 220/);
    expect(r.stdout).toContain(`shown only now): ${doc.http.adminToken}`);
    expect(doc.http.adminToken).toMatch(/^[\w-]{43}$/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(r.stdout).toMatch(/ok SMTP listen 127\.0\.0\.1:2525: free|!! SMTP listen 127\.0\.0\.1:2525: in use/);
    expect(r.stdout).toMatch(/example\.org primary 127\.0\.0\.1:9: not answering now/);
    expect(r.stdout).toMatch(/example\.org\.\tIN MX 20 mx2\.example\.org\./);
    expect(cli(["check-config", file]).status).toBe(0);
    const again = cli(["init", "--yes", "--config", file]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/exists already; run with --force/);
  });
});

describe("npm start on a checkout without a config", () => {
  it("writes one with local defaults, starts a relay on loopback that swaks can use, and says what to do next", async () => {
    const primary = new RecordingPrimary({ port: await freePort() });
    await primary.start();
    const smtpPort = await freePort();
    const cfg = path.join(tmp, "fresh/mxspool.yaml");
    fs.mkdirSync(path.dirname(cfg));
    const proc = spawn("npm", ["start", "--silent"], {
      cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true,
      env: { ...process.env, MXSPOOL_CONFIG: cfg, MXSPOOL_INIT_ARGS: `--listen 127.0.0.1:${smtpPort} --http 127.0.0.1:${await freePort()} --primary 127.0.0.1:${primary.port}` },
    });
    const signalGroup = (sig: NodeJS.Signals) => { try { process.kill(-proc.pid!, sig); } catch { /* gone */ } };
    let out = "";
    let exited: number | null = null;
    proc.stdout.on("data", (d) => { out += d; });
    proc.stderr.on("data", (d) => { out += d; });
    proc.on("exit", (code) => { exited = code; });
    cleanups.push(async () => { await primary.stop(); signalGroup("SIGKILL"); });
    await waitFor("mxspool READY", () => { if (exited !== null) throw new Error(`npm start exited ${exited}: ${out.slice(-800)}`); return out.includes('"event":"READY"'); }, 120_000);
    expect(out).toMatch(/First run: .*mxspool\.yaml was written with local defaults/);
    expect(out).toContain(`swaks --server 127.0.0.1:${smtpPort} --to postmaster@example.test`);
    const doc = YAML.parse(fs.readFileSync(cfg, "utf8"));
    expect(doc.smtp.listen).toEqual([`127.0.0.1:${smtpPort}`]);
    expect(Object.keys(doc.domains)).toEqual(["example.test"]);

    const swaks = spawnSync("swaks", ["--server", `127.0.0.1:${smtpPort}`, "--from", "alice@sender.test", "--to", "postmaster@example.test", "--body", "first run"], { encoding: "utf8" });
    expect(swaks.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as [0-9A-Z]{20}/);
    await waitFor("the message at the primary", () => primary.received.length === 1, 30_000);
    const status = cli(["status", "--config", cfg]);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toContain("example.test");
    signalGroup("SIGTERM");
    await waitFor("mxspool STOPPED", () => out.includes('"event":"STOPPED"'), 90_000);
  });
});

describe("mxspool status on the box without a configured token", () => {
  it("works for root through dataDir/admin.token (0600), not for other users, and not with http.localToken off", async () => {
    const redis = await startRedis();
    const mx = new MxspoolProcess({
      smtp: { listen: [`127.0.0.1:${await freePort()}`], processes: 1, reverseLookup: false },
      http: { listen: `127.0.0.1:${await freePort()}` }, redis: { url: redis.url },
      domains: { "example.test": { primary: ["127.0.0.1:9"] } }, monitor: { interval: "1s", timeout: "1s" },
    });
    cleanups.push(async () => { await mx.stop(); await redis.stop(); mx.cleanup(); });
    await mx.start();
    const tokenFile = path.join(mx.dir, "data/admin.token");
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(mx.events("API_NO_TOKEN")).toHaveLength(0);

    const status = cli(["status", "--config", mx.configFile]);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toContain("example.test");
    expect(cli(["queue", "ls"], { MXSPOOL_CONFIG: mx.configFile }).status).toBe(0);
    expect(fs.readFileSync(mx.configFile, "utf8")).not.toContain("adminToken");

    // another user: the config copied where it can read it, the token file still mxspool's own
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-shared-"));
    cleanups.push(() => fs.rmSync(shared, { recursive: true, force: true }));
    fs.chmodSync(shared, 0o755);
    fs.chmodSync(mx.dir, 0o755);
    fs.chmodSync(path.join(mx.dir, "data"), 0o755);
    const copy = path.join(shared, "mxspool.yaml");
    fs.writeFileSync(copy, YAML.stringify({ ...YAML.parse(fs.readFileSync(mx.configFile, "utf8")), dataDir: path.join(mx.dir, "data") }), { mode: 0o644 });
    const nobody = cli(["status", "--config", copy], {}, { uid: 65534, gid: 65534 });
    expect(nobody.status).toBe(2);
    expect(nobody.stderr).toMatch(/admin\.token cannot be read \(EACCES\): run this as root or as the user mxspool runs as, or set MXSPOOL_ADMIN_TOKEN/);

    const off = path.join(shared, "off.yaml");
    fs.writeFileSync(off, YAML.stringify({ ...YAML.parse(fs.readFileSync(copy, "utf8")), http: { listen: "127.0.0.1:9", localToken: false } }));
    const r = cli(["status", "--config", off]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no http\.adminToken in .*off\.yaml \(nor MXSPOOL_ADMIN_TOKEN\), and http\.localToken is off/);
  });
});

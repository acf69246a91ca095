/**
 * The CLI as an admin uses it: `check-config` verdicts and exit codes, `--roles`, and the
 * README's start command (scripts/start.sh) bringing up a relay that swaks can talk to and
 * that drains to a primary.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { cliPath, MxspoolProcess } from "../helpers/mxspool-process.js";
import { freePort, portOpen, waitFor } from "../helpers/net.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { startRedis } from "../helpers/redis-server.js";

const root = path.resolve(import.meta.dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-cli-"));
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => { for (const c of cleanups.reverse()) await c(); fs.rmSync(tmp, { recursive: true, force: true }); });

const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [cliPath(), ...args], { encoding: "utf8", env: { ...process.env, ...env } });

describe("mxspool check-config", () => {
  it("accepts the shipped example and exits 0", () => {
    const r = run(["check-config", path.join(root, "policies/mxspool.example.yaml")]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ok \(1 domain\(s\): example\.com\)/);
  });

  it("exits 2 naming each bad key", () => {
    const f = path.join(tmp, "bad.yaml");
    fs.writeFileSync(f, "smtp: { maxMessageSize: big, listne: [] }\ndomains:\n  example.com: { primary: [mail.example.com] }\n");
    const r = run(["check-config", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("smtp.maxMessageSize:");
    expect(r.stderr).toContain("smtp.listne: unknown key");
    expect(r.stderr).toContain('domains.example.com.primary.0: expected "host:port"');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it("finds the file through MXSPOOL_CONFIG and refuses unknown commands and roles", () => {
    expect(run(["check-config"], { MXSPOOL_CONFIG: path.join(root, "policies/mxspool.example.yaml") }).status).toBe(0);
    const bad = run(["frobnicate"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown command frobnicate/);
    const roles = run(["start", "--config", path.join(root, "policies/mxspool.example.yaml"), "--roles", "smtp,mailer"]);
    expect(roles.status).toBe(2);
    expect(roles.stderr).toMatch(/--roles: unknown role mailer/);
  });
});

describe("mxspool start --roles", () => {
  it("runs only the roles asked for: an http-only node opens no SMTP port", async () => {
    const redis = await startRedis();
    const smtpPort = await freePort();
    const httpPort = await freePort();
    const mx = new MxspoolProcess({
      smtp: { listen: [`127.0.0.1:${smtpPort}`], processes: 1 }, http: { listen: `127.0.0.1:${httpPort}` },
      redis: { url: redis.url }, domains: { "example.test": { primary: ["127.0.0.1:9"] } },
    });
    cleanups.push(async () => { await mx.stop(); await redis.stop(); mx.cleanup(); });
    await mx.start(["--roles", "http"]);
    expect(await portOpen(smtpPort)).toBe(false);
    expect((await fetch(`http://127.0.0.1:${httpPort}/api/health`)).status).toBe(200);
    expect(mx.events("PRIMARY_DOWN")).toHaveLength(0); // the monitor belongs to the worker role
  });
});

describe("the README's start command", () => {
  it("brings up a relay on the embedded defaults that accepts mail (swaks) and drains it to the primary", async () => {
    const primary = new RecordingPrimary({ port: await freePort() });
    await primary.start();
    const smtpPort = await freePort();
    const cfg = path.join(tmp, "mxspool.yaml");
    fs.writeFileSync(cfg, YAML.stringify({
      hostname: "mx2.example.test", dataDir: path.join(tmp, "data"),
      smtp: { listen: [`127.0.0.1:${smtpPort}`], processes: 1 }, http: { listen: `127.0.0.1:${await freePort()}` },
      domains: { "example.test": { primary: [`127.0.0.1:${primary.port}`] } }, monitor: { interval: "1s" },
    }));
    // its own process group, so that a signal reaches npm and mxspool alike, as Ctrl-C or systemd does
    const proc = spawn("npm", ["start", "--silent", "--", "--config", cfg], { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const signalGroup = (sig: NodeJS.Signals) => { try { process.kill(-proc.pid!, sig); } catch { /* gone */ } };
    let out = "";
    proc.stdout.on("data", (d) => { out += d; });
    proc.stderr.on("data", (d) => { out += d; });
    cleanups.push(async () => { await primary.stop(); signalGroup("SIGKILL"); });
    await waitFor("mxspool READY", () => out.includes('"event":"READY"'), 120_000);

    const swaks = spawnSync("swaks", ["--server", `127.0.0.1:${smtpPort}`, "--from", "alice@sender.test", "--to", "bob@example.test",
      "--helo", "client.test", "--header", "X-Test-Id: swaks-1", "--body", "hello from swaks"], { encoding: "utf8" });
    expect(swaks.status).toBe(0);
    expect(swaks.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as [0-9A-Z]{20}/);
    const relay = spawnSync("swaks", ["--server", `127.0.0.1:${smtpPort}`, "--from", "spam@sender.test", "--to", "victim@elsewhere.test", "--quit-after", "RCPT"], { encoding: "utf8" });
    expect(relay.stdout).toMatch(/<\*\* 550 5\.7\.1 <victim@elsewhere\.test>: Relay access denied/);

    await waitFor("the message at the primary", () => primary.received.length === 1, 30_000);
    expect(primary.received[0].rcpts).toEqual(["bob@example.test"]);
    expect(primary.received[0].body).toContain("hello from swaks");
    signalGroup("SIGTERM");
    await waitFor("mxspool STOPPED", () => out.includes('"event":"STOPPED"'), 60_000);
    expect(fs.existsSync(path.join(tmp, "data/redis/redis.pid"))).toBe(false);
  });
});

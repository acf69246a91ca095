/**
 * `mxspool user add|rm|passwd|ls` as an admin runs it: the users file holds scrypt hashes
 * only (mode 0600), passwords are never echoed, exit codes tell usage (2) from failures (1),
 * and a running webmail takes every change at once, without a restart.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { cliPath } from "../helpers/mxspool-process.js";
import { verifyPassword } from "../../src/webmail/password-hash.js";
import { startWebmailStack, WebClient } from "../helpers/webmail-stack.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-user-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const config = path.join(tmp, "mxspool.yaml");
fs.writeFileSync(config, YAML.stringify({ dataDir: path.join(tmp, "data"), domains: { "example.test": { primary: ["127.0.0.1:9"] } } }));
const usersFile = path.join(tmp, "data", "webmail-users.jsonl");

const user = (args: string[], input = "", env: Record<string, string> = {}, cfg = config) =>
  spawnSync(process.execPath, [cliPath(), "user", ...args, "--config", cfg], { input, encoding: "utf8", env: { ...process.env, ...env }, timeout: 30_000 });

describe("mxspool user", () => {
  it("adds a user from stdin and stores only a salted scrypt hash, in a file only its owner reads", async () => {
    const r = user(["add", "Alice@Example.test", "--password-stdin"], "a long enough secret\n");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`added alice@example.test in ${usersFile}`);
    expect(r.stdout + r.stderr).not.toContain("a long enough secret");
    const text = fs.readFileSync(usersFile, "utf8");
    expect(text).not.toContain("a long enough secret");
    const entry = JSON.parse(text.split("\n").find((l) => l.startsWith("{"))!);
    expect(entry).toMatchObject({ address: "alice@example.test", mustChangePassword: false });
    expect(entry.hash).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(await verifyPassword("a long enough secret", entry.hash)).toBe(true);
    expect(await verifyPassword("a long enough secreT", entry.hash)).toBe(false);
    expect(fs.statSync(usersFile).mode & 0o777).toBe(0o600);

    // the same password twice gives two different hashes (a salt per user)
    expect(user(["add", "twin@example.test"], "a long enough secret\n").status).toBe(0);
    const hashes = fs.readFileSync(usersFile, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l).hash);
    expect(new Set(hashes).size).toBe(2);
  });

  it("lists users without their hashes", () => {
    const r = user(["ls"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^alice@example\.test\tpassword set\tupdated \d{4}-\d\d-\d\dT/m);
    expect(r.stdout).toMatch(/^twin@example\.test\t/m);
    expect(r.stdout).not.toContain("scrypt");
  });

  it("refuses a duplicate (1), and a bad address, a foreign domain or a short password (2)", () => {
    const dup = user(["add", "alice@example.test"], "another long secret\n");
    expect(dup.status).toBe(1);
    expect(dup.stderr).toContain("alice@example.test exists already");
    const bad = user(["add", "not-an-address"], "another long secret\n");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("not an e-mail address");
    const foreign = user(["add", "bob@elsewhere.test"], "another long secret\n");
    expect(foreign.status).toBe(2);
    expect(foreign.stderr).toContain("elsewhere.test is not one of the configured domains (example.test)");
    const short = user(["add", "bob@example.test"], "short\n");
    expect(short.status).toBe(2);
    expect(short.stderr).toContain("at least 10 characters");
    const empty = user(["add", "bob@example.test"], "");
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain("no password on stdin");
    expect(user(["ls"]).stdout).not.toContain("bob@example.test");
  });

  it("gives a one-time password once, to be changed at the first login", async () => {
    const r = user(["add", "carol@example.test", "--one-time"]);
    expect(r.status).toBe(0);
    const otp = /one-time password: (\S+)/.exec(r.stdout)![1];
    expect(otp).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    const entry = fs.readFileSync(usersFile, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).find((u) => u.address === "carol@example.test");
    expect(entry.mustChangePassword).toBe(true);
    expect(await verifyPassword(otp, entry.hash)).toBe(true);
    expect(user(["ls"]).stdout).toMatch(/^carol@example\.test\tone-time password \(must change\)/m);
  });

  it("changes a password with passwd and removes a user with rm; both exit 1 for an unknown user", async () => {
    const before = fs.readFileSync(usersFile, "utf8");
    expect(user(["passwd", "alice@example.test", "--password-stdin"], "a brand new password\n").status).toBe(0);
    const hash = fs.readFileSync(usersFile, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).find((u) => u.address === "alice@example.test").hash;
    expect(before).not.toContain(hash);
    expect(await verifyPassword("a brand new password", hash)).toBe(true);
    expect(user(["passwd", "nobody@example.test"], "a brand new password\n").status).toBe(1);
    const rm = user(["rm", "TWIN@example.test"]);
    expect(rm.status).toBe(0);
    expect(rm.stdout).toContain("removed twin@example.test");
    expect(user(["ls"]).stdout).not.toContain("twin@");
    const again = user(["rm", "twin@example.test"]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("no user twin@example.test");
  });

  it("exits 2 on wrong usage and on a bad configuration, and finds the file through MXSPOOL_CONFIG", () => {
    for (const args of [[], ["frob"], ["ls", "extra"], ["add"], ["rm"], ["add", "x@example.test", "--one-time", "--password-stdin"], ["rm", "x@example.test", "--one-time"], ["add", "x@example.test", "--force"]]) {
      const r = user(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("usage:");
    }
    const badCfg = path.join(tmp, "bad.yaml");
    fs.writeFileSync(badCfg, "webmail: { pageSize: lots }\ndomains: { example.test: { primary: [\"127.0.0.1:9\"] } }\n");
    const bad = user(["ls"], "", {}, badCfg);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("webmail.pageSize:");
    const viaEnv = spawnSync(process.execPath, [cliPath(), "user", "ls"], { encoding: "utf8", env: { ...process.env, MXSPOOL_CONFIG: config }, timeout: 30_000 });
    expect(viaEnv.status).toBe(0);
    expect(viaEnv.stdout).toContain("alice@example.test");
  });

  it("takes effect in a running webmail at once: added can log in, a new password replaces the old, removed cannot", async () => {
    const s = await startWebmailStack({ roles: "http" });
    try {
      const run = (args: string[], input = "") => spawnSync(process.execPath, [cliPath(), "user", ...args, "--config", s.mx.configFile], { input, encoding: "utf8", timeout: 30_000 });
      expect((await new WebClient(s.base).login("dave@example.test", "daves first password")).status).toBe(401);
      expect(run(["add", "dave@example.test"], "daves first password\n").status).toBe(0);
      expect((await new WebClient(s.base).login("dave@example.test", "daves first password")).status).toBe(303);
      expect(run(["passwd", "dave@example.test"], "daves second password\n").status).toBe(0);
      expect((await new WebClient(s.base).login("dave@example.test", "daves first password")).status).toBe(401);
      expect((await new WebClient(s.base).login("dave@example.test", "daves second password")).status).toBe(303);
      expect(run(["rm", "dave@example.test"]).status).toBe(0);
      expect((await new WebClient(s.base).login("dave@example.test", "daves second password")).status).toBe(401);
      expect(JSON.stringify(s.mx.logs)).not.toMatch(/daves (first|second) password/);
    } finally {
      await s.stop();
    }
  });
});

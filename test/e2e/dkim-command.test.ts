/**
 * `mxspool dkim keygen` as an admin runs it: the key lands under dataDir (mode 0600), the
 * printed TXT record verifies a message the mxspool signer signed with that key (mailauth),
 * an existing key is never replaced without --force, and bad usage exits 2.
 */
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { cliPath } from "../helpers/mxspool-process.js";
import { parseConfig } from "../../src/config/load.js";
import { DkimSigner } from "../../src/outbound/dkim-signer.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-dkim-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const config = path.join(tmp, "mxspool.yaml");
const dataDir = path.join(tmp, "data");
fs.writeFileSync(config, YAML.stringify({ dataDir, domains: { "example.test": { primary: ["127.0.0.1:9"] } } }));

const dkim = (args: string[]) => spawnSync(process.execPath, [cliPath(), "dkim", ...args, "--config", config], { encoding: "utf8", timeout: 30_000 });

async function verifies(selector: string, txtLine: string): Promise<string[]> {
  const keyFile = path.join(dataDir, "dkim", `example.test.${selector}.pem`);
  const signer = new DkimSigner(parseConfig({ dataDir, domains: { "example.test": { primary: ["127.0.0.1:9"], dkim: { selector, privateKey: path.relative(dataDir, keyFile) } } } }));
  const signed = await signer.sign(Buffer.from("From: a@example.test\r\nTo: b@remote.test\r\nSubject: hi\r\n\r\nhello\r\n"), "example.test");
  const txt = [...txtLine.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join("");
  const resolver = async (name: string, rr: string) => {
    if (rr === "TXT" && name === `${selector}._domainkey.example.test`) return [[txt]];
    throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
  };
  const res = await dkimVerify(signed, { resolver });
  expect(txt).toContain("k=rsa");
  return res.results.map((r: { status: { result: string } }) => r.status.result);
}

describe("mxspool dkim keygen", () => {
  it("writes an RSA key only its owner reads and prints the TXT record that verifies its signatures", async () => {
    const r = dkim(["keygen", "example.test", "--selector", "s2026"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const file = path.join(dataDir, "dkim", "example.test.s2026.pem");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const line = r.stdout.split("\n").find((l) => l.startsWith("s2026._domainkey.example.test. IN TXT "))!;
    expect(line).toBeTruthy();
    expect(r.stdout).toContain("dkim: { selector: s2026, privateKey: dkim/example.test.s2026.pem }");
    expect(await verifies("s2026", line)).toEqual(["pass"]);
  });

  it("refuses a non-RSA key at start, naming the domain, rather than sending unsigned mail", () => {
    const file = path.join(dataDir, "ed.pem");
    fs.writeFileSync(file, crypto.generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    expect(() => new DkimSigner(parseConfig({ dataDir, domains: { "example.test": { primary: ["127.0.0.1:9"], dkim: { selector: "ed", privateKey: "ed.pem" } } } })))
      .toThrow(/domains\.example\.test\.dkim\.privateKey: .*only RSA keys are supported/);
  });

  it("never replaces an existing key without --force, and refuses bad usage with exit 2", () => {
    const file = path.join(dataDir, "dkim", "example.test.s2026.pem");
    const before = fs.readFileSync(file, "utf8");
    const again = dkim(["keygen", "example.test", "--selector", "s2026"]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/exists/);
    expect(fs.readFileSync(file, "utf8")).toBe(before);
    expect(dkim(["keygen", "example.test", "--selector", "s2026", "--force"]).status).toBe(0);
    expect(fs.readFileSync(file, "utf8")).not.toBe(before);
    expect(dkim(["keygen"]).status).toBe(2);
    expect(dkim(["keygen", "not a domain"]).status).toBe(2);
    expect(dkim(["keygen", "example.test", "--selector", "bad selector!"]).status).toBe(2);
  });
});

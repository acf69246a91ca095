/**
 * `mxspool dkim keygen DOMAIN [--selector S] [--out FILE] [--bits N] [--force]`:
 * writes a new DKIM private key (RSA; mode 0600; never over an existing file without --force),
 * then prints the DNS TXT record to publish and the config lines to add. FILE defaults to
 * dkim/DOMAIN.SELECTOR.pem under the config's dataDir (the path domains.<d>.dkim.privateKey
 * is relative to), or under the current directory without a readable config.
 * Exit codes: 0 written, 1 file problem, 2 invalid usage.
 */
import fs from "node:fs";
import path from "node:path";
import { loadConfigFile } from "../config/load.js";
import { dkimTxtRecord, generateDkimKey, zoneStrings } from "../outbound/dkim-keys.js";

const USAGE = "usage: mxspool dkim keygen DOMAIN [--selector S] [--out FILE] [--bits 2048] [--force] [--config FILE]";

const err = (s: string) => process.stderr.write(s + "\n");

function take(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
}

export function runDkimCommand(argv: string[], configFile: string): number {
  const args = [...argv];
  const selector = take(args, "--selector") ?? `mxspool${new Date().getUTCFullYear()}`;
  const out = take(args, "--out");
  const bits = Number(take(args, "--bits") ?? 2048);
  const force = args.includes("--force");
  const [sub, domainArg, ...rest] = args.filter((a) => a !== "--force");
  const domain = domainArg?.toLowerCase().replace(/\.$/, "");
  if (sub !== "keygen" || !domain || rest.length) { err(USAGE); return 2; }
  if (!/^[a-z0-9.-]+\.[a-z0-9-]+$/.test(domain)) { err(`mxspool dkim: not a domain name: ${domainArg}`); return 2; }
  if (!/^[a-zA-Z0-9](?:[a-zA-Z0-9._-]*[a-zA-Z0-9])?$/.test(selector)) { err("mxspool dkim: --selector must be a DNS label like mx2026"); return 2; }
  if ((!Number.isInteger(bits) || bits < 1024 || bits > 4096)) { err("mxspool dkim: --bits must be 1024 to 4096 (2048 recommended)"); return 2; }
  let dataDir = ".";
  try { dataDir = loadConfigFile(configFile).dataDir; } catch { /* no config: the current directory */ }
  const relative = out ?? path.join("dkim", `${domain}.${selector}.pem`);
  const file = path.resolve(out ? "." : dataDir, relative);
  if (fs.existsSync(file) && !force) { err(`mxspool dkim: ${file} exists (use --force to replace it: the published record must change too)`); return 1; }
  const pem = generateDkimKey(bits);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, pem, { mode: 0o600 });
    fs.chmodSync(file, 0o600);
  } catch (e) {
    err(`mxspool dkim: cannot write ${file}: ${(e as Error).message}`);
    return 1;
  }
  const txt = dkimTxtRecord(pem);
  process.stdout.write([
    `wrote ${file} (mode 0600)`, "",
    "Publish this DNS record:",
    `${selector}._domainkey.${domain}. IN TXT ${zoneStrings(txt)}`, "",
    "and add to the config:",
    `domains:\n  ${domain}:\n    dkim: { selector: ${selector}, privateKey: ${out ? file : relative} }`, "",
  ].join("\n"));
  return 0;
}

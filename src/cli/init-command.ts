/**
 * `mxspool init`: writes a working config from flags or a few questions, so that the first
 * start is a relay and not an edit. Generates the admin token (printed once, stored in the
 * config, which is written mode 0600 — an existing file keeps its owner and mode), picks
 * dataDir, checks what it can (init-checks.ts) and prints the DNS records to publish.
 *   mxspool init [--config FILE] [--hostname H] [--domain D]... [--primary D=HOST:PORT[,HOST:PORT]|D=mx]...
 *                [--recipients '*'|verify] [--listen HOST:PORT]... [--http HOST:PORT] [--data-dir DIR] [--dns IP[:PORT]]...
 *                [--yes] [--force] [--no-checks]
 * --yes (or stdin not a terminal): no questions; what is not given takes the safe local
 * defaults: SMTP on 127.0.0.1:2525 only, the domain example.test with a placeholder primary.
 * Exit codes: 0 written, 1 the file exists (without --force), 2 bad usage or an invalid result.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline/promises";
import { parseArgs } from "node:util";
import YAML from "yaml";
import { parseConfig } from "../config/load.js";
import { CliError } from "./api-client.js";
import { dnsRecords, runChecks, type InitPlan } from "./init-checks.js";
import { newToken } from "./local-token.js";

/** What `--yes` writes: nothing reachable from outside until the admin has chosen. */
export const LOCAL_DEFAULTS = { listen: "127.0.0.1:2525", http: "127.0.0.1:8025", domain: "example.test", primary: "127.0.0.1:2526" };

const out = (s = "") => process.stdout.write(s + "\n");

type Ask = (question: string, fallback: string) => Promise<string>;

function asker(interactive: boolean): { ask: Ask; close(): void } {
  if (!interactive) return { ask: async (_q, f) => f, close() {} };
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  return { ask: async (q, f) => (await rl.question(`${q} [${f}]: `)).trim() || f, close: () => rl.close() };
}

const list = (s: string) => s.split(/[,\s]+/).map((x) => x.trim()).filter(Boolean);

export async function initCommand(args: string[], file: string): Promise<number> {
  const { values: v } = parseArgs({
    args, strict: true, allowPositionals: false,
    options: {
      hostname: { type: "string" }, domain: { type: "string", multiple: true }, primary: { type: "string", multiple: true },
      recipients: { type: "string" }, listen: { type: "string", multiple: true }, http: { type: "string" }, "data-dir": { type: "string" },
      dns: { type: "string", multiple: true },
      yes: { type: "boolean", short: "y" }, force: { type: "boolean" }, "no-checks": { type: "boolean" },
    },
  });
  if (fs.existsSync(file) && !v.force) throw new CliError(`${file} exists already; run with --force to replace it (its owner and mode are kept)`, 1);
  const installed = path.resolve(file).startsWith("/etc/");
  const { ask, close } = asker(!v.yes && process.stdin.isTTY === true);
  let plan: InitPlan & { recipients: string; http: string; dataDir: string };
  try {
    const hostname = v.hostname ?? await ask("This server's name (its MX record will point here)", os.hostname());
    const domains = v.domain?.length ? v.domain.flatMap(list) : list(await ask("Domains to be the backup MX for", v.yes || !process.stdin.isTTY ? LOCAL_DEFAULTS.domain : ""));
    if (!domains.length) throw new CliError("at least one domain is needed (--domain)", 2);
    const given = new Map((v.primary ?? []).map((p) => { const i = p.indexOf("="); return i > 0 ? [p.slice(0, i).toLowerCase(), p.slice(i + 1)] : ["*", p]; }));
    const plans: InitPlan["domains"] = {};
    for (const d of domains) {
      const p = given.get(d.toLowerCase()) ?? given.get("*") ?? await ask(`Primary of ${d}: host:port list, or "mx" to use its MX records`, domains[0] === LOCAL_DEFAULTS.domain ? LOCAL_DEFAULTS.primary : "mx");
      plans[d] = { primary: p === "mx" ? "mx" : list(p) };
    }
    const recipients = v.recipients ?? await ask('Recipients: "*" (any address of the domains) or "verify" (ask the primary)', "*");
    if (!["*", "verify"].includes(recipients)) throw new CliError(`--recipients: expected "*" or "verify"`, 2);
    const listen = v.listen?.length ? v.listen.flatMap(list) : list(await ask("SMTP listen addresses (0.0.0.0:25 to receive mail from the Internet)", LOCAL_DEFAULTS.listen));
    plan = {
      hostname, domains: plans, recipients, listen, http: v.http ?? LOCAL_DEFAULTS.http,
      dataDir: v["data-dir"] ?? (installed ? "/var/lib/mxspool" : "./data"),
      dnsServers: v.dns,
    };
  } finally {
    close();
  }
  const token = newToken();
  const doc = {
    hostname: plan.hostname,
    dataDir: plan.dataDir,
    smtp: { listen: plan.listen },
    http: { listen: plan.http, adminToken: token },
    domains: Object.fromEntries(Object.entries(plan.domains).map(([d, x]) => [d, { primary: x.primary, recipients: plan.recipients === "verify" ? { verify: true } : "*" }])),
    ...(plan.dnsServers?.length ? { dns: { servers: plan.dnsServers } } : {}),
  };
  parseConfig(doc, {}, file); // a ConfigError names the bad flag's key; nothing is written
  const text = `# Written by \`mxspool init\` on ${new Date().toISOString().slice(0, 10)}. Every other key has its default:\n`
    + `# see policies/mxspool.example.yaml and the README's configuration reference.\n` + YAML.stringify(doc);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o600 }); // an existing file keeps its mode and owner
  out(`wrote ${file}`);
  out(`admin token (http.adminToken in ${file}; shown only now): ${token}`);
  if (!v["no-checks"]) {
    out("\nchecks:");
    for (const line of await runChecks(plan)) out(`  ${line}`);
  }
  out("\nDNS records to publish:");
  for (const line of dnsRecords(plan)) out(`  ${line}`);
  return 0;
}

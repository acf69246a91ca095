/**
 * `mxspool user` — manages the webmail users file (webmail.users, relative to dataDir):
 *   mxspool user add ADDRESS [--password-stdin | --one-time]
 *   mxspool user passwd ADDRESS [--password-stdin | --one-time]
 *   mxspool user rm ADDRESS
 *   mxspool user ls
 * The password is asked twice on a terminal (not echoed), or read as the first line of stdin
 * (--password-stdin, or whenever stdin is not a terminal); --one-time generates one, prints
 * it once, and the user must change it at first login. Only scrypt hashes are written; a
 * password is never printed (but a generated one-time password) nor logged. The webmail picks
 * up changes without a restart. Exit codes: 0 ok, 1 failure (exists, no such user, file
 * problem), 2 invalid usage, address, password or configuration.
 */
import { ConfigError, loadConfigFile } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { addUser, removeUser, setPassword, usersFilePath, type AccountError } from "../webmail/accounts.js";
import { generatePassword } from "../webmail/password-hash.js";
import { UsersFile } from "../webmail/users-file.js";

const USAGE = `usage:
  mxspool user add ADDRESS [--password-stdin | --one-time] [--config FILE]
  mxspool user passwd ADDRESS [--password-stdin | --one-time] [--config FILE]
  mxspool user rm ADDRESS [--config FILE]
  mxspool user ls [--config FILE]`;

const out = (s: string) => process.stdout.write(s + "\n");
const err = (s: string) => process.stderr.write(s + "\n");

function failed(e: AccountError): number {
  err(`mxspool user: ${e.message}`);
  return ["INVALID_ADDRESS", "UNKNOWN_DOMAIN", "WEAK_PASSWORD"].includes(e.code) ? 2 : 1;
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0];
}

/** Reads a line from the terminal without echoing it. */
function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    let text = "";
    stdin.setRawMode(true);
    stdin.resume();
    const onData = (d: Buffer) => {
      for (const ch of d.toString("utf8")) {
        if (ch === "\r" || ch === "\n") { done(); resolve(text); return; }
        if (ch === "\u0003") { done(); reject(new Error("cancelled")); return; }
        if (ch === "\u007f" || ch === "\b") text = [...text].slice(0, -1).join("");
        else text += ch;
      }
    };
    const done = () => { stdin.off("data", onData); stdin.setRawMode(false); stdin.pause(); process.stderr.write("\n"); };
    stdin.on("data", onData);
  });
}

async function obtainPassword(flags: Set<string>): Promise<{ password: string; oneTime: boolean } | { problem: string }> {
  if (flags.has("--one-time")) return { password: generatePassword(), oneTime: true };
  if (flags.has("--password-stdin") || !process.stdin.isTTY) {
    const password = await readStdinLine();
    return password ? { password, oneTime: false } : { problem: "no password on stdin" };
  }
  const a = await askHidden("New password: ");
  const b = await askHidden("Again: ");
  return a === b ? { password: a, oneTime: false } : { problem: "the two passwords differ" };
}

export async function runUserCommand(args: string[], configFile: string): Promise<number> {
  const flags = new Set(args.filter((a) => a.startsWith("--")));
  const positional = args.filter((a) => !a.startsWith("--"));
  const [sub, address, ...rest] = positional;
  const known = new Set(["--password-stdin", "--one-time"]);
  const unknown = [...flags].filter((f) => !known.has(f));
  if (unknown.length || rest.length || (flags.has("--password-stdin") && flags.has("--one-time"))) {
    err(`${unknown.length ? `unknown option ${unknown[0]}` : rest.length ? `unexpected argument ${rest[0]}` : "--password-stdin and --one-time exclude each other"}\n${USAGE}`);
    return 2;
  }
  if (!["add", "passwd", "rm", "ls"].includes(sub ?? "") || (sub === "ls") !== (address === undefined) || (flags.size && !["add", "passwd"].includes(sub))) {
    err(USAGE);
    return 2;
  }
  let config: Config;
  try { config = loadConfigFile(configFile); } catch (e) {
    err(e instanceof ConfigError ? e.message : `mxspool: ${(e as Error).message}`);
    return 2;
  }
  const file = new UsersFile(usersFilePath(config));

  if (sub === "ls") {
    const r = file.read();
    if (!r.ok) { err(`mxspool user: ${r.problem}`); return 1; }
    for (const p of r.problems) err(`${file.file}: ${p}`);
    for (const u of r.users.values()) out(`${u.address}\t${u.mustChangePassword ? "one-time password (must change)" : "password set"}\tupdated ${u.updatedAt || "?"}`);
    if (!r.users.size) err(`no webmail users in ${file.file}`);
    return 0;
  }
  if (sub === "rm") {
    const r = await removeUser(file, address);
    if (!r.ok) return failed(r);
    out(`removed ${r.value} (their webmail sessions end now)`);
    return 0;
  }
  const pw = await obtainPassword(flags);
  if ("problem" in pw) { err(`mxspool user: ${pw.problem}`); return 2; }
  const r = sub === "add"
    ? await addUser(file, config, address, pw.password, { mustChangePassword: pw.oneTime })
    : await setPassword(file, config, address, pw.password, { mustChangePassword: pw.oneTime });
  if (!r.ok) return failed(r);
  out(`${sub === "add" ? "added" : "new password for"} ${r.value.address} in ${file.file}`);
  if (pw.oneTime) out(`one-time password: ${pw.password}\n(shown once; it must be changed at the first login)`);
  return 0;
}

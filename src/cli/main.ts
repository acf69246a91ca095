#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4 --max-old-space-size=1024 --initial-old-space-size=64
/**
 * The `mxspool` command.
 *   mxspool start [--config FILE] [--roles smtp,worker,http]
 *   mxspool init [--config FILE] [--yes] [--domain D --primary D=HOST:PORT ...]   see init-command.ts
 *   mxspool check-config FILE
 *   mxspool status [--json]                         see status-command.ts
 *   mxspool queue ls|show|raw|retry|hold|release|rm|redeliver|flush ...   see queue-command.ts
 *   mxspool doctor [--json] [--send-test-alert] / mxspool drill DOMAIN [--json]   see doctor-command.ts
 *   mxspool events [--json] | events show ID          see events-command.ts
 *   mxspool primary history DOMAIN [--json]          see primary-command.ts
 *   mxspool traffic DOMAIN [--since 24h] [--step 1h] [--json]   see traffic-command.ts
 *   mxspool baseline replay FILE [--threshold N] ... | baseline generate ...   see baseline-command.ts (offline)
 * FILE defaults to $MXSPOOL_CONFIG, then ./mxspool.yaml, then /etc/mxspool/mxspool.yaml
 * (installed); status and queue read http.listen and http.adminToken from it (or the local
 * token file in dataDir, see local-token.ts) and talk to the running mxspool's API. Exit codes:
 * 0 ok, 1 runtime failure (API unreachable, an action refused, `start` failed, a stop that could
 * not wait for Redis), 2 invalid configuration or usage, 3 `start` failed because a listen
 * address is in use or not permitted (the message names it and its config key).
 */
import cluster from "node:cluster";
import fs from "node:fs";
import { ConfigError, loadConfigFile } from "../config/load.js";
import { ApiClient, CliError } from "./api-client.js";
import { statusCommand } from "./status-command.js";
import { doctorCommand, drillCommand } from "./doctor-command.js";
import { queueCommand } from "./queue-command.js";
import { eventsCommand } from "./events-command.js";
import { primaryCommand } from "./primary-command.js";
import { trafficCommand } from "./traffic-command.js";
import { runDkimCommand } from "./dkim-command.js";
import { baselineCommand } from "./baseline-command.js";
import { runUserCommand } from "./user-command.js";
import { StartFailure } from "../start-failure.js";
import { ensureLocalToken } from "./local-token.js";
import { initCommand } from "./init-command.js";
import { Lifecycle } from "../lifecycle.js";

const ROLES = ["smtp", "worker", "http"];
/** Where the Debian package puts the config (scripts/build-deb.sh). */
const INSTALLED_CONFIG = "/etc/mxspool/mxspool.yaml";

function defaultConfigFile(): string {
  if (process.env.MXSPOOL_CONFIG) return process.env.MXSPOOL_CONFIG;
  return !fs.existsSync("mxspool.yaml") && fs.existsSync(INSTALLED_CONFIG) ? INSTALLED_CONFIG : "mxspool.yaml";
}

const USAGE = `usage:
  mxspool start [--config FILE] [--roles smtp,worker,http]
  mxspool init [--config FILE] [--hostname H] [--domain D]... [--primary D=HOST:PORT|D=mx]... [--recipients '*'|verify]
               [--listen HOST:PORT]... [--http HOST:PORT] [--data-dir DIR] [--dns IP[:PORT]] [--yes] [--force] [--no-checks]
  mxspool check-config [FILE]
  mxspool status [--config FILE] [--json]
  mxspool queue ls [--state S] [--domain D] [--rcpt ADDR] [--from TEXT] [--q TEXT] [--since T] [--direction inbound|outbound] [--limit N] [--cursor C] [--all] [--json]
  mxspool queue show|raw ID
  mxspool queue retry|hold|release|rm|redeliver ID...
  mxspool queue retry|hold|release|rm --state S|--domain D|--rcpt ADDR|--from TEXT|--q TEXT|--since T   (every match)
  mxspool queue flush [DOMAIN...]
  mxspool doctor [--config FILE] [--json] [--send-test-alert]   (exit 1 on any failed check)
  mxspool drill DOMAIN [--config FILE] [--json]                 (failover drill; exit 1 if it fails)
  mxspool events [--kind K] [--domain D] [--limit N] [--json]
  mxspool events show ID [--json]
  mxspool primary history DOMAIN [--limit N] [--json]   (the primary's fingerprints and their changes)
  mxspool traffic DOMAIN [--since 24h] [--step 1h] [--json]   (the domain's traffic series; DOMAIN * = refused before a domain was known)
  mxspool baseline replay FILE [--threshold N[,M]] [--labels FILE] [--from T] [--method median|ewma] [--svg OUT ...]
  mxspool baseline generate [--weeks 8] [--warmup 4] [--seed 1] [--labels FILE]   (synthetic traffic CSV)
  mxspool user add|passwd|rm|ls ...               (webmail users; see mxspool user)
  mxspool dkim keygen DOMAIN [--selector S] [--out FILE] [--bits N] [--force]   (writes the key, prints the DNS record)
FILE defaults to $MXSPOOL_CONFIG, then ./mxspool.yaml, then ${INSTALLED_CONFIG}`;

function fail(message: string, code = 2): never {
  process.stderr.write(message.endsWith("\n") ? message : message + "\n");
  process.exit(code);
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (!v || v.startsWith("--")) fail(`${name} needs a value\n${USAGE}`);
  args.splice(i, 2);
  return v;
}

async function main(argv: string[]): Promise<void> {
  if (cluster.isWorker) return (await import("../main.js")).startChild();
  const [cmd, ...args] = argv;
  const configFile = () => option(args, "--config") ?? defaultConfigFile();
  try {
    switch (cmd) {
      case "start": {
        // SIGTERM/SIGINT are handled from here on, before anything is started (see src/lifecycle.ts)
        const lifecycle = Lifecycle.withSignals();
        const file = configFile();
        const rolesText = option(args, "--roles");
        const roles = rolesText ? rolesText.split(",").map((r) => r.trim()).filter(Boolean) : ROLES;
        const bad = roles.filter((r) => !ROLES.includes(r));
        if (bad.length || !roles.length) fail(`--roles: unknown role ${bad.join(", ") || "(none)"}; expected a list of ${ROLES.join(", ")}`);
        if (args.length) fail(`unexpected argument ${args[0]}\n${USAGE}`);
        const config = loadConfigFile(file);
        // no configured token: one in dataDir that only root and this user can read, for the CLI on this box
        if (!config.http.adminToken && config.http.localToken && roles.includes("http")) config.http.adminToken = ensureLocalToken(config.dataDir);
        const { startPrimary } = await import("../main.js");
        return await startPrimary(config, roles as Parameters<typeof startPrimary>[1], lifecycle);
      }
      case "check-config": {
        const file = args[0] && !args[0].startsWith("--") ? args[0] : configFile();
        const config = loadConfigFile(file);
        process.stdout.write(`${file}: ok (${Object.keys(config.domains).length} domain(s): ${Object.keys(config.domains).join(", ")})\n`);
        return;
      }
      case "status": case "queue": case "doctor": case "drill": case "events": case "primary": case "traffic": {
        const file = configFile();
        const client = ApiClient.fromConfig(loadConfigFile(file), file);
        const run = { status: statusCommand, queue: queueCommand, doctor: doctorCommand, drill: drillCommand, events: eventsCommand, primary: primaryCommand, traffic: trafficCommand }[cmd];
        const code = await run(args, client);
        process.exitCode = code;
        return;
      }
      case "init":
        process.exitCode = await initCommand(args, configFile());
        return;
      case "baseline":
        process.exitCode = await baselineCommand(args);
        return;
      case "user":
        process.exitCode = await runUserCommand(args, configFile());
        return;
      case "dkim":
        process.exitCode = runDkimCommand(args, configFile());
        return;
      case undefined: case "help": case "--help": case "-h":
        process.stdout.write(USAGE + "\n");
        return;
      default:
        fail(`unknown command ${cmd}\n${USAGE}`);
    }
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    if (err instanceof CliError) fail(`mxspool: ${err.message}`, err.exitCode);
    if (err instanceof StartFailure) fail(`mxspool: cannot start: ${err.message}`, err.exitCode);
    if ((err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) fail(`mxspool: ${(err as Error).message}\n${USAGE}`, 2);
    fail(`mxspool: ${(err as Error).message}`, 1);
  }
}

void main(process.argv.slice(2));

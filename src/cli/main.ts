#!/usr/bin/env node
/**
 * The `mxspool` command.
 *   mxspool start [--config FILE] [--roles smtp,worker,http]
 *   mxspool check-config FILE
 * FILE defaults to $MXSPOOL_CONFIG, then ./mxspool.yaml. Exit codes: 0 ok, 1 runtime
 * failure, 2 invalid configuration or usage.
 */
import { ConfigError, loadConfigFile } from "../config/load.js";
import { ALL_ROLES, isChild, startChild, startPrimary, type Role } from "../main.js";

const USAGE = `usage:
  mxspool start [--config FILE] [--roles smtp,worker,http]
  mxspool check-config [FILE]
FILE defaults to $MXSPOOL_CONFIG, then ./mxspool.yaml`;

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
  if (isChild()) return startChild();
  const [cmd, ...args] = argv;
  const configFile = () => option(args, "--config") ?? process.env.MXSPOOL_CONFIG ?? "mxspool.yaml";
  try {
    switch (cmd) {
      case "start": {
        const file = configFile();
        const rolesText = option(args, "--roles");
        const roles = rolesText ? rolesText.split(",").map((r) => r.trim()).filter(Boolean) : ALL_ROLES;
        const bad = roles.filter((r) => !ALL_ROLES.includes(r as Role));
        if (bad.length || !roles.length) fail(`--roles: unknown role ${bad.join(", ") || "(none)"}; expected a list of ${ALL_ROLES.join(", ")}`);
        if (args.length) fail(`unexpected argument ${args[0]}\n${USAGE}`);
        return await startPrimary(loadConfigFile(file), roles as Role[]);
      }
      case "check-config": {
        const file = args[0] && !args[0].startsWith("--") ? args[0] : configFile();
        const config = loadConfigFile(file);
        process.stdout.write(`${file}: ok (${Object.keys(config.domains).length} domain(s): ${Object.keys(config.domains).join(", ")})\n`);
        return;
      }
      case undefined: case "help": case "--help": case "-h":
        process.stdout.write(USAGE + "\n");
        return;
      default:
        fail(`unknown command ${cmd}\n${USAGE}`);
    }
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    fail(`mxspool: ${(err as Error).message}`, 1);
  }
}

void main(process.argv.slice(2));

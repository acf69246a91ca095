/**
 * Builds the one validated Config object: reads the YAML file, applies the environment
 * overrides (REDIS_URL, MXSPOOL_ADMIN_TOKEN), validates, and turns every problem into a
 * ConfigError whose message names the key and what was expected. Nothing else in mxspool
 * reads the environment for settings.
 */
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { configSchema, type Config } from "./schema.js";

export class ConfigError extends Error {
  constructor(readonly problems: string[], readonly file?: string) {
    super(`invalid configuration${file ? ` in ${file}` : ""}:\n` + problems.map((p) => `  - ${p}`).join("\n"));
    this.name = "ConfigError";
  }
}

function keyPath(p: readonly PropertyKey[]): string {
  return p.length ? p.map((k) => String(k)).join(".") : "(top level)";
}

function valueAt(doc: unknown, p: readonly PropertyKey[]): unknown {
  let v: unknown = doc;
  for (const k of p) v = v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

export function formatIssues(error: z.ZodError, doc?: unknown): string[] {
  return error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      const base = issue.path.length ? keyPath(issue.path) + "." : "";
      return issue.keys.map((k) => `${base}${k}: unknown key`).join("; ");
    }
    if ((issue.code === "invalid_type" || issue.code === "invalid_union") && valueAt(doc, issue.path) === undefined) {
      return `${keyPath(issue.path)}: is required`;
    }
    if (issue.code === "invalid_union") {
      const options = issue.errors.map((branch) => branch[0]?.message.replace(/^Invalid input: /, "")).filter(Boolean);
      return `${keyPath(issue.path)}: ${options.length ? `expected one of: ${[...new Set(options)].join(" | ")}` : issue.message}`;
    }
    return `${keyPath(issue.path)}: ${issue.message.replace(/^Invalid input: /, "")}`;
  });
}

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}, file?: string): Config {
  const doc = (raw ?? {}) as Record<string, unknown>;
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError(["(top level): expected a mapping of keys"], file);
  const merged: Record<string, unknown> = { ...doc };
  if (env.REDIS_URL) merged.redis = { ...(doc.redis as object), url: env.REDIS_URL };
  if (env.MXSPOOL_ADMIN_TOKEN) merged.http = { ...(doc.http as object), adminToken: env.MXSPOOL_ADMIN_TOKEN };
  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(formatIssues(result.error, merged), file);
  const config = result.data;
  if (file) config.dataDir = path.resolve(path.dirname(file), config.dataDir);
  else config.dataDir = path.resolve(config.dataDir);
  for (const d of Object.values(config.domains)) {
    if (typeof d.recipients === "object" && !Array.isArray(d.recipients) && "file" in d.recipients && file) {
      d.recipients.file = path.resolve(path.dirname(file), d.recipients.file);
    }
  }
  return config;
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError([`cannot read the file: ${(err as Error).message}`], file);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new ConfigError([`not valid YAML: ${(err as Error).message.split("\n")[0]}`], file);
  }
  return parseConfig(raw, env, file);
}

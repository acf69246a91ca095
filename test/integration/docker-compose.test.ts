/**
 * The production container files, checked without a Docker engine: docker-compose.yml is
 * parsed and cross-checked against the Dockerfile, the files it mounts, mxspool's own config
 * schema and package.json; the Dockerfile's entry point must be what `npm run build` produces
 * and every runtime import must survive `npm prune --omit=dev`. When a `docker compose`
 * (no Docker client with compose runs here, so the file is checked by parsing only).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { loadConfigFile } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { parseHostPort } from "../../src/config/host-port.js";
import { SUPERVISOR_LAUNCH } from "../../policies/process-memory.js";

let root = import.meta.dirname;
while (!fs.existsSync(path.join(root, "package.json"))) root = path.dirname(root);
const repo = (...p: string[]) => path.join(root, ...p);
const read = (p: string) => fs.readFileSync(repo(p), "utf8");

// ---- docker-compose.yml -------------------------------------------------------------------

type Service = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const compose = YAML.parse(read("docker-compose.yml")) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services ?? {};

interface Mount { source: string; target: string; readOnly: boolean; named: boolean }
function mounts(svc: Service): Mount[] {
  return (svc.volumes ?? []).map((v: string | Record<string, unknown>) => {
    if (typeof v === "string") {
      const [source, target, mode] = v.split(":");
      return { source, target, readOnly: mode === "ro", named: !/^[./~]/.test(source) };
    }
    return { source: String(v.source), target: String(v.target), readOnly: Boolean(v.read_only), named: v.type === "volume" };
  });
}
/** The repo file behind a bind mount (compose paths are relative to the compose file). */
const hostFile = (m: Mount) => path.resolve(root, m.source);

interface Port { hostIp?: string; published: number; target: number }
function ports(svc: Service): Port[] {
  return (svc.ports ?? []).map((p: string | Record<string, unknown>) => {
    if (typeof p !== "string") return { hostIp: p.host_ip as string | undefined, published: Number(p.published), target: Number(p.target) };
    const parts = p.replace(/\/(tcp|udp)$/, "").split(":");
    if (parts.length === 3) return { hostIp: parts[0], published: Number(parts[1]), target: Number(parts[2]) };
    if (parts.length === 2) return { published: Number(parts[0]), target: Number(parts[1]) };
    return { published: Number(parts[0]), target: Number(parts[0]) };
  });
}

function env(svc: Service): Record<string, string> {
  const e = svc.environment ?? {};
  if (!Array.isArray(e)) return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));
  return Object.fromEntries(e.map((s: string) => [s.slice(0, s.indexOf("=")), s.slice(s.indexOf("=") + 1)]));
}

const dependsOn = (svc: Service): string[] => (Array.isArray(svc.depends_on) ? svc.depends_on : Object.keys(svc.depends_on ?? {}));

/** "90s", "1m30s", "2m" → ms. */
function composeDuration(s: string): number {
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|us|h|m|s)/g;
  let m: RegExpExecArray | null;
  let seen = "";
  while ((m = re.exec(s))) { seen += m[0]; ms += Number(m[1]) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 }[m[2] as "h"]; }
  if (seen !== s) throw new Error(`not a compose duration: ${s}`);
  return ms;
}

/** "key value" lines of redis.conf / clamd.conf; later lines win, as in both programs. */
function confDirectives(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    const i = t.search(/\s/);
    m.set((i < 0 ? t : t.slice(0, i)).toLowerCase(), i < 0 ? "" : t.slice(i + 1).trim().replace(/^"(.*)"$/, "$1"));
  }
  return m;
}

/** clamd sizes: "60M", "25m", "1G", bytes otherwise. */
const clamdSize = (s: string) => Number(s.replace(/[kKmMgG]$/, "")) * ({ k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[s.slice(-1).toLowerCase()] ?? 1);

// ---- Dockerfile ---------------------------------------------------------------------------

interface Instr { op: string; args: string; json?: string[] }
function parseDockerfile(text: string): Instr[] {
  const out: Instr[] = [];
  let cur = "";
  for (const raw of text.split("\n")) {
    if (!cur && /^\s*#/.test(raw)) continue;
    if (cur && /^\s*#/.test(raw)) continue; // comment lines inside a continuation are dropped
    const line = raw.replace(/\s+$/, "");
    if (line.endsWith("\\")) { cur += line.slice(0, -1) + " "; continue; }
    cur += line;
    if (cur.trim()) {
      const t = cur.trim();
      const i = t.search(/\s/);
      const op = (i < 0 ? t : t.slice(0, i)).toUpperCase();
      const args = i < 0 ? "" : t.slice(i + 1).trim();
      let json: string[] | undefined;
      try { const j = JSON.parse(args); if (Array.isArray(j)) json = j; } catch { /* shell form */ }
      out.push({ op, args, json });
    }
    cur = "";
  }
  return out;
}
const dockerfile = parseDockerfile(read("Dockerfile"));
const instrs = (op: string) => dockerfile.filter((i) => i.op === op);
const argDefaults = Object.fromEntries(instrs("ARG").map((i) => i.args.split("=")).filter((p) => p.length === 2));
const subst = (s: string) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a, b) => argDefaults[a ?? b] ?? "");
function dockerEnv(): Record<string, string> {
  const e: Record<string, string> = {};
  for (const i of instrs("ENV")) for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) e[m[1]] = m[2].replace(/^"|"$/g, "");
  return e;
}

/** .dockerignore semantics (last matching pattern wins; a pattern matching a parent directory matches its files). */
function dockerignored(rel: string, patterns: string[]): boolean {
  const toRe = (p: string) => new RegExp("^" + p.replace(/\/+$/, "").split("/").map((seg) => seg === "**" ? "(?:.*)" : seg.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")).join("/").replace(/\(\?:\.\*\)\//g, "(?:.*/)?") + "$");
  const parts = rel.split("/");
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let ignored = false;
  for (const raw of patterns) {
    const neg = raw.startsWith("!");
    const re = toRe(neg ? raw.slice(1) : raw);
    if (candidates.some((c) => re.test(c))) ignored = !neg;
  }
  return ignored;
}
const ignorePatterns = read(".dockerignore").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));

// ---- the checks ---------------------------------------------------------------------------

const pkg = JSON.parse(read("package.json")) as { bin: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };
const ADMIN_TOKEN = "compose-test-admin-token-0123456789";

describe("docker-compose.yml", () => {
  it("has the redis, clamd, spamd and mxspool services", () => {
    expect(Object.keys(services).sort()).toEqual(expect.arrayContaining(["clamd", "mxspool", "redis", "spamd"]));
  });

  describe("redis", () => {
    const redis = services.redis;
    const commandText = () => [redis.command, redis.entrypoint].flat().filter(Boolean).join(" ");
    /** The effective directives: a mounted conf named on the command line, then command-line flags. */
    const directives = () => {
      const d = new Map<string, string>();
      for (const m of mounts(redis).filter((m) => !m.named && commandText().includes(m.target))) {
        for (const [k, v] of confDirectives(fs.readFileSync(hostFile(m), "utf8"))) d.set(k, v);
      }
      const argv: string[] = Array.isArray(redis.command) ? redis.command : String(redis.command ?? "").split(/\s+/);
      argv.forEach((a, i) => { if (a.startsWith("--")) d.set(a.slice(2).toLowerCase(), String(argv[i + 1] ?? "").replace(/^"(.*)"$/, "$1")); });
      return d;
    };

    it("is Redis 7", () => {
      expect(redis.image).toMatch(/^redis:7(\b|[.-])/);
    });

    it("keeps the spool durable: AOF on, appendfsync always, noeviction", () => {
      const d = directives();
      expect(d.get("appendonly")).toBe("yes");
      expect(d.get("appendfsync")).toBe("always");
      expect(d.get("maxmemory-policy")).toBe("noeviction");
    });

    it("writes its data (the AOF) to a named volume", () => {
      const dir = directives().get("dir") ?? "/data"; // the redis image's working directory
      const vol = mounts(redis).find((m) => m.target === dir);
      expect(vol, `a volume mounted at ${dir}`).toBeDefined();
      expect(vol!.named).toBe(true);
      expect(Object.keys(compose.volumes ?? {})).toContain(vol!.source);
    });

    it("mounts only files that exist, and does not publish its port", () => {
      for (const m of mounts(redis).filter((m) => !m.named)) expect(fs.existsSync(hostFile(m)), m.source).toBe(true);
      expect(ports(redis)).toEqual([]);
    });

    it("has a healthcheck that mxspool waits for", () => {
      expect(redis.healthcheck?.test).toBeDefined();
      expect(services.mxspool.depends_on?.redis?.condition).toBe("service_healthy");
    });
  });

  describe("clamd and spamd", () => {
    it("clamd runs the ClamAV image with a volume for its signatures", () => {
      const c = services.clamd;
      expect(c.image).toMatch(/clamav/);
      const db = mounts(c).find((m) => m.target === "/var/lib/clamav");
      expect(db?.named).toBe(true);
      expect(Object.keys(compose.volumes ?? {})).toContain(db!.source);
    });

    it("clamd's mounted config listens on TCP 3310 and the image's socket, and scans a whole maximum-size message", () => {
      const conf = mounts(services.clamd).find((m) => m.target === "/etc/clamav/clamd.conf");
      if (!conf) return; // the image's own configuration
      const d = confDirectives(fs.readFileSync(hostFile(conf), "utf8"));
      expect(d.get("tcpsocket")).toBe("3310");
      expect(d.get("localsocket")).toBe("/tmp/clamd.sock"); // the image's start script and HEALTHCHECK wait for it
      expect(d.get("foreground")).toBe("yes");
      const config = mxspoolConfig();
      expect(clamdSize(d.get("streammaxlength") ?? "25M")).toBeGreaterThanOrEqual(config.smtp.maxMessageSize);
    });

    it("spamd is an image or is built from a Dockerfile whose files exist", () => {
      const s = services.spamd;
      if (!s.build) { expect(s.image).toMatch(/spam/i); return; }
      const ctx = path.resolve(root, typeof s.build === "string" ? s.build : s.build.context);
      const df = path.join(ctx, (typeof s.build === "object" && s.build.dockerfile) || "Dockerfile");
      expect(fs.existsSync(df)).toBe(true);
      const ins = parseDockerfile(fs.readFileSync(df, "utf8"));
      for (const c of ins.filter((i) => i.op === "COPY" && !i.args.includes("--from"))) {
        const srcs = (c.json ?? c.args.split(/\s+/).filter((a) => !a.startsWith("--"))).slice(0, -1);
        for (const src of srcs) expect(fs.existsSync(path.join(ctx, src)), `${src} in ${ctx}`).toBe(true);
      }
      const cmd = ins.find((i) => i.op === "CMD");
      expect(cmd?.args).toMatch(/spamd/);
      expect(cmd?.args).toMatch(/783/);
    });
  });

  describe("mxspool", () => {
    const mx = () => services.mxspool;
    const cmdline = (): string[] => mx().command ?? instrs("CMD").at(-1)!.json!;
    const configMount = () => {
      const argv = cmdline();
      const file = argv[argv.indexOf("--config") + 1];
      const m = mounts(mx()).find((x) => x.target === file);
      return { file, m };
    };

    it("is built from the repo's Dockerfile", () => {
      const b = mx().build;
      expect(b).toBeDefined();
      const ctx = typeof b === "string" ? b : b.context;
      expect(path.resolve(root, ctx)).toBe(root);
      expect(fs.existsSync(path.join(root, (typeof b === "object" && b.dockerfile) || "Dockerfile"))).toBe(true);
    });

    it("depends on redis and is pointed at it with REDIS_URL; the admin token comes from the environment", () => {
      expect(dependsOn(mx())).toContain("redis");
      const e = env(mx());
      expect(e.REDIS_URL).toBe("redis://redis:6379");
      expect(new URL(e.REDIS_URL).hostname).toBe("redis");
      expect(e.MXSPOOL_ADMIN_TOKEN).toMatch(/^\$\{MXSPOOL_ADMIN_TOKEN(:?[-?][^}]*)?\}$/);
    });

    it("mounts a config file that exists in the repo, where --config points", () => {
      const { file, m } = configMount();
      expect(file).toBe("/etc/mxspool/mxspool.yaml");
      expect(m, `a mount at ${file}`).toBeDefined();
      expect(m!.named).toBe(false);
      expect(m!.readOnly).toBe(true);
      expect(fs.statSync(hostFile(m!)).isFile()).toBe(true);
    });

    it("its config validates against the strict schema with the environment compose sets", () => {
      const config = mxspoolConfig();
      expect(config.redis.url).toBe(env(mx()).REDIS_URL);
      expect(config.http.adminToken).toBe(ADMIN_TOKEN);
      expect(Object.keys(config.domains).length).toBeGreaterThan(0);
      // the scanners are the compose services clamd and spamd
      expect(config.filters.clamav?.address).toMatchObject({ kind: "tcp", host: "clamd", port: 3310 });
      expect(config.filters.spamassassin?.address).toMatchObject({ kind: "tcp", host: "spamd", port: 783 });
      expect(Object.keys(services)).toEqual(expect.arrayContaining(["clamd", "spamd"]));
    });

    it("listens where the published ports and the healthcheck expect", () => {
      const config = mxspoolConfig();
      const p = ports(mx());
      expect(p).toEqual(expect.arrayContaining([
        { published: 25, target: 25 },
        { hostIp: "127.0.0.1", published: 8025, target: 8025 },
      ]));
      const http = parseHostPort(config.http.listen);
      expect(http).toEqual({ host: "0.0.0.0", port: 8025 });
      expect(config.smtp.listen.map(parseHostPort)).toContainEqual({ host: "0.0.0.0", port: 25 });
      // the API is published to this host only
      expect(p.filter((x) => x.target === 8025).every((x) => x.hostIp === "127.0.0.1")).toBe(true);
    });

    it("keeps its dataDir on a volume the runtime user can write", () => {
      const config = mxspoolConfig();
      expect(config.redis.url).toBeDefined(); // so no embedded redis-server in the container
      const vol = mounts(mx()).find((m) => m.target === config.dataDir);
      expect(vol?.named).toBe(true);
      expect(read("Dockerfile")).toMatch(new RegExp(`install -d -o node -g node[^\\n]*${config.dataDir.replace(/\//g, "\\/")}`));
    });

    it("restarts unless stopped and gives a graceful stop the time it needs", () => {
      expect(mx().restart).toBe("unless-stopped");
      expect(mx().stop_grace_period).toBe("90s");
      const config = mxspoolConfig();
      expect(composeDuration(mx().stop_grace_period)).toBeGreaterThan(config.smtp.shutdownGrace);
      expect(mx().stop_signal ?? "SIGTERM").toBe("SIGTERM");
    });

    it("has a healthcheck on GET /api/health", () => {
      const test = [mx().healthcheck?.test].flat().join(" ");
      const de = dockerEnv();
      const resolved = test.replace(/process\.env\.(\w+)/g, (_m, k) => de[k] ?? "");
      expect(resolved).toMatch(/http:\/\/(127\.0\.0\.1|localhost):8025\/api\/health/);
    });

    it("binds port 25 as the non-root user (unprivileged low ports)", () => {
      const s = mx().sysctls ?? {};
      const v = Array.isArray(s) ? s.find((x: string) => x.startsWith("net.ipv4.ip_unprivileged_port_start"))?.split("=")[1] : s["net.ipv4.ip_unprivileged_port_start"];
      expect(Number(v)).toBeLessThanOrEqual(25);
    });

    it("declares every named volume it uses", () => {
      for (const svc of Object.values(services)) for (const m of mounts(svc).filter((m) => m.named)) expect(Object.keys(compose.volumes ?? {})).toContain(m.source);
    });
  });

});

function mxspoolConfig(): Config {
  const argv: string[] = services.mxspool.command ?? instrs("CMD").at(-1)!.json!;
  const target = argv[argv.indexOf("--config") + 1];
  const m = mounts(services.mxspool).find((x) => x.target === target)!;
  return loadConfigFile(hostFile(m), { ...env(services.mxspool), MXSPOOL_ADMIN_TOKEN: ADMIN_TOKEN });
}

describe("Dockerfile", () => {
  it("is multi-stage on node:20-bookworm-slim", () => {
    const froms = instrs("FROM").map((i) => subst(i.args.split(/\s+/)[0]));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(new Set(froms)).toEqual(new Set(["node:20-bookworm-slim"]));
  });

  it("installs with npm ci, builds with npm run build, and ships no dev dependencies", () => {
    const runs = instrs("RUN").map((i) => i.args).join("\n");
    expect(runs).toMatch(/npm ci\b/);
    expect(runs).toMatch(/npm run build\b/);
    expect(runs).toMatch(/npm prune --omit=dev|npm ci [^\n]*--omit=dev/);
    // the last stage takes node_modules from the pruned build stage, not from the context
    const lastFrom = dockerfile.lastIndexOf(instrs("FROM").at(-1)!);
    const runtimeCopies = dockerfile.slice(lastFrom).filter((i) => i.op === "COPY");
    expect(runtimeCopies.some((c) => /--from=\w+/.test(c.args) && /node_modules/.test(c.args))).toBe(true);
    expect(runtimeCopies.some((c) => /--from=\w+/.test(c.args) && /\/dist\b/.test(c.args))).toBe(true);
  });

  it("runs as a non-root user", () => {
    const user = instrs("USER").at(-1)?.args;
    expect(user).toBeDefined();
    expect(["root", "0", "0:0"]).not.toContain(user);
  });

  it("exposes 25 and 8025, stops with SIGTERM, and checks GET /api/health", () => {
    expect(instrs("EXPOSE").flatMap((i) => i.args.split(/\s+/)).sort()).toEqual(["25", "8025"]);
    expect(instrs("STOPSIGNAL").at(-1)?.args).toBe("SIGTERM");
    const hc = instrs("HEALTHCHECK").at(-1)!.args;
    const resolved = hc.replace(/process\.env\.(\w+)/g, (_m, k) => dockerEnv()[k] ?? "");
    expect(resolved).toMatch(/http:\/\/(127\.0\.0\.1|localhost):8025\/api\/health/);
  });

  it("starts the CLI that the build produces (package.json bin) with the mounted config", () => {
    const ep = instrs("ENTRYPOINT").at(-1)!.json!;
    const cmd = instrs("CMD").at(-1)!.json!;
    // node with the supervisor's memory flags (policies/process-memory.ts: V8 sizes its heap at start)
    expect(ep).toEqual(["node", ...SUPERVISOR_LAUNCH.nodeFlags, pkg.bin.mxspool]);
    expect(cmd).toEqual(["start", "--config", "/etc/mxspool/mxspool.yaml"]);
    // tsc's outDir/rootDir map src/cli/main.ts to exactly that file
    const tsconfig = JSON.parse(read("tsconfig.json")) as { compilerOptions: { outDir: string; rootDir: string } };
    const source = path.relative(path.resolve(root, tsconfig.compilerOptions.outDir), path.resolve(root, pkg.bin.mxspool)).replace(/\.js$/, ".ts");
    expect(fs.existsSync(path.resolve(root, tsconfig.compilerOptions.rootDir, source)), source).toBe(true);
    // and the build in this checkout did produce it (npm test builds first)
    expect(fs.existsSync(repo(pkg.bin.mxspool))).toBe(true);
  });

  it("the built CLI accepts the compose config (check-config, as in the container)", () => {
    const { m } = { m: mounts(services.mxspool).find((x) => x.target === "/etc/mxspool/mxspool.yaml")! };
    const out = execFileSync(process.execPath, [repo(pkg.bin.mxspool), "check-config", hostFile(m)], {
      env: { ...process.env, ...env(services.mxspool), MXSPOOL_ADMIN_TOKEN: ADMIN_TOKEN }, encoding: "utf8",
    });
    expect(out).toMatch(/: ok \(/);
  });

  it("copies only what the build context (.dockerignore) keeps, and keeps out node_modules, dist, tests and .git", () => {
    for (const c of instrs("COPY").filter((i) => !/--from=/.test(i.args))) {
      const srcs = (c.json ?? c.args.split(/\s+/).filter((a) => !a.startsWith("--"))).slice(0, -1);
      for (const src of srcs) {
        expect(fs.existsSync(repo(src)), `${src} exists`).toBe(true);
        expect(dockerignored(src, ignorePatterns), `${src} is in the build context`).toBe(false);
      }
    }
    for (const p of ["node_modules/yaml/package.json", "dist/src/cli/main.js", "test/helpers/net.ts", ".git/HEAD", ".env", "data/redis/appendonly.aof"]) {
      expect(dockerignored(p, ignorePatterns), `${p} is excluded`).toBe(true);
    }
    for (const p of ["src/cli/main.ts", "queues/names.ts", "policies/primary-reply.ts", "package-lock.json"]) {
      expect(dockerignored(p, ignorePatterns), `${p} is included`).toBe(false);
    }
  });

  it("every package the shipped code imports is a production dependency (survives npm prune --omit=dev)", () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(repo(d), { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p); else if (/\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name)) files.push(p);
      }
    };
    for (const d of ["src", "queues", "policies"]) if (fs.existsSync(repo(d))) walk(d);
    expect(files.length).toBeGreaterThan(0);
    const builtins = new Set(builtinModules);
    const missing: string[] = [];
    for (const f of files) {
      const text = read(f);
      for (const m of text.matchAll(/^\s*import\s+(?!type\b)[^;]*?from\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm)) {
        const spec = m[1] ?? m[2] ?? m[3];
        if (spec.startsWith(".") || spec.startsWith("node:") || builtins.has(spec.split("/")[0])) continue;
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
        if (!pkg.dependencies[name]) missing.push(`${f}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

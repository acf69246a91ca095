import { describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError, loadConfigFile, parseConfig } from "../../../src/config/load.js";
import { parseDuration } from "../../../src/config/duration.js";

const minimal = { domains: { "example.com": { primary: ["mail.example.com:25"] } } };

function problems(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try { parseConfig(raw, env); } catch (err) { if (err instanceof ConfigError) return err.problems; throw err; }
  return [];
}

describe("durations", () => {
  it.each([["90s", 90_000], ["5m", 300_000], ["4h", 14_400_000], ["5d", 432_000_000], ["250ms", 250], ["1.5s", 1500], ["0", 0]])("parses %s", (t, ms) => {
    expect(parseDuration(t)).toBe(ms);
  });
  it.each(["5", "5 days", "m5", "", "-1s", "1w"])("refuses %j", (t) => expect(parseDuration(t)).toBeNull());
});

describe("configuration", () => {
  it("fills every default from a minimal file", () => {
    const c = parseConfig(minimal);
    expect(c.smtp).toMatchObject({ listen: ["0.0.0.0:25"], maxMessageSize: 52_428_800, maxRecipients: 100 });
    expect(c.http.listen).toBe("127.0.0.1:8025");
    expect(c.redis.url).toBeUndefined();
    expect(c.delivery).toMatchObject({ retry: { first: 300_000, max: 3_600_000, factor: 2 }, maxLifetime: 432_000_000, concurrency: 20, ratePerSecond: 0 });
    expect(c.monitor.interval).toBe(15_000);
    expect(c.domains["example.com"].recipients).toBe("*");
    expect(c.domains["example.com"].acceptWhen).toBe("always");
  });

  it("takes acceptWhen per domain: always or primaryDown, nothing else", () => {
    const c = parseConfig({ domains: { "a.example.com": { primary: "mx", acceptWhen: "primaryDown" }, "b.example.com": { primary: "mx" } } });
    expect([c.domains["a.example.com"].acceptWhen, c.domains["b.example.com"].acceptWhen]).toEqual(["primaryDown", "always"]);
    expect(problems({ domains: { "example.com": { primary: "mx", acceptWhen: "primary-down" } } })).toEqual([expect.stringMatching(/^domains\.example\.com\.acceptWhen: /)]);
  });

  it("names the bad key and says why", () => {
    expect(problems({ ...minimal, smtp: { maxRecipients: 0 } })).toEqual([expect.stringMatching(/^smtp\.maxRecipients: .*>0/)]);
    expect(problems({ ...minimal, delivery: { retry: { first: "5 minutes" } } })).toEqual([expect.stringMatching(/^delivery\.retry\.first: expected a duration like "90s"/)]);
    expect(problems({ ...minimal, smtp: { listen: ["0.0.0.0"] } })).toEqual([expect.stringMatching(/^smtp\.listen\.0: expected "host:port"/)]);
    expect(problems({ ...minimal, monitor: { intervall: "15s" } })).toEqual(["monitor.intervall: unknown key"]);
    expect(problems({ domains: {} })).toEqual([expect.stringMatching(/^domains: at least one domain/)]);
    expect(problems({})).toEqual([expect.stringMatching(/^domains: is required/)]);
    expect(problems({ domains: { "example.com": { recipients: "*" } } })).toEqual([expect.stringMatching(/^domains\.example\.com\.primary: is required/)]);
    expect(problems({ ...minimal, redis: { url: "localhost:6379" } })).toEqual([expect.stringMatching(/^redis\.url: expected "redis:\/\//)]);
    expect(problems({ ...minimal, smtp: { processes: "many" } })).toEqual([expect.stringMatching(/^smtp\.processes: expected one of: expected "auto" \| expected number/)]);
    expect(problems({ ...minimal, smtp: { processes: -1 } })).toEqual(["smtp.processes: Too small: expected number to be >=0"]);
  });

  it("takes Sentinel addresses, waits for one replica by default with them and for none without", () => {
    const c = parseConfig({ ...minimal, redis: { sentinels: ["10.0.0.1:26379", "10.0.0.2:26379"], name: "mx", password: "p", sentinelPassword: "s" } });
    expect(c.redis).toMatchObject({ sentinels: ["10.0.0.1:26379", "10.0.0.2:26379"], name: "mx", minReplicasAcked: 1, replicaAckTimeout: 2000, tls: false });
    expect(parseConfig(minimal).redis.minReplicasAcked).toBe(0);
    expect(parseConfig({ ...minimal, redis: { sentinels: ["10.0.0.1:26379"], minReplicasAcked: 0 } }).redis.minReplicasAcked).toBe(0);
  });

  it("takes Redis Cluster seed nodes (no WAIT by default)", () => {
    const c = parseConfig({ ...minimal, redis: { cluster: ["10.0.0.1:7000", "10.0.0.2:7000"], password: "p", tls: true } });
    expect(c.redis).toMatchObject({ cluster: ["10.0.0.1:7000", "10.0.0.2:7000"], password: "p", tls: true, minReplicasAcked: 0 });
    expect(parseConfig({ ...minimal, redis: { cluster: ["10.0.0.1:7000"], minReplicasAcked: 1 } }).redis.minReplicasAcked).toBe(1);
  });

  it.each([
    ["url and sentinels together", { url: "redis://a:6379", sentinels: ["b:26379"] }, /^redis\.sentinels: redis\.url and redis\.sentinels exclude each other/],
    ["a sentinel without a port", { sentinels: ["b"] }, /^redis\.sentinels\.0: expected "host:port"/],
    ["Redis Cluster as an object", { cluster: { nodes: ["a:7000"] } }, /^redis\.cluster: expected array/],
    ["cluster and url together", { cluster: ["a:7000"], url: "redis://b:6379" }, /^redis\.cluster: redis\.cluster excludes redis\.url and redis\.sentinels/],
    ["a negative replica count", { minReplicasAcked: -1 }, /^redis\.minReplicasAcked: /],
  ])("refuses %s in the redis section", (_label, redis, problem) => {
    expect(problems({ ...minimal, redis })).toEqual([expect.stringMatching(problem)]);
  });

  it("lets REDIS_URL and MXSPOOL_ADMIN_TOKEN override the file", () => {
    const c = parseConfig({ ...minimal, redis: { url: "redis://file:6379" } }, { REDIS_URL: "redis://env:6380/2", MXSPOOL_ADMIN_TOKEN: "x".repeat(32) });
    expect(c.redis.url).toBe("redis://env:6380/2");
    expect(c.http.adminToken).toBe("x".repeat(32));
  });

  it("normalises domain names and accepts primary: mx", () => {
    const c = parseConfig({ domains: { "Example.ORG.": { primary: "mx" } } });
    expect(Object.keys(c.domains)).toEqual(["example.org"]);
    expect(c.domains["example.org"].primary).toBe("mx");
  });

  it("reads YAML files, resolving paths against the file, and reports YAML syntax errors", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-cfg-"));
    const f = path.join(dir, "a.yaml");
    fs.writeFileSync(f, "dataDir: ./d\ndomains:\n  example.com: { primary: [\"h:25\"], recipients: { file: users.txt } }\n");
    const c = loadConfigFile(f, {});
    expect(c.dataDir).toBe(path.join(dir, "d"));
    expect(c.domains["example.com"].recipients).toEqual({ file: path.join(dir, "users.txt") });
    fs.writeFileSync(f, "domains: [\n");
    expect(() => loadConfigFile(f, {})).toThrow(/not valid YAML/);
    expect(() => loadConfigFile(path.join(dir, "missing.yaml"), {})).toThrow(/cannot read the file/);
    fs.rmSync(dir, { recursive: true });
  });

  it("validates the shipped example", () => {
    const c = loadConfigFile(path.resolve(import.meta.dirname, "../../../policies/mxspool.example.yaml"), {});
    expect(Object.keys(c.domains)).toEqual(["example.com"]);
  });
});

describe("delivery concurrency across processes", async () => {
  const { deliveryShare } = await import("../../../src/main.js");
  it.each([[20, 2, [10, 10]], [3, 2, [2, 1]], [1, 2, [1, 0]], [7, 3, [3, 2, 2]]])("splits %i over %i processes as %j, never more in total", (c, n, shares) => {
    const got = Array.from({ length: n }, (_, i) => deliveryShare(c, n, i));
    expect(got).toEqual(shares);
    expect(got.reduce((a, b) => a + b, 0)).toBe(c);
  });
});

const OUT_DOMAINS = { "example.test": { primary: ["127.0.0.1:2525"] } };

describe("outbound configuration", () => {
  it("is off by default, with the documented limits", () => {
    const c = parseConfig({ domains: OUT_DOMAINS });
    expect(c.outbound).toMatchObject({ enabled: false, mxPort: 25, maxMessageSize: 26_214_400, sentCopies: "deliver", aliases: {},
      limits: { messagesPerHour: 100, recipientsPerMessage: 50, globalMessagesPerHour: 2000 }, keepSent: 7 * 86_400_000, maxLifetime: 5 * 86_400_000 });
    expect(c.domains["example.test"].dkim).toBeUndefined();
  });
  it("lower-cases aliases and takes a relay with credentials", () => {
    const c = parseConfig({ domains: OUT_DOMAINS, outbound: { enabled: true, aliases: { "Alice@Example.test": ["Sales@Example.test"] }, relay: { address: "smtp.example.net:587", username: "u", password: "p" } } });
    expect(c.outbound.aliases).toEqual({ "alice@example.test": ["sales@example.test"] });
    expect(c.outbound.relay).toEqual({ address: "smtp.example.net:587", username: "u", password: "p", tls: "starttls" });
  });
  it.each([
    [{ outbound: { relay: { address: "smtp.example.net" } } }, /outbound\.relay\.address/],
    [{ outbound: { relay: { address: "smtp.example.net:587", username: "u" } } }, /username and password go together/],
    [{ outbound: { sentCopies: "sometimes" } }, /outbound\.sentCopies/],
    [{ outbound: { keepSent: "1d", maxLifetime: "5d" } }, /outbound\.keepSent.*at least maxLifetime/],
    [{ outbound: { limits: { messagesPerHour: 0 } } }, /outbound\.limits\.messagesPerHour/],
    [{ outbound: { aliases: { "not-an-address": [] } } }, /outbound\.aliases/],
    [{ outbound: { typo: true } }, /typo/],
    [{ domains: { "example.test": { primary: ["127.0.0.1:2525"], dkim: { selector: "bad selector", privateKey: "k.pem" } } } }, /domains\.example\.test\.dkim\.selector/],
  ])("refuses %j", (over, want) => {
    expect(problems({ domains: OUT_DOMAINS, ...over }).join("\n")).toMatch(want);
  });
});

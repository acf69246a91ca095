/**
 * docker-compose.ha.yml checked without a Docker engine (as docker-compose.test.ts does for the
 * single-node file): the topology the README's HA section promises (1 master, 2 replicas,
 * 3 sentinels, 2 mxspool nodes, clamd, spamd), the sentinels' config against the Redis
 * services, and each node's mxspool config validated by mxspool's own schema.
 */
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { loadConfigFile } from "../../src/config/load.js";
import { parseHostPort } from "../../src/config/host-port.js";

let root = import.meta.dirname;
while (!fs.existsSync(path.join(root, "package.json"))) root = path.dirname(root);
const read = (p: string) => fs.readFileSync(path.join(root, p), "utf8");

type Service = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
// compose files use YAML merge keys (`<<: *anchor`)
const compose = YAML.parse(read("docker-compose.ha.yml"), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const named = (re: RegExp) => Object.keys(services).filter((n) => re.test(n));
const argv = (svc: Service): string[] => (Array.isArray(svc.command) ? svc.command : []);
/** [source, target] of each mount, the source relative to the repo for bind mounts. */
const mounts = (svc: Service): [string, string][] => (svc.volumes ?? []).map((v: string) => v.split(":").slice(0, 2) as [string, string]);
const mountedFile = (svc: Service, target: string) => mounts(svc).find(([, t]) => t === target)?.[0];
const sentinelConf = read("docker/sentinel.conf");
const monitor = /^sentinel monitor (\S+) (\S+) (\d+) (\d+)$/m.exec(sentinelConf);

describe("docker-compose.ha.yml", () => {
  it("has 1 Redis master, 2 replicas, 3 sentinels, 2 mxspool nodes, clamd and spamd", () => {
    expect(named(/^redis-master$/)).toHaveLength(1);
    expect(named(/^redis-replica-/)).toHaveLength(2);
    expect(named(/^sentinel-/)).toHaveLength(3);
    expect(named(/^mxspool-/)).toHaveLength(2);
    expect(named(/^(clamd|spamd)$/)).toHaveLength(2);
  });

  it("replicates every replica from the master, each Redis durable (AOF, appendfsync always) on its own volume", () => {
    const conf = read("docker/redis.conf");
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^appendfsync always$/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    const volumes = new Set<string>();
    for (const n of named(/^redis-/)) {
      expect(mountedFile(services[n], "/usr/local/etc/redis/redis.conf")).toBe("./docker/redis.conf");
      const data = mountedFile(services[n], "/data")!;
      expect(Object.keys(compose.volumes)).toContain(data);
      volumes.add(data);
      if (n !== "redis-master") expect(argv(services[n]).join(" ")).toMatch(/--replicaof redis-master 6379$/);
    }
    expect(volumes.size).toBe(3);
  });

  it("starts each Redis through docker/redis-start.sh, which asks the sentinels who the master is first", () => {
    const script = read("docker/redis-start.sh");
    const defaults = /MXSPOOL_SENTINELS:-([^}]+)\}/.exec(script)?.[1]?.split(" ");
    expect(defaults).toEqual(named(/^sentinel-/).map((n) => `${n}:26379`));
    for (const n of named(/^redis-/)) {
      const svc = services[n];
      expect(svc.entrypoint).toEqual(["sh", "/usr/local/bin/redis-start.sh"]);
      expect(mountedFile(svc, "/usr/local/bin/redis-start.sh")).toBe("./docker/redis-start.sh");
      // the name it announces is the one the sentinels resolve, and the one they name it by
      expect(argv(svc).slice(0, 3)).toEqual([n, "6379", "/usr/local/etc/redis/redis.conf"]);
      expect(svc.environment.MXSPOOL_REDIS_EXEC).toBe("docker-entrypoint.sh redis-server"); // the image's entrypoint drops root
    }
    expect(sentinelConf).toMatch(/^sentinel announce-hostnames yes$/m);
  });

  it("has the sentinels watch the master with a majority quorum, each from its own writable copy of the config", () => {
    expect(monitor).not.toBeNull();
    const [, , host, port, quorum] = monitor!;
    expect(host).toBe("redis-master");
    expect(Number(port)).toBe(6379);
    expect(Number(quorum)).toBe(2); // of 3: one sentinel alone never promotes
    expect(sentinelConf).toMatch(/^sentinel resolve-hostnames yes$/m);
    const data = new Set<string>();
    for (const n of named(/^sentinel-/)) {
      const s = services[n];
      expect(mountedFile(s, "/etc/redis/sentinel.conf")).toBe("./docker/sentinel.conf");
      expect(s.entrypoint.join(" ")).toMatch(/cp \/etc\/redis\/sentinel\.conf \/data\/sentinel\.conf.*redis-server \/data\/sentinel\.conf --sentinel/);
      data.add(mountedFile(s, "/data")!);
    }
    expect(data.size).toBe(3);
  });

  describe.each(["mxspool-1", "mxspool-2"])("%s", (name) => {
    const svc = services[name];
    const file = mountedFile(svc, "/etc/mxspool/mxspool.yaml")!;
    const config = loadConfigFile(path.join(root, file), { MXSPOOL_ADMIN_TOKEN: "x".repeat(32) });

    it("has a config that validates, naming every sentinel service and the monitored master", () => {
      expect(config.redis.url).toBeUndefined();
      expect(config.redis.sentinels!.map((s) => parseHostPort(s))).toEqual(named(/^sentinel-/).map((host) => ({ host, port: 26379 })));
      expect(config.redis.name).toBe(monitor![1]);
    });

    it("waits for at least one replica before its 250, never for more replicas than there are", () => {
      expect(config.redis.minReplicasAcked).toBeGreaterThanOrEqual(1);
      expect(config.redis.minReplicasAcked).toBeLessThanOrEqual(named(/^redis-replica-/).length);
    });

    it("reaches the scanners by their service names, and waits for the sentinels", () => {
      expect(config.filters.clamav?.address).toMatchObject({ host: "clamd", port: 3310 });
      expect(config.filters.spamassassin?.address).toMatchObject({ host: "spamd", port: 783 });
      expect(Object.keys(svc.depends_on)).toEqual(expect.arrayContaining(named(/^sentinel-/)));
      expect(svc.environment.REDIS_URL).toBeUndefined(); // would override the sentinels
    });

    it("keeps its data dir on a volume of its own", () => {
      expect(Object.keys(compose.volumes)).toContain(mountedFile(svc, "/var/lib/mxspool"));
    });
  });

  it("publishes each node's SMTP on its own host port and the API on loopback only", () => {
    const published = named(/^mxspool-/).flatMap((n) => services[n].ports as string[]);
    const smtp = published.filter((p) => p.endsWith(":25"));
    expect(new Set(smtp).size).toBe(2);
    expect(published.filter((p) => p.endsWith(":8025")).every((p) => p.startsWith("127.0.0.1:"))).toBe(true);
  });
});

/**
 * Where a domain's primary is: the configured host:port list, or with `primary: "mx"` the
 * domain's MX records that are preferred over our own (lower preference than the record
 * naming `hostname`), looked up through `dns.servers` when set. MX answers are cached for
 * their own probe interval so deliveries do not each hit DNS.
 */
import { Resolver } from "node:dns/promises";
import type { Config } from "../config/schema.js";
import type { Endpoint } from "../delivery/connection-pool.js";

export function parseHostPort(s: string): Endpoint {
  const i = s.lastIndexOf(":");
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(s.slice(i + 1)) };
}

/** Pure: the MX hosts above ours, best first. Without a record for us, all of them. */
export function primariesFromMx(records: { exchange: string; priority: number }[], ourHostname: string): string[] {
  const norm = (h: string) => h.toLowerCase().replace(/\.$/, "");
  const ours = records.filter((r) => norm(r.exchange) === norm(ourHostname)).map((r) => r.priority);
  const limit = ours.length ? Math.min(...ours) : Infinity;
  return records.filter((r) => r.priority < limit && norm(r.exchange) !== norm(ourHostname))
    .sort((a, b) => a.priority - b.priority).map((r) => norm(r.exchange));
}

export class PrimaryEndpoints {
  private readonly resolver = new Resolver({ timeout: 5000, tries: 2 });
  private readonly cache = new Map<string, { at: number; endpoints: Endpoint[] }>();

  constructor(private readonly config: Config) {
    if (config.dns.servers?.length) this.resolver.setServers(config.dns.servers);
  }

  async resolve(domain: string, maxAgeMs = this.config.monitor.interval): Promise<Endpoint[]> {
    const d = this.config.domains[domain];
    if (!d) return [];
    if (d.primary !== "mx") return d.primary.map(parseHostPort);
    const hit = this.cache.get(domain);
    if (hit && Date.now() - hit.at < maxAgeMs) return hit.endpoints;
    try {
      const hosts = primariesFromMx(await this.resolver.resolveMx(domain), this.config.hostname);
      const endpoints = hosts.map((host) => ({ host, port: this.config.dns.mxPort }));
      this.cache.set(domain, { at: Date.now(), endpoints });
      return endpoints;
    } catch {
      return hit?.endpoints ?? []; // DNS trouble: keep the last known answer
    }
  }
}

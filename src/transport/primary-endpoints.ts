/**
 * Where a domain's primary is: the configured host:port list, or with `primary: "mx"` the
 * domain's MX records that are preferred over our own (lower preference than the record
 * naming `hostname`). Both the MX look-up and the exchanges' addresses (A, then AAAA) go
 * through `dns.servers` when set, so the endpoints carry IP addresses and the SMTP client
 * never falls back to the system resolver. Answers are cached for their own probe interval
 * so deliveries do not each hit DNS.
 */
import net from "node:net";
import os from "node:os";
import { Resolver } from "node:dns/promises";
import type { Config } from "../config/schema.js";
import type { Endpoint } from "./connection-pool.js";
import { parseHostPort } from "../config/host-port.js";

const normHost = (h: string) => h.toLowerCase().replace(/\.$/, "");

/**
 * Pure: the MX hosts above ours, best first (ties keep the DNS order). Without a record
 * for us, all of them. A null MX (RFC 7505, exchange ".") names no host and is skipped.
 */
export function primariesFromMx(records: { exchange: string; priority: number }[], ourHostname: string): string[] {
  const ours = records.filter((r) => normHost(r.exchange) === normHost(ourHostname)).map((r) => r.priority);
  const limit = ours.length ? Math.min(...ours) : Infinity;
  const seen = new Set<string>();
  return records
    .filter((r) => r.priority < limit && normHost(r.exchange) !== normHost(ourHostname) && normHost(r.exchange) !== "")
    .sort((a, b) => a.priority - b.priority)
    .map((r) => normHost(r.exchange))
    .filter((h) => (seen.has(h) ? false : (seen.add(h), true)));
}

/** "No such name" / "no record of that type": an answer, not DNS trouble. */
const isNoData = (err: unknown) => ["ENOTFOUND", "ENODATA", "NOTFOUND", "NODATA"].includes((err as { code?: string })?.code ?? "");

export class PrimaryEndpoints {
  private readonly resolver = new Resolver({ timeout: 5000, tries: 2 });
  private readonly cache = new Map<string, { at: number; endpoints: Endpoint[] }>();

  constructor(private readonly config: Config) {
    if (config.dns.servers?.length) this.resolver.setServers(config.dns.servers);
  }

  /**
   * Whether an endpoint is one of our own SMTP listeners (a loop: our `hostname` does not
   * match our MX record's name, so the MX list still holds us). Like Postfix's "mail for
   * ... loops back to myself", such an endpoint is never a primary.
   */
  private isOurself(ep: Endpoint): boolean {
    const local = new Set(["127.0.0.1", "::1", ...Object.values(os.networkInterfaces()).flat().map((i) => i!.address)]);
    return this.config.smtp.listen.some((l) => {
      const me = parseHostPort(l);
      if (me.port !== ep.port) return false;
      return me.host === ep.host || ((me.host === "0.0.0.0" || me.host === "::") && (local.has(ep.host) || ep.host.startsWith("127.")));
    });
  }

  /** The exchange's addresses through our resolver: IPv4 first, then IPv6. */
  private async addresses(host: string): Promise<string[]> {
    if (net.isIP(host)) return [host];
    const [v4, v6] = await Promise.allSettled([this.resolver.resolve4(host), this.resolver.resolve6(host)]);
    const out: string[] = [];
    let trouble: unknown;
    for (const r of [v4, v6]) {
      if (r.status === "fulfilled") out.push(...r.value);
      else if (!isNoData(r.reason)) trouble = r.reason;
    }
    // a timeout or SERVFAIL with nothing found is DNS trouble, not "this host has no address"
    if (!out.length && trouble) throw trouble;
    return out;
  }

  async resolve(domain: string, maxAgeMs = this.config.monitor.interval): Promise<Endpoint[]> {
    const d = this.config.domains[domain];
    if (!d) return [];
    if (d.primary !== "mx") return d.primary.map(parseHostPort);
    const hit = this.cache.get(domain);
    if (hit && Date.now() - hit.at < maxAgeMs) return hit.endpoints;
    try {
      const endpoints = await this.mailHosts(domain, this.config.dns.mxPort, false);
      this.cache.set(domain, { at: Date.now(), endpoints });
      return endpoints;
    } catch {
      return hit?.endpoints ?? []; // DNS trouble: keep the last known answer
    }
  }

  /** The domain's MX set as DNS says now (by preference, then name; uncached), [] without one; null on DNS trouble. */
  async mxSet(domain: string): Promise<{ exchange: string; priority: number }[] | null> {
    try {
      return (await this.resolver.resolveMx(domain)).map((r) => ({ exchange: normHost(r.exchange), priority: r.priority }))
        .sort((a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange));
    } catch (err) {
      return isNoData(err) ? [] : null;
    }
  }

  /**
   * Where mail for `domain` goes by DNS, as RFC 5321 section 5.1 says: its MX hosts above our
   * own preference (we are never our own next hop, nor is any listener of ours), their IPv4
   * then IPv6 addresses; a null MX names nobody. `implicitMx`: a domain without MX records
   * is its own mail host (for DSNs to any sender; a configured domain must have its MX).
   * Throws on DNS trouble (timeouts, SERVFAIL), which is not an answer.
   */
  async mailHosts(domain: string, port: number, implicitMx = true): Promise<Endpoint[]> {
    let hosts: string[];
    try {
      hosts = primariesFromMx(await this.resolver.resolveMx(domain), this.config.hostname);
    } catch (err) {
      if (!implicitMx || !isNoData(err)) throw err;
      hosts = [domain];
    }
    const found = await Promise.allSettled(hosts.map((host) => this.addresses(host)));
    // every exchange failing with DNS trouble is DNS trouble; one failing is one fewer endpoint
    if (found.length && found.every((r) => r.status === "rejected")) throw (found[0] as PromiseRejectedResult).reason;
    const ips = found.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
    return [...new Set(ips)].map((ip) => ({ host: ip, port })).filter((ep) => !this.isOurself(ep));
  }
}

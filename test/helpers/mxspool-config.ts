/**
 * The mxspool config most integration tests start from: one domain (example.test) relayed to
 * a test primary, a test Redis, SMTP on a given loopback port, HTTP on a free one, no reverse
 * DNS, a 1 s monitor. `overrides` are merged in depth (objects key by key, arrays replaced).
 */
import { freePort } from "./net.js";

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === "object" && v !== null && !Array.isArray(v);

function merge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isPlain(v) && isPlain(out[k]) ? merge(out[k] as Plain, v) : v;
  return out;
}

export async function testMxspoolConfig(o: { smtpPort: number; redisUrl: string; primaryPort: number; processes?: number | "auto" }, overrides: Plain = {}): Promise<Plain> {
  return merge({
    hostname: "mx2.example.test",
    smtp: { listen: [`127.0.0.1:${o.smtpPort}`], processes: o.processes ?? 2, reverseLookup: false },
    http: { listen: `127.0.0.1:${await freePort()}` },
    redis: { url: o.redisUrl },
    domains: { "example.test": { primary: [`127.0.0.1:${o.primaryPort}`] } },
    monitor: { interval: "1s", timeout: "2s" },
  }, overrides);
}

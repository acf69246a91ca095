/**
 * What `mxspool init` can check before anything runs: does each primary answer SMTP, are the
 * listen ports free (or only privileged), what MX records the domains publish today — and the
 * DNS records the admin must publish. Every check is bounded (a few seconds) and only reports:
 * a primary that is down today is exactly what a secondary MX is for.
 */
import dns from "node:dns";
import net from "node:net";
import os from "node:os";
import { parseHostPort } from "../config/host-port.js";

export interface InitPlan { hostname: string; listen: string[]; domains: Record<string, { primary: "mx" | string[] }>; dnsServers?: string[] }

const TIMEOUT_MS = 3000;

/** "220 banner" when the primary greets within the timeout, otherwise the error. */
export function probeSmtp(hostPort: string, timeoutMs = TIMEOUT_MS): Promise<{ ok: boolean; detail: string }> {
  const { host, port } = parseHostPort(hostPort);
  return new Promise((resolve) => {
    const s = net.createConnection({ host, port });
    let buf = "";
    const done = (ok: boolean, detail: string) => { s.destroy(); resolve({ ok, detail }); };
    s.setTimeout(timeoutMs, () => done(false, `no greeting within ${timeoutMs} ms`));
    s.on("error", (e: NodeJS.ErrnoException) => done(false, e.code ?? e.message));
    s.on("data", (d) => {
      buf += d.toString("latin1");
      const line = buf.split("\r\n")[0];
      if (buf.includes("\n")) { s.end("QUIT\r\n"); done(line.startsWith("220"), line.slice(0, 120)); }
    });
  });
}

/** free | in use | needs root or CAP_NET_BIND_SERVICE: binds and closes at once. */
export function listenCheck(hostPort: string): Promise<{ ok: boolean; detail: string }> {
  const { host, port } = parseHostPort(hostPort);
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", (e: NodeJS.ErrnoException) => resolve({
      ok: false,
      detail: e.code === "EADDRINUSE" ? "in use by another program" : e.code === "EACCES" ? "needs root or CAP_NET_BIND_SERVICE (the Debian package's unit has it)" : (e.code ?? e.message),
    }));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve({ ok: true, detail: "free" })));
  });
}

function resolver(servers?: string[]): dns.promises.Resolver {
  const r = new dns.promises.Resolver({ timeout: TIMEOUT_MS, tries: 1 });
  if (servers?.length) r.setServers(servers);
  return r;
}

async function mxRecords(r: dns.promises.Resolver, domain: string): Promise<{ exchange: string; priority: number }[] | string> {
  try {
    return (await r.resolveMx(domain)).sort((a, b) => a.priority - b.priority);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}

/** host:port with the host's first IPv4 address from `r` (the resolver mxspool will use), when it has one. */
async function viaResolver(r: dns.promises.Resolver, hostPort: string): Promise<string> {
  const { host, port } = parseHostPort(hostPort);
  const [ip] = await r.resolve4(host).catch(() => [] as string[]);
  return ip ? `${ip}:${port}` : hostPort;
}

/** One line per finding, "ok", "!!" or "--" first. */
export async function runChecks(plan: InitPlan): Promise<string[]> {
  const lines: string[] = [];
  const mark = (ok: boolean) => (ok ? "ok" : "!!");
  for (const l of plan.listen) {
    const c = await listenCheck(l);
    lines.push(`${mark(c.ok)} SMTP listen ${l}: ${c.detail}`);
  }
  const name = (exchange: string) => exchange.toLowerCase().replace(/\.$/, "");
  const self = name(plan.hostname);
  const r = resolver(plan.dnsServers);
  for (const [domain, d] of Object.entries(plan.domains)) {
    const mx = await mxRecords(r, domain);
    const ours = typeof mx === "string" ? undefined : mx.find((m) => name(m.exchange) === self)?.priority;
    if (typeof mx === "string") lines.push(`-- ${domain}: no MX records found (${mx})`);
    else lines.push(`${mark(ours !== undefined)} ${domain} MX: ${mx.map((m) => `${m.priority} ${m.exchange}`).join(", ") || "none"}${ours !== undefined ? "" : ` (${plan.hostname} is not listed yet)`}`);
    // with "mx" the primaries are the MX hosts preferred over ours (all of them while we are not listed)
    const primaries = d.primary !== "mx" ? d.primary
      : typeof mx === "string" ? [] : mx.filter((m) => ours === undefined || m.priority < ours).map((m) => `${name(m.exchange)}:25`);
    for (const p of primaries) {
      const c = await probeSmtp(d.primary === "mx" ? await viaResolver(r, p) : p);
      lines.push(`${c.ok ? "ok" : "--"} ${domain} primary ${p}: ${c.ok ? c.detail : `not answering now (${c.detail}); mail waits in the queue until it does`}`);
    }
  }
  return lines;
}

/** The zone lines to publish: our MX behind the primary's, and our name's address. */
export function dnsRecords(plan: InitPlan): string[] {
  const host = plan.hostname.replace(/\.$/, "");
  const lines = Object.keys(plan.domains).map((d) => `${d}.\tIN MX 20 ${host}.    ; the primary keeps a lower number (e.g. MX 10)`);
  const addrs = Object.values(os.networkInterfaces()).flat().filter((i) => i && !i.internal && !i.address.startsWith("fe80"));
  for (const a of addrs) lines.push(`${host}.\tIN ${a!.family === "IPv4" ? "A" : "AAAA"} ${a!.address}    ; an address of this machine (use its public one)`);
  if (!addrs.length) lines.push(`${host}.\tIN A <this machine's public address>`);
  return lines;
}

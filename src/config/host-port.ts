/**
 * "host:port" and "[v6]:port" as the config writes listen addresses, primaries and relays.
 * One parser for all of them (SMTP and HTTP listeners, primaries, the bounce relay, the CLI).
 */
export interface HostPort { host: string; port: number }

export function parseHostPort(s: string): HostPort {
  const i = s.lastIndexOf(":");
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(s.slice(i + 1)) };
}

/** How a local client reaches a listener: a wildcard address becomes the loopback of its family. */
export function connectableUrl(listen: string, scheme = "http"): string {
  const { host, port } = parseHostPort(listen);
  const h = host === "0.0.0.0" || host === "*" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `${scheme}://${h.includes(":") ? `[${h}]` : h}:${port}`;
}

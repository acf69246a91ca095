/**
 * Where a scanner listens ("unix:/run/clamav/clamd.ctl" or "tcp:127.0.0.1:3310"): the
 * config's form, parsed and formatted (pure). Connecting is src/filters/scanner-connect.ts.
 */

export type ScannerAddress = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

export const SCANNER_ADDRESS_FORM = 'expected "unix:/absolute/path" or "tcp:host:port"';

export function parseScannerAddress(text: string): ScannerAddress | null {
  const unix = /^unix:(\/.+)$/.exec(text);
  if (unix) return { kind: "unix", path: unix[1] };
  const tcp = /^tcp:(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(text);
  if (!tcp) return null;
  const port = Number(tcp[2]);
  if (port < 1 || port > 65535) return null;
  return { kind: "tcp", host: tcp[1].replace(/^\[|\]$/g, ""), port };
}

export function formatScannerAddress(a: ScannerAddress): string {
  return a.kind === "unix" ? `unix:${a.path}` : `tcp:${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`;
}

/**
 * Where a scanner listens ("unix:/run/clamav/clamd.ctl" or "tcp:127.0.0.1:3310") and how to
 * reach it: parse/format are pure; connectScanner() opens the socket within a deadline and
 * returns the socket or a "down" failure as a value — it never throws. Sockets get
 * setNoDelay: each protocol frame is written in one write() and must leave at once.
 */
import net from "node:net";
import type { ScanFailure } from "./scan-outcome.js";

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

export type Connected = { ok: true; socket: net.Socket } | { ok: false; failure: ScanFailure };

export function connectScanner(address: ScannerAddress, timeoutMs: number): Promise<Connected> {
  return new Promise((resolve) => {
    const socket = address.kind === "unix" ? net.createConnection({ path: address.path }) : net.createConnection({ host: address.host, port: address.port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, failure: { status: "error", error: "down", detail: `no connection within ${timeoutMs} ms` } });
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      socket.setNoDelay(true);
      resolve({ ok: true, socket });
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: false, failure: { status: "error", error: "down", detail: err.code ?? err.message } });
    });
  });
}

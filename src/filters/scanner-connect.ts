/**
 * Reaching a scanner: connectScanner() opens the socket within a deadline and returns the
 * socket or a "down" failure as a value — it never throws. Sockets get setNoDelay: each
 * protocol frame is written in one write() and must leave at once.
 */
import net from "node:net";
import type { ScanFailure } from "../../policies/scan-outcome.js";
import type { ScannerAddress } from "../config/scanner-address.js";

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

/**
 * How the admin commands reach mxspool: the HTTP API at http.listen with http.adminToken,
 * both read from the same config file `start` uses (MXSPOOL_ADMIN_TOKEN overrides the
 * token). Without a token in the config, the service's local token file in dataDir
 * (local-token.ts) is used: readable by root and the service user only. A wildcard listen
 * address is reached on loopback. Failures are values: a CliError
 * carries the message and exit code main.ts prints.
 */
import os from "node:os";
import { connectableUrl } from "../config/host-port.js";
import type { Config } from "../config/schema.js";
import { localTokenPath, readTokenFile } from "./local-token.js";

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) { super(message); }
}

export interface ApiResponse { status: number; body: unknown; bytes: Buffer }

export function apiBaseUrl(listen: string): string {
  return connectableUrl(listen);
}

export class ApiClient {
  private readonly actor = `cli:${os.userInfo().username}`.replace(/[^\w.@:+ -]/g, "_").slice(0, 64);

  constructor(readonly baseUrl: string, private readonly token: string) {}

  static fromConfig(config: Config, file: string): ApiClient {
    return new ApiClient(apiBaseUrl(config.http.listen), config.http.adminToken ?? localToken(config, file));
  }

  /** The response, whatever its status; throws CliError only when the API cannot be reached. */
  async request(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<ApiResponse> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${this.token}`, "x-mxspool-actor": this.actor, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach the mxspool API at ${this.baseUrl} (is mxspool running with the http role?): ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    let parsed: unknown = undefined;
    if ((res.headers.get("content-type") ?? "").startsWith("application/json")) {
      try { parsed = JSON.parse(bytes.toString("utf8")); } catch { /* left undefined */ }
    }
    return { status: res.status, body: parsed, bytes };
  }

  /** The JSON body of a 2xx answer; any other answer becomes a CliError with the API's message. */
  async call<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const r = await this.request(method, path, body, timeoutMs);
    if (r.status >= 200 && r.status < 300) return r.body as T;
    throw new CliError(errorText(r), r.status === 400 ? 2 : 1); // 400: what the admin typed is wrong
  }
}

function localToken(config: Config, file: string): string {
  const none = `no http.adminToken in ${file} (nor MXSPOOL_ADMIN_TOKEN)`;
  if (!config.http.localToken) throw new CliError(`${none}, and http.localToken is off: the admin API needs one`, 2);
  const tokenFile = localTokenPath(config.dataDir);
  let token: string | undefined;
  try {
    token = readTokenFile(tokenFile);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`${none}, and ${tokenFile} cannot be read (${code ?? (err as Error).message}): run this as root or as the user mxspool runs as, or set MXSPOOL_ADMIN_TOKEN`, 2);
  }
  if (!token) throw new CliError(`${none}, and no local token in ${tokenFile}: mxspool writes it when it starts with the http role (is it running with this config?)`, 2);
  return token;
}

export function errorText(r: ApiResponse): string {
  const e = (r.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  if (r.status === 401) return `the API refused the token (${e?.message ?? "401"})`;
  return e ? `${e.code}: ${e.message}` : `HTTP ${r.status}`;
}

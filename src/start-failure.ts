/**
 * Why `mxspool start` could not start, in words an admin can act on. A listen address that
 * is taken or not permitted is named with its config key ("127.0.0.1:25 is already in use
 * (smtp.listen)") and ends the process with exit code 3; anything else with exit code 1.
 * The caller has stopped everything it started (workers, API, embedded Redis) before this
 * reaches the CLI.
 */

/** Exit code of a start that failed because a listen address is in use or not permitted. */
export const EXIT_LISTEN = 3;
/** Exit code of any other failed start (Redis, files, ...). */
export const EXIT_RUNTIME = 1;

export class StartFailure extends Error {
  constructor(message: string, readonly fields: Record<string, unknown> = {}, readonly exitCode = EXIT_RUNTIME) {
    super(message);
  }
}

const hostPort = (address: string, port: unknown) => `${address.includes(":") ? `[${address}]` : address}:${port}`;

/** A listen() error of the server configured by `key` (http.listen, smtp.listen), said plainly. */
export function listenFailure(err: unknown, key: string): StartFailure | unknown {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (!e || typeof e !== "object" || !e.code || !e.address) return err;
  const address = hostPort(e.address, e.port);
  const why: Record<string, string> = {
    EADDRINUSE: "is already in use",
    EACCES: "is not permitted to this user (ports below 1024 need CAP_NET_BIND_SERVICE)",
    EADDRNOTAVAIL: "is not an address of this host",
  };
  return new StartFailure(`${address} ${why[e.code] ?? `cannot be listened on (${e.code})`} (${key})`, { address, key, code: e.code }, EXIT_LISTEN);
}

/** Any start error as a StartFailure (its message only: errors never leak stack traces). */
export function startFailure(err: unknown): StartFailure {
  return err instanceof StartFailure ? err : new StartFailure((err as Error)?.message ?? String(err));
}

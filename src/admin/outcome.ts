/**
 * What an admin action returns: a value, or a failure that says what kind of problem it is
 * (the API turns the kind into the HTTP status, the CLI into a message). Errors are values
 * here; only a broken Redis throws. Also who acted, for the ledger.
 */
export type FailureKind = "invalid" | "not-found" | "conflict" | "gone" | "unavailable";

export interface Failure { ok: false; kind: FailureKind; code: string; message: string }

export type Outcome<T> = { ok: true; value: T } | Failure;

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });

export const failure = (kind: FailureKind, code: string, message: string): Failure => ({ ok: false, kind, code, message });

/** Who asked for an action: recorded with it in the ledger and the logs. */
export interface Actor { name: string; ip?: string }

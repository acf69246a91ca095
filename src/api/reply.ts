/**
 * What a route handler returns: JSON, bytes (a Buffer or a stream factory) or text, with a
 * status. Errors are replies too, always in the one shape { "error": { "code", "message" } };
 * an admin Failure maps to its status here and nowhere else.
 */
import type { Readable } from "node:stream";
import type { Failure, FailureKind } from "../admin/outcome.js";

export type Reply =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; bytes: Buffer | (() => Readable); contentType: string; headers?: Record<string, string> }
  | { status: number; text: string; contentType: string; headers?: Record<string, string> };

export const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({ status, json: body, headers });

export const apiError = (status: number, code: string, message: string, headers?: Record<string, string>): Reply =>
  ({ status, json: { error: { code, message } }, headers });

const STATUS: Record<FailureKind, number> = { invalid: 400, "not-found": 404, conflict: 409, gone: 410, unavailable: 503 };

export const fromFailure = (f: Failure): Reply => apiError(STATUS[f.kind], f.code, f.message);

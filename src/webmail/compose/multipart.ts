/**
 * multipart/form-data for the compose form, bounded: the body is read only up to `maxBytes`
 * (a Content-Length over it, or a body that grows past it, is refused: 413 — the rest is read
 * and thrown away, up to DRAIN_CAP, so that the browser sees the answer instead of a reset
 * connection; past that the connection is cut), at most `maxParts` parts, field values at most
 * `maxFieldBytes`. Within those bounds the body is held in memory and split at the boundary
 * (the webmail also caps how many uploads are read at once: handlers/compose-handlers.ts), so
 * one request never costs more than `maxBytes`. Errors are values; never throws.
 */
import type http from "node:http";

export interface UploadedFile { field: string; filename: string; contentType: string; content: Buffer }
export type MultipartResult =
  | { ok: true; fields: URLSearchParams; files: UploadedFile[] }
  | { ok: false; status: 400 | 413 | 415; problem: string };
export interface MultipartLimits { maxBytes: number; maxParts: number; maxFieldBytes: number }

const CRLF2 = Buffer.from("\r\n\r\n");
/** Bytes of a refused body read and discarded (never kept) before the connection is cut. */
const DRAIN_CAP = 64 * 1024 * 1024;

function boundaryOf(contentType: string): string | null {
  const [type, ...params] = contentType.split(";");
  if (type.trim().toLowerCase() !== "multipart/form-data") return null;
  for (const p of params) {
    const m = /^\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))\s*$/i.exec(p);
    if (m) return m[1] ?? m[2];
  }
  return null;
}

function param(header: string, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, "i").exec(header) ?? new RegExp(`;\\s*${name}=([^;\\s]+)`, "i").exec(header);
  return m ? m[1].replace(/\\(.)/g, "$1") : undefined;
}

/** Reads at most `max` bytes of the body; null when it is longer (the rest is discarded, see drain). */
async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > max) { await drain(req, size); return null; }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads and discards what is left of a refused body, up to DRAIN_CAP in all, then cuts the connection. */
async function drain(req: http.IncomingMessage, seen = 0): Promise<void> {
  let size = seen;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > DRAIN_CAP) { req.socket.destroy(); return; }
  }
}

export function parseMultipart(body: Buffer, boundary: string, limits: MultipartLimits): MultipartResult {
  const fields = new URLSearchParams();
  const files: UploadedFile[] = [];
  const delim = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delim);
  if (pos < 0) return { ok: false, status: 400, problem: "no parts" };
  for (let parts = 0; ; parts++) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString() === "--") return { ok: true, fields, files };
    if (parts >= limits.maxParts) return { ok: false, status: 413, problem: "too many parts" };
    if (body.subarray(pos, pos + 2).toString() !== "\r\n") return { ok: false, status: 400, problem: "malformed boundary line" };
    pos += 2;
    const headEnd = body.indexOf(CRLF2, pos);
    if (headEnd < 0 || headEnd - pos > 8192) return { ok: false, status: 400, problem: "malformed part headers" };
    const headers = body.subarray(pos, headEnd).toString("utf8").split("\r\n");
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headEnd + 4);
    if (next < 0) return { ok: false, status: 400, problem: "unterminated part" };
    const content = body.subarray(headEnd + 4, next);
    pos = next + 2;
    const disposition = headers.find((h) => /^content-disposition:/i.test(h)) ?? "";
    const type = headers.find((h) => /^content-type:/i.test(h))?.replace(/^content-type:\s*/i, "").trim() ?? "";
    const name = param(disposition, "name");
    if (!name) continue;
    const filename = param(disposition, "filename");
    if (filename !== undefined) {
      if (filename || content.length) files.push({ field: name, filename, contentType: type || "application/octet-stream", content: Buffer.from(content) });
    } else {
      if (content.length > limits.maxFieldBytes) return { ok: false, status: 413, problem: `field ${name} too long` };
      fields.append(name, content.toString("utf8"));
    }
  }
}

export async function readMultipart(req: http.IncomingMessage, limits: MultipartLimits): Promise<MultipartResult> {
  const boundary = boundaryOf(String(req.headers["content-type"] ?? ""));
  if (!boundary) { req.resume(); return { ok: false, status: 415, problem: "not multipart/form-data" }; }
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > limits.maxBytes) { await drain(req); return { ok: false, status: 413, problem: "too large" }; }
  const body = await readBody(req, limits.maxBytes);
  if (!body) return { ok: false, status: 413, problem: "too large" };
  return parseMultipart(body, boundary, limits);
}

/**
 * A self-signed certificate and key for a test's TLS peer, made as mxspool makes its own
 * (src/smtp/tls.ts) in `dir` (no client in these tests verifies the chain; some read the
 * certificate's fields).
 */
import path from "node:path";
import { makeSelfSigned } from "../../src/smtp/tls.js";

export interface CertFiles { key: string; cert: string }

/** `<name>.key` and `<name>.crt` in `dir`, for `subject` (e.g. "/CN=mx2.example.test"), valid for `days`. */
export function selfSignedCert(dir: string, opts: { subject: string; days?: number; name?: string }): CertFiles {
  const name = opts.name ?? "tls";
  const files = { key: path.join(dir, `${name}.key`), cert: path.join(dir, `${name}.crt`) };
  makeSelfSigned(files, { subject: opts.subject, days: opts.days ?? 2 });
  return files;
}

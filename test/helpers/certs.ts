/**
 * A self-signed certificate and key for a test's TLS peer, made with openssl in `dir`
 * (no client in these tests verifies the chain; some read the certificate's fields).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";

export interface CertFiles { key: string; cert: string }

/** `<name>.key` and `<name>.crt` in `dir`, for `subject` (e.g. "/CN=mx2.example.test"), valid for `days`. */
export function selfSignedCert(dir: string, opts: { subject: string; days?: number; name?: string }): CertFiles {
  const name = opts.name ?? "tls";
  const key = path.join(dir, `${name}.key`), cert = path.join(dir, `${name}.crt`);
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", String(opts.days ?? 2), "-subj", opts.subject, "-keyout", key, "-out", cert],
    { stdio: "ignore", timeout: 60_000 });
  return { key, cert };
}

/**
 * The STARTTLS certificate: `smtp.tls.cert`/`key` when configured, otherwise a self-signed
 * pair for `hostname` made once in `<dataDir>/tls` with openssl (sending MTAs use
 * opportunistic TLS and do not check it; encryption still protects the session).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../config/schema.js";

export function tlsFiles(config: Config): { cert: string; key: string } {
  const t = config.smtp.tls;
  if (t.cert && t.key) return { cert: t.cert, key: t.key };
  const dir = path.join(config.dataDir, "tls");
  return { cert: path.join(dir, "cert.pem"), key: path.join(dir, "key.pem") };
}

/** Makes the self-signed pair if it does not exist yet. Runs once, in the primary process. */
export function ensureTlsFiles(config: Config): { generated: boolean } {
  const { cert, key } = tlsFiles(config);
  if (!config.smtp.tls.enabled || config.smtp.tls.cert || (fs.existsSync(cert) && fs.existsSync(key))) return { generated: false };
  fs.mkdirSync(path.dirname(cert), { recursive: true, mode: 0o700 });
  const cn = config.hostname.replace(/[^a-zA-Z0-9.-]/g, "");
  makeSelfSigned({ cert, key }, { subject: `/CN=${cn}`, days: 3650, altName: `DNS:${cn}` });
  fs.chmodSync(key, 0o600);
  return { generated: true };
}

/** Writes a self-signed RSA certificate and its key (openssl) to `files`, for `subject` (e.g. "/CN=mx2.example.test"), valid for `days`. */
export function makeSelfSigned(files: { cert: string; key: string }, opts: { subject: string; days: number; altName?: string }): void {
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", String(opts.days),
    "-subj", opts.subject, ...(opts.altName ? ["-addext", `subjectAltName=${opts.altName}`] : []), "-keyout", files.key, "-out", files.cert], { stdio: "ignore", timeout: 60_000 });
}

export function readTls(config: Config): { cert: Buffer; key: Buffer } | undefined {
  if (!config.smtp.tls.enabled) return undefined;
  const f = tlsFiles(config);
  return { cert: fs.readFileSync(f.cert), key: fs.readFileSync(f.key) };
}

/**
 * One health probe of one primary endpoint: connect, read the greeting, EHLO, QUIT, all
 * within `timeoutMs`. Up means the primary would take a transaction now.
 */
import SMTPConnection from "nodemailer/lib/smtp-connection";
import type { Endpoint } from "../transport/connection-pool.js";

export interface ProbeResult { up: boolean; ms: number; error?: string }

export function probeEndpoint(ep: Endpoint, name: string, timeoutMs: number): Promise<ProbeResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const conn = new SMTPConnection({
      host: ep.host, port: ep.port, name, logger: false, ignoreTLS: true,
      connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs, dnsTimeout: timeoutMs,
    });
    let done = false;
    const finish = (r: ProbeResult) => { if (!done) { done = true; clearTimeout(timer); resolve(r); } };
    const timer = setTimeout(() => { conn.close(); finish({ up: false, ms: Date.now() - started, error: "probe timed out" }); }, timeoutMs + 1000);
    conn.on("error", (err: Error) => finish({ up: false, ms: Date.now() - started, error: err.message }));
    conn.connect((err?: Error) => {
      if (err) { conn.close(); return finish({ up: false, ms: Date.now() - started, error: err.message }); }
      conn.quit();
      finish({ up: true, ms: Date.now() - started });
    });
  });
}

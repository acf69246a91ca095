/**
 * Sends one alert e-mail through the configured relay (alerts.email.relay) — never through a
 * primary, which may be the very thing that is down. nodemailer's SMTP client: STARTTLS when
 * offered (tls: opportunistic, any certificate), or required / implicit TLS with a verified
 * certificate, optional AUTH. Each step is bounded by `timeoutMs`; the whole send by a
 * deadline. Resolves with the relay's reply; throws on any failure (the worker retries).
 */
import SMTPConnection from "nodemailer/lib/smtp-connection";
import MailComposer from "nodemailer/lib/mail-composer";
import type { EmailAlertConfig } from "../config/alerts-schema.js";
import { parseHostPort } from "../config/host-port.js";

export async function sendAlertEmail(cfg: EmailAlertConfig, hostname: string, timeoutMs: number, mail: { subject: string; text: string; messageId: string }): Promise<string> {
  const raw = await new MailComposer({ from: cfg.from, to: cfg.to, subject: mail.subject, text: mail.text, messageId: mail.messageId, headers: { "Auto-Submitted": "auto-generated" } }).compile().build();
  const { host, port } = parseHostPort(cfg.relay);
  const conn = new SMTPConnection({
    host, port, name: hostname, logger: false,
    secure: cfg.tls === "implicit", requireTLS: cfg.tls === "required",
    tls: { rejectUnauthorized: cfg.tls !== "opportunistic" },
    connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs, dnsTimeout: timeoutMs,
  });
  const step = <T>(run: (cb: (err: Error | null, v?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => run((err, v) => (err ? reject(err) : resolve(v as T))));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error("e-mail alert timed out")), timeoutMs * 4); });
  const lost = new Promise<never>((_, reject) => {
    conn.once("error", reject);
    conn.once("end", () => reject(new Error("relay closed the connection")));
  });
  lost.catch(() => undefined);
  try {
    return await Promise.race([deadline, lost, (async () => {
      await step<void>((cb) => conn.connect(() => cb(null)));
      if (cfg.auth) await step<void>((cb) => conn.login({ user: cfg.auth!.user, pass: cfg.auth!.pass }, (err) => cb(err ?? null)));
      const info = await step<{ response: string }>((cb) => conn.send({ from: cfg.from, to: cfg.to }, raw, (err, i) => cb(err ?? null, i as { response: string })));
      conn.quit();
      return info.response;
    })()]);
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

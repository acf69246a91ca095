/**
 * The RFC 5321 §4.4 trace header mxspool prepends to each message, Postfix style:
 *
 *   Received: from helo.name (client.host [192.0.2.1])
 *   	(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)
 *   	by mx2.example.com (mxspool) with ESMTPS id 0MI8X...
 *   	for <user@example.com>; Sat, 21 Nov 2026 22:45:00 +0000
 *
 * The recipient is named only for single-recipient messages (as Postfix does), so the
 * header never discloses the other recipients of a message.
 */
export interface ReceivedFacts {
  helo?: string;
  clientHostname?: string;
  clientIp: string;
  hostname: string;
  id: string;
  tls?: { protocol?: string; cipher?: string };
  smtputf8: boolean;
  rcpts: string[];
  date: Date;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

export function rfc5322Date(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const abs = Math.abs(off);
  return `${DAYS[d.getDay()]}, ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/** Keeps client-supplied text from breaking the header: no controls, no parentheses games. */
const clean = (s: string) => s.replace(/[\x00-\x1f\x7f()]/g, "?").slice(0, 255);

export function receivedHeader(f: ReceivedFacts): string {
  const ip = f.clientIp.replace(/^::ffff:/, "");
  const ipText = ip.includes(":") ? `IPv6:${ip}` : ip;
  const from = `from ${clean(f.helo || "unknown")} (${clean(f.clientHostname && !f.clientHostname.startsWith("[") ? f.clientHostname : "unknown")} [${ipText}])`;
  const protocol = (f.smtputf8 ? "UTF8SMTP" : "ESMTP") + (f.tls ? "S" : "");
  const lines = [`Received: ${from}`];
  if (f.tls) lines.push(`\t(using ${clean(f.tls.protocol ?? "TLS")} with cipher ${clean(f.tls.cipher ?? "unknown")})`);
  lines.push(`\tby ${f.hostname} (mxspool) with ${protocol} id ${f.id}`);
  const forPart = f.rcpts.length === 1 ? `\tfor <${f.rcpts[0]}>; ` : "\t";
  lines.push(`${forPart}${rfc5322Date(f.date)}`);
  return lines.join("\r\n") + "\r\n";
}

/**
 * Pure checks on who is talking to us: address-in-network tests for the exemption and
 * requireTls lists, and HELO/EHLO name syntax (a domain name or an address literal, as
 * RFC 5321 §4.1.1.1 asks; Postfix's reject_invalid_helo_hostname).
 */
import net from "node:net";

function toBigInt(ip: string): { v: bigint; bits: number } | null {
  const plain = ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
  if (net.isIPv4(plain)) return { v: plain.split(".").reduce((a, o) => (a << 8n) + BigInt(Number(o)), 0n), bits: 32 };
  if (!net.isIPv6(plain)) return null;
  const [head, tail = ""] = plain.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = plain.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return { v: groups.reduce((a, g) => (a << 16n) + BigInt(parseInt(g || "0", 16)), 0n), bits: 128 };
}

/** Whether `ip` is in any of `cidrs` ("192.0.2.0/24", "2001:db8::/32", or a plain address). */
export function ipInList(ip: string, cidrs: string[]): boolean {
  const a = toBigInt(ip);
  if (!a) return false;
  return cidrs.some((c) => {
    const [base, lenText] = c.split("/");
    const b = toBigInt(base);
    if (!b || b.bits !== a.bits) return false;
    const len = lenText === undefined ? b.bits : Number(lenText);
    const shift = BigInt(b.bits - len);
    return (a.v >> shift) === (b.v >> shift);
  });
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/i;

export function validHeloName(name: string | undefined): boolean {
  if (!name || name.length > 255) return false;
  const lit = /^\[(?:IPv6:)?([^\]]+)\]$/i.exec(name);
  if (lit) return net.isIP(lit[1]) !== 0;
  if (net.isIP(name)) return false; // a bare IP must be written as a literal
  return name.replace(/\.$/, "").split(".").every((l) => LABEL.test(l));
}

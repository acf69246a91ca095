/**
 * The To/Cc/Bcc fields of the compose form: "Name <a@b>, c@d; …" into addresses, with an
 * error the user can act on for each entry that is not an address. Pure; never throws. The
 * addresses keep their local part as typed (it may be case-sensitive at the receiving end)
 * and get a lower-cased domain; duplicates across the three fields are dropped (first wins).
 * How many recipients a message may have is the outbound submitter's to say, not this.
 */
export interface Recipient { name: string; address: string }
export type RecipientFields = { to: string; cc: string; bcc: string };
export type ParsedRecipients = { ok: true; to: Recipient[]; cc: Recipient[]; bcc: Recipient[]; all: string[] } | { ok: false; errors: string[] };

const LOCAL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;
const LABELS: Record<keyof RecipientFields, string> = { to: "To", cc: "Cc", bcc: "Bcc" };
/** A field longer than this is refused as a whole (the form caps it too). */
export const MAX_FIELD = 8000;

/** The address in canonical form, or null when it is not a plain, dot-atom address. */
export function checkAddress(text: string): string | null {
  const at = text.lastIndexOf("@");
  if (at <= 0) return null;
  const local = text.slice(0, at);
  const domain = text.slice(at + 1).toLowerCase().replace(/\.$/, "");
  if (!LOCAL.test(local) || local.startsWith(".") || local.endsWith(".") || local.includes("..")) return null;
  return DOMAIN.test(domain) ? `${local}@${domain}` : null;
}

/** Splits at commas and semicolons outside quotes and angle brackets. */
function entries(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  let angle = false;
  for (const ch of text) {
    if (ch === '"' && !angle) quoted = !quoted;
    else if (ch === "<" && !quoted) angle = true;
    else if (ch === ">" && !quoted) angle = false;
    if ((ch === "," || ch === ";") && !quoted && !angle) { out.push(cur); cur = ""; continue; }
    cur += ch;
  }
  out.push(cur);
  return out.map((e) => e.trim()).filter(Boolean);
}

/** `Name <a@b>`, `"Name, Inc." <a@b>`, `<a@b>` or `a@b`; address "" when it has none of these shapes. */
function entry(text: string): { name: string; address: string } {
  const m = /^(?:"((?:[^"\\]|\\.)*)"|([^"<>]*?))\s*<([^<>\s]*)>$/.exec(text);
  if (m) return { name: (m[1] ?? m[2] ?? "").replace(/\\(.)/g, "$1").trim(), address: m[3] };
  return /^[^\s<>"]+$/.test(text) ? { name: "", address: text } : { name: text, address: "" };
}

export function parseRecipients(fields: RecipientFields): ParsedRecipients {
  const errors: string[] = [];
  const seen = new Set<string>();
  const out: Record<keyof RecipientFields, Recipient[]> = { to: [], cc: [], bcc: [] };
  for (const key of ["to", "cc", "bcc"] as const) {
    const text = fields[key].trim();
    if (!text) continue;
    if (text.length > MAX_FIELD) { errors.push(`${LABELS[key]}: too long.`); continue; }
    for (const piece of entries(text)) {
      const e = entry(piece);
      const address = checkAddress(e.address);
      if (!address) {
        const shown = piece.slice(0, 80);
        errors.push(`${LABELS[key]}: “${shown}” is not an e-mail address.`);
        continue;
      }
      if (seen.has(address.toLowerCase())) continue;
      seen.add(address.toLowerCase());
      out[key].push({ name: e.name.slice(0, 200), address });
    }
  }
  const all = [...out.to, ...out.cc, ...out.bcc].map((r) => r.address);
  if (!errors.length && all.length === 0) errors.push("Add at least one recipient.");
  return errors.length ? { ok: false, errors } : { ok: true, ...out, all };
}

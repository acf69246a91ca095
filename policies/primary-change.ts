/**
 * What changed at a domain's primary between two probes, and what it means for the spool.
 * The monitor records a fingerprint of the primary at every good probe (banner, EHLO
 * capabilities, STARTTLS certificate, addresses, the domain's MX set); a change made there
 * (a patch, a new certificate, a smaller SIZE, a moved MX) would otherwise surface only when
 * the spool drains into it during a disaster. Pure: facts in, one change per field out, each
 * with its old and new value, a severity and one sentence for people.
 */

export interface CertFacts { subject: string; issuer: string; fingerprint: string; validTo: number }
export interface MxRecord { exchange: string; priority: number }

/** What one probe saw; canonical (sorted, normalised) so that equal means unchanged. */
export interface PrimaryFingerprint {
  endpoint: string;                 // host:port that answered
  banner: string;                   // greeting text, code and dates removed
  capabilities: string[];           // EHLO keywords (with SIZE's value), sorted
  cert: CertFacts | null;           // the STARTTLS certificate; null without STARTTLS
  certExpiresSoon: boolean;         // expires within the warning window at the probe
  addresses: string[];              // the endpoints probed, sorted
  mx: MxRecord[] | null;            // the domain's MX set by preference; null = not known
}

export interface ChangeFacts {
  hostname: string;                 // our own MX name
  certExpiryWarnDays: number;
  now: number;
  /** Queued messages of the domain larger than a new SIZE limit (counted by the caller). */
  queuedLargerThan?: (bytes: number) => number;
}

export type ChangeField = "banner" | "size" | "starttls" | "capabilities" | "cert" | "cert-expiry" | "addresses" | "mx-missing-us" | "mx-preferred" | "mx";
export interface PrimaryChange { field: ChangeField; old: unknown; new: unknown; severity: "info" | "warning"; meaning: string }

const DATE = /(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),?\s+)?\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[+-]\d{4})?(?:\s*\([A-Za-z]+\))?/gi;

/** The greeting as a fingerprint: no reply code, no date or time of day (Sendmail and Exim print one). */
export function normaliseBanner(greeting: string): string {
  return greeting.split(/\r?\n/).map((l) => l.replace(/^\d{3}[ -]?/, "")).join(" ")
    .replace(DATE, "<date>").replace(/\b\d{1,2}:\d{2}:\d{2}\b/g, "<time>").replace(/\s+/g, " ").trim();
}

/** EHLO reply lines (code stripped or not) → sorted capability keywords; the first line is the server's name. */
export function capabilitiesFromEhlo(lines: string[]): string[] {
  return [...new Set(lines.slice(1).map((l) => l.replace(/^\d{3}[ -]?/, "").trim().toUpperCase().replace(/\s+/g, " ")).filter(Boolean))].sort();
}

export const sizeOf = (caps: string[]): number | null => {
  const s = caps.find((c) => c === "SIZE" || c.startsWith("SIZE "));
  if (!s) return null;
  const n = Number(s.slice(5));
  return Number.isFinite(n) && n > 0 ? n : 0; // SIZE without a value (or 0): no fixed limit
};
const keyword = (c: string) => c.split(" ")[0];
const norm = (h: string) => h.toLowerCase().replace(/\.$/, "");
const mb = (n: number) => `${Math.round((n / 1048576) * 10) / 10} MB`;
const sizeText = (n: number | null) => (n === null ? "no SIZE" : n === 0 ? "no limit" : mb(n));
const days = (ms: number) => Math.max(0, Math.floor(ms / 86_400_000));
const mxText = (mx: MxRecord[]) => mx.map((r) => `${r.priority} ${r.exchange}`).join(", ") || "none";

/** The lowest preference an MX naming one of the primary's hosts has (the primary's place in the MX set). */
function ourPreference(mx: MxRecord[], hostname: string): number | null {
  const ours = mx.filter((r) => norm(r.exchange) === norm(hostname)).map((r) => r.priority);
  return ours.length ? Math.min(...ours) : null;
}

/** Every change from `old` to `cur`, one per field; none when they are equal or there was no fingerprint before. */
export function primaryChanges(old: PrimaryFingerprint | null, cur: PrimaryFingerprint, f: ChangeFacts): PrimaryChange[] {
  if (!old) return [];
  const out: PrimaryChange[] = [];
  if (old.banner !== cur.banner)
    out.push({ field: "banner", old: old.banner, new: cur.banner, severity: "info", meaning: `the primary's banner changed (a new version or a new server?): "${old.banner}" → "${cur.banner}"` });

  const [s0, s1] = [sizeOf(old.capabilities), sizeOf(cur.capabilities)];
  if (s0 !== s1) {
    const smaller = s1 !== null && s1 > 0 && (s0 === null || s0 === 0 || s1 < s0);
    const larger = smaller ? (f.queuedLargerThan?.(s1) ?? 0) : 0;
    out.push({ field: "size", old: s0, new: s1, severity: smaller ? "warning" : "info",
      meaning: smaller ? `the primary's SIZE limit fell from ${sizeText(s0)} to ${mb(s1!)}: ${larger} queued message(s) are larger and will be refused`
        : `the primary's SIZE limit changed from ${sizeText(s0)} to ${sizeText(s1)}` });
  }
  const kw0 = new Set(old.capabilities.map(keyword)), kw1 = new Set(cur.capabilities.map(keyword));
  if (kw0.has("STARTTLS") !== kw1.has("STARTTLS"))
    out.push({ field: "starttls", old: kw0.has("STARTTLS"), new: kw1.has("STARTTLS"), severity: kw1.has("STARTTLS") ? "info" : "warning",
      meaning: kw1.has("STARTTLS") ? "STARTTLS is offered again" : "STARTTLS no longer offered: the spool's mail would go to the primary unencrypted" });
  const others = (s: Set<string>) => [...s].filter((k) => k !== "SIZE" && k !== "STARTTLS").sort();
  const [o0, o1] = [others(kw0), others(kw1)];
  if (o0.join(" ") !== o1.join(" ")) {
    const gone = o0.filter((k) => !kw1.has(k)), added = o1.filter((k) => !kw0.has(k));
    out.push({ field: "capabilities", old: o0, new: o1, severity: gone.length ? "warning" : "info",
      meaning: [gone.length ? `no longer offered: ${gone.join(", ")}` : "", added.length ? `newly offered: ${added.join(", ")}` : ""].filter(Boolean).join("; ")
        + (gone.includes("SMTPUTF8") ? " (queued internationalised mail will be refused)" : gone.includes("8BITMIME") ? " (8-bit mail must be converted)" : "") });
  }
  if (old.cert && cur.cert && old.cert.fingerprint !== cur.cert.fingerprint)
    out.push({ field: "cert", old: old.cert, new: cur.cert, severity: "info",
      meaning: `the primary's certificate changed: now ${cur.cert.subject} issued by ${cur.cert.issuer}, expires ${new Date(cur.cert.validTo).toISOString().slice(0, 10)}` });
  if (cur.cert && cur.certExpiresSoon && (!old.certExpiresSoon || old.cert?.fingerprint !== cur.cert.fingerprint))
    out.push({ field: "cert-expiry", old: old.cert?.validTo ?? null, new: cur.cert.validTo, severity: "warning",
      meaning: cur.cert.validTo <= f.now ? "the primary's certificate has expired" : `certificate expires in ${days(cur.cert.validTo - f.now)} days` });
  if (old.addresses.join(",") !== cur.addresses.join(","))
    out.push({ field: "addresses", old: old.addresses, new: cur.addresses, severity: "info", meaning: `the primary's addresses changed: ${old.addresses.join(", ") || "none"} → ${cur.addresses.join(", ") || "none"}` });

  if (old.mx && cur.mx && mxText(old.mx) !== mxText(cur.mx)) {
    const [us0, us1] = [ourPreference(old.mx, f.hostname), ourPreference(cur.mx, f.hostname)];
    // the primary's place: the best MX that is not us
    const best = (mx: MxRecord[]) => mx.filter((r) => norm(r.exchange) !== norm(f.hostname)).reduce<MxRecord | null>((a, r) => (!a || r.priority < a.priority ? r : a), null);
    const [b0, b1] = [best(old.mx), best(cur.mx)];
    if (us0 !== null && us1 === null)
      out.push({ field: "mx-missing-us", old: old.mx, new: cur.mx, severity: "warning", meaning: `mxspool (${f.hostname}) is no longer in the MX set: no backup mail will reach it` });
    else if (b0 && b1 && b1.priority < b0.priority && norm(b1.exchange) !== norm(b0.exchange))
      out.push({ field: "mx-preferred", old: old.mx, new: cur.mx, severity: "warning",
        meaning: `an MX with a lower preference than the primary now exists: ${b1.priority} ${b1.exchange} (was ${b0.priority} ${b0.exchange})` });
    else out.push({ field: "mx", old: old.mx, new: cur.mx, severity: "info", meaning: `the MX set changed: ${mxText(old.mx)} → ${mxText(cur.mx)}` });
  }
  return out;
}

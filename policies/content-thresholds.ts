/**
 * The content verdict: a pure function from what the scanners said and the configured
 * thresholds to the answer at the end of DATA. First match wins:
 *   virus found                          -> 554 5.7.1 Virus found: <signature>
 *   spam score >= rejectScore            -> 550 5.7.1 Message rejected as spam
 *   no scan slot within queueTimeout     -> 451 4.3.2 (load, whatever onError says)
 *   scanner down/timeout/failed, tempfail -> 451 4.7.1 (the sender retries later)
 *   otherwise accept, adding X-Spam-* when score >= tagScore, and flagged "unscanned" with an
 *   X-Mxspool-Unscanned header when a scanner failed under onError: accept or clamav skipped
 *   a message over its maxSize. SpamAssassin skipping an oversized message is normal (spamc's
 *   behaviour) and flags nothing.
 * A scanner that is not configured has no outcome (undefined) and is simply not consulted.
 */
import type { FilterVerdict } from "./verdict.js";
import type { SpamOutcome, VirusOutcome } from "./scan-outcome.js";
import { formatScore, spamHeaders, unscannedHeader } from "./verdict-headers.js";

export type OnError = "tempfail" | "accept";

export interface ThresholdConfig {
  clamav?: { onError: OnError };
  spamassassin?: { onError: OnError; tagScore: number; rejectScore: number };
}

export interface ScanResults { virus?: VirusOutcome; spam?: SpamOutcome }

const signatureText = (s: string) => s.replace(/[^\x21-\x7e]+/g, "_").slice(0, 120);

export function contentVerdict(results: ScanResults, config: ThresholdConfig): FilterVerdict {
  const { virus, spam } = results;
  if (virus?.status === "infected") {
    return { action: "reject", code: 554, enhanced: "5.7.1", text: `Virus found: ${signatureText(virus.signature)}`, reason: "virus" };
  }
  const sa = config.spamassassin;
  if (spam?.status === "scored" && sa && spam.score >= sa.rejectScore) {
    return { action: "reject", code: 550, enhanced: "5.7.1", text: `Message rejected as spam (score ${formatScore(spam.score)})`, reason: "spam" };
  }
  if (virus?.status === "busy" || spam?.status === "busy") {
    return { action: "tempfail", code: 451, enhanced: "4.3.2", text: "Content scanners busy, try again later", reason: "filters-busy" };
  }
  const failures: { scanner: string; why: string; onError: OnError }[] = [];
  if (virus?.status === "error") failures.push({ scanner: "clamav", why: virus.error, onError: config.clamav?.onError ?? "tempfail" });
  if (spam?.status === "error") failures.push({ scanner: "spamassassin", why: spam.error, onError: sa?.onError ?? "tempfail" });
  const fatal = failures.filter((f) => f.onError === "tempfail");
  if (fatal.length) {
    return { action: "tempfail", code: 451, enhanced: "4.7.1", text: "Content scanner unavailable, try again later",
      reason: fatal.map((f) => `${f.scanner}-${f.why}`).join(",") };
  }
  const unscanned = failures.map(({ scanner, why }) => ({ scanner, why }));
  if (virus?.status === "skipped") unscanned.unshift({ scanner: "clamav", why: "too big" });
  let headers = "";
  if (spam?.status === "scored" && sa && spam.score >= sa.tagScore) headers += spamHeaders(spam.score, sa.tagScore, spam.rules);
  headers += unscannedHeader(unscanned);
  return { action: "accept", ...(headers ? { headers } : {}), ...(unscanned.length ? { flags: ["unscanned"] } : {}) };
}

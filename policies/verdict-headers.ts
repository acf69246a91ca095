/**
 * The header lines a filter verdict adds: X-Spam-* for a tagged message and
 * X-Mxspool-Unscanned for one accepted without a scan. Pure. Every line is CRLF-terminated,
 * printable ASCII and folded before 78 characters where it can be, because the caller
 * prepends these lines to the stored message as they are (the message itself is never
 * touched, so DKIM signatures still verify).
 */
import type { SpamRule } from "./scan-outcome.js";

const clean = (s: string) => s.replace(/[^\x20-\x7e]+/g, " ").replace(/\s+/g, " ").trim();

/** "Name: a b c" folded at spaces so that lines stay under `width` where the tokens allow. */
export function foldHeader(name: string, tokens: string[], width = 78): string {
  let out = `${name}:`;
  let line = out.length;
  for (const t of tokens) {
    if (line + 1 + t.length > width && line > name.length + 1) {
      out += "\r\n\t" + t;
      line = 1 + t.length;
    } else {
      out += " " + t;
      line += 1 + t.length;
    }
  }
  return out + "\r\n";
}

/** Cut at a word boundary to at most `max` characters, marking the cut with "...". */
export function shorten(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.lastIndexOf(" ", max - 3);
  return (cut > max / 2 ? s.slice(0, cut) : s.slice(0, max - 3)) + "...";
}

export const formatScore = (n: number) => (Object.is(n, -0) ? 0 : n).toFixed(1);

/** The rules worth showing: non-zero ones, largest first, at most `max`. */
export function reportRules(rules: SpamRule[], max = 10): SpamRule[] {
  return rules.filter((r) => r.score !== 0).sort((a, b) => Math.abs(b.score) - Math.abs(a.score)).slice(0, max);
}

export function spamHeaders(score: number, tagScore: number, rules: SpamRule[]): string {
  const names = rules.map((r) => clean(r.name)).filter(Boolean);
  const tests = names.length ? names.map((n, i) => (i < names.length - 1 ? `${n},` : n)) : ["none"];
  let h = "X-Spam-Flag: YES\r\n";
  h += foldHeader("X-Spam-Status", ["Yes,", `score=${formatScore(score)}`, `required=${formatScore(tagScore)}`, "tests=" + tests[0], ...tests.slice(1)]);
  h += `X-Spam-Score: ${formatScore(score)}\r\n`;
  const shown = reportRules(rules);
  if (shown.length) {
    const rows = shown.map((r) => shorten(`* ${formatScore(r.score).padStart(5)} ${clean(r.name)} ${clean(r.description)}`, 76));
    h += `X-Spam-Report: ${rows.join("\r\n\t")}\r\n`;
  }
  return h;
}

export function unscannedHeader(items: { scanner: string; why: string }[]): string {
  if (!items.length) return "";
  return foldHeader("X-Mxspool-Unscanned", items.map((x, i) => `${x.scanner} (${clean(x.why)})${i < items.length - 1 ? "," : ""}`));
}

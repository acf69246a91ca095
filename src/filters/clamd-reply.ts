/**
 * Reads clamd's answer to a "z"-prefixed INSTREAM (NUL-terminated text) into a VirusOutcome.
 * Pure. "stream: OK" is clean, "stream: NAME FOUND" infected, anything ending in ERROR (e.g.
 * "INSTREAM size limit exceeded. ERROR") or unrecognised text is a failure.
 */
import type { VirusOutcome } from "../../policies/scan-outcome.js";

export function parseClamdReply(raw: string): VirusOutcome {
  const text = raw.replace(/\0[\s\S]*$/, "").trim();
  if (/^(?:stream|\d+): OK$/.test(text)) return { status: "clean" };
  const found = /^(?:stream|\d+): (.+) FOUND$/.exec(text);
  if (found) return { status: "infected", signature: found[1] };
  if (!text) return { status: "error", error: "failed", detail: "clamd closed the connection without an answer" };
  return { status: "error", error: "failed", detail: `clamd: ${text.slice(0, 200)}` };
}

/**
 * `mxspool primary history DOMAIN [--limit N] [--json]`: the primary's fingerprints, newest
 * first (GET /api/primaries/{domain}/history): when each was first seen, its banner, SIZE,
 * STARTTLS certificate and MX set, and what changed from the one before.
 */
import { parseArgs } from "node:util";
import type { ApiClient } from "./api-client.js";
import { clip, size, table, time } from "./format.js";
import type { FingerprintEntry } from "../monitor/fingerprint-recorder.js";
import { sizeOf } from "../../policies/primary-change.js";

const options = { json: { type: "boolean" }, limit: { type: "string" } } as const;
const USAGE = "usage: mxspool primary history DOMAIN [--limit N] [--json]\n";

export async function primaryCommand(args: string[], client: ApiClient): Promise<number> {
  const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
  if (positionals[0] !== "history" || positionals.length !== 2) { process.stderr.write(USAGE); return 2; }
  const q = values.limit ? `?limit=${encodeURIComponent(values.limit)}` : "";
  const r = await client.call<{ domain: string; items: FingerprintEntry[] }>("GET", `/api/primaries/${encodeURIComponent(positionals[1])}/history${q}`);
  if (values.json) { process.stdout.write(JSON.stringify(r, null, 2) + "\n"); return 0; }
  if (!r.items.length) { process.stdout.write(`no fingerprint of ${r.domain}'s primary yet (recorded at its first good probe)\n`); return 0; }
  const rows = r.items.map(({ at, fingerprint: f, changes }, i) => {
    const s = sizeOf(f.capabilities);
    return [time(at), f.endpoint, clip(f.banner, 40), s === null ? "-" : s === 0 ? "no limit" : size(s), f.capabilities.some((c) => c === "STARTTLS") ? "yes" : "no",
      f.cert ? `${f.cert.validTo ? new Date(f.cert.validTo).toISOString().slice(0, 10) : "?"} ${f.cert.fingerprint.slice(0, 11)}` : "-",
      f.mx ? f.mx.map((m) => `${m.priority} ${m.exchange}`).join(", ") : "?",
      changes.length ? clip(changes.map((c) => c.meaning).join("; "), 80) : i === r.items.length - 1 ? "(oldest kept)" : "-"];
  });
  process.stdout.write(table(["SEEN", "ENDPOINT", "BANNER", "SIZE", "TLS", "CERT (EXPIRES FP)", "MX", "CHANGES"], rows) + "\n");
  return 0;
}

/**
 * The local recipients of each configured domain, from `domains.<d>.recipients`:
 * "*" (everyone), a list, or a file of addresses (one per line, # comments), reloaded when
 * the file changes or on SIGHUP. Lookups are case-insensitive.
 */
import fs from "node:fs";
import type { Config } from "../config/schema.js";
import type { RecipientDirectory } from "../../policies/recipients.js";
import type { Logger } from "../observability/log.js";

type Source = { kind: "any" } | { kind: "verify" } | { kind: "list"; set: Set<string> } | { kind: "file"; file: string; set: Set<string> };

function readList(file: string): Set<string> {
  const set = new Set<string>();
  for (const line of fs.readFileSync(file, "utf8").split(/\r?\n/)) {
    const t = line.replace(/#.*/, "").trim().toLowerCase();
    if (t) set.add(t);
  }
  return set;
}

export class ConfiguredRecipients implements RecipientDirectory {
  private readonly sources = new Map<string, Source>();
  private watchers: fs.StatWatcher[] = [];

  constructor(config: Config, private readonly log: Logger) {
    for (const [domain, d] of Object.entries(config.domains)) {
      const r = d.recipients;
      if (r === "*") this.sources.set(domain, { kind: "any" });
      else if (Array.isArray(r)) this.sources.set(domain, { kind: "list", set: new Set(r.map((a) => a.toLowerCase())) });
      else if ("verify" in r) this.sources.set(domain, { kind: "verify" });
      else this.sources.set(domain, { kind: "file", file: r.file, set: readList(r.file) });
    }
  }

  hasDomain(domain: string): boolean { return this.sources.has(domain); }

  knows(address: string, domain: string): boolean | "verify" {
    const s = this.sources.get(domain);
    if (!s) return false;
    if (s.kind === "verify") return "verify";
    return s.kind === "any" || s.set.has(address.toLowerCase());
  }

  /** Re-reads every recipients file; a file that cannot be read keeps its last good list. */
  reload(): void {
    for (const [domain, s] of this.sources) {
      if (s.kind !== "file") continue;
      try {
        s.set = readList(s.file);
        this.log.info({ event: "RECIPIENTS_RELOADED", domain, count: s.set.size }, "recipients file reloaded");
      } catch (err) {
        this.log.error({ event: "RECIPIENTS_RELOAD_FAILED", domain, err: (err as Error).message }, "recipients file unreadable; keeping the previous list");
      }
    }
  }

  watch(): void {
    for (const s of this.sources.values()) {
      if (s.kind === "file") this.watchers.push(fs.watchFile(s.file, { interval: 2000 }, () => this.reload()));
    }
  }

  close(): void {
    for (const s of this.sources.values()) if (s.kind === "file") fs.unwatchFile(s.file);
    this.watchers = [];
  }
}

/**
 * `mxspool queue ...`: the queue as the admin on the box sees it, through the API.
 *   ls [--state S] [--domain D] [--rcpt A] [--from F] [--q TEXT] [--since T] [--direction inbound|outbound] [--limit N] [--cursor C] [--all]
 *   show ID | raw ID
 *   retry|hold|release|rm|redeliver ID...      one message each
 *   retry|hold|release|rm --state/--domain/--rcpt/--from/--q/--since ...   every match (bulk)
 *   retry|hold|release|rm --all                every message (bulk; never without --all: a blank
 *                                              --q or --since 0 filters nothing and is refused)
 *   flush [DOMAIN...]                          deliver now, ignoring backoff (all domains by default)
 * --json prints the API's JSON instead of tables. Exit 1 when any action failed.
 */
import { parseArgs } from "node:util";
import { CliError, errorText, type ApiClient } from "./api-client.js";
import { clip, size, table, time } from "./format.js";
import { everythingRefusal, normaliseFilter } from "../admin/bulk-scope.js";

interface Summary { id: string; domain: string; envelope: { from: string; to: string[] }; subject: string; size: number; receivedAt: number; state: string; attempts: number; lastError: string | null; nextAttempt: number | null }
interface Page { items: Summary[]; next: string | null }
interface Detail extends Summary {
  finalAt: number | null; recipients: { address: string; state: string; reply: string | null }[]; client: { ip?: string; helo?: string; hostname?: string } | null;
  bytes: { stored: boolean; size: number }; job: { state: string; attemptsMade: number; runAt?: number } | null; ledger: { at: number; type: string; [k: string]: unknown }[];
}

const FILTERS = ["state", "domain", "rcpt", "from", "q", "since", "direction"] as const;
const ACTIONS: Record<string, { path: string; method: string; bulk?: string; past: string }> = {
  retry: { path: "retry", method: "POST", bulk: "retry", past: "retried" },
  hold: { path: "hold", method: "POST", bulk: "hold", past: "held" },
  release: { path: "release", method: "POST", bulk: "release", past: "released" },
  rm: { path: "", method: "DELETE", bulk: "delete", past: "deleted" },
  redeliver: { path: "redeliver", method: "POST", past: "queued for redelivery" },
};

const options = {
  json: { type: "boolean" }, all: { type: "boolean" }, limit: { type: "string" }, cursor: { type: "string" },
  ...Object.fromEntries(FILTERS.map((f) => [f, { type: "string" }])),
} as const;

export async function queueCommand(args: string[], client: ApiClient): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options, strict: true, allowPositionals: true });
  const json = Boolean(values.json);
  const out = (s: string) => process.stdout.write(s);
  const v = values as Record<string, string | boolean | undefined>;
  const filters = Object.fromEntries(FILTERS.filter((f) => v[f] !== undefined).map((f) => [f, String(v[f])]));
  switch (sub) {
    case "ls": {
      if (positionals.length) throw new CliError(`queue ls takes no arguments (got ${positionals[0]})`, 2);
      const items: Summary[] = [];
      let cursor = values.cursor;
      let next: string | null = null;
      do {
        const qs = new URLSearchParams({ ...filters, limit: values.limit ?? (values.all ? "500" : "50"), ...(cursor ? { cursor } : {}) });
        const page = await client.call<Page>("GET", `/api/messages?${qs}`);
        items.push(...page.items);
        next = page.next;
        cursor = next ?? undefined;
      } while (values.all && next);
      if (json) { out(JSON.stringify({ items, next }, null, 2) + "\n"); return 0; }
      out(table(["ID", "RECEIVED", "STATE", "ATT", "SIZE", "FROM", "TO", "SUBJECT"], items.map((m) => [
        m.id, time(m.receivedAt), m.state, String(m.attempts), size(m.size), clip(m.envelope.from || "<>", 30),
        clip(m.envelope.to[0] + (m.envelope.to.length > 1 ? ` +${m.envelope.to.length - 1}` : ""), 30), clip(m.subject, 40),
      ])));
      out(`${items.length} message(s)` + (next ? `; more: mxspool queue ls --cursor ${next}${Object.entries(filters).map(([k, v]) => ` --${k} ${JSON.stringify(v)}`).join("")}` : "") + "\n");
      return 0;
    }
    case "show": {
      const id = one(positionals, "show");
      const m = await client.call<Detail>("GET", `/api/messages/${encodeURIComponent(id)}`);
      if (json) { out(JSON.stringify(m, null, 2) + "\n"); return 0; }
      const kv = (k: string, v: string) => `${(k + ":").padEnd(14)}${v}\n`;
      let s = kv("id", m.id) + kv("state", `${m.state}, ${m.attempts} attempt(s)`) + kv("domain", m.domain) + kv("from", m.envelope.from || "<>") +
        kv("received", time(m.receivedAt)) + kv("subject", m.subject) + kv("size", size(m.size)) + kv("client", m.client?.ip ? `${m.client.ip} (helo ${m.client.helo ?? "?"})` : "-") +
        kv("last error", m.lastError ?? "-") + kv("next attempt", time(m.nextAttempt)) + kv("job", m.job ? `${m.job.state}${m.job.runAt ? ` until ${time(m.job.runAt)}` : ""}` : "none") +
        kv("bytes", m.bytes.stored ? "stored" : "gone") + "recipients:\n";
      for (const r of m.recipients) s += `  ${r.address}  ${r.state}${r.reply ? `  ${clip(r.reply, 80)}` : ""}\n`;
      s += "ledger:\n";
      for (const e of m.ledger) {
        const { at, type, ...more } = e;
        s += `  ${time(at)}  ${type}  ${clip(JSON.stringify(more), 120)}\n`;
      }
      out(s);
      return 0;
    }
    case "raw": {
      const id = one(positionals, "raw");
      const r = await client.request("GET", `/api/messages/${encodeURIComponent(id)}/raw`);
      if (r.status !== 200) throw new CliError(errorText(r));
      process.stdout.write(r.bytes);
      return 0;
    }
    case "flush": {
      const domains = positionals.length ? positionals : (await client.call<{ primaries: { domain: string }[] }>("GET", "/api/primaries")).primaries.map((p) => p.domain);
      const results = [];
      for (const d of domains) results.push(await client.call<{ domain: string; promoted: number; queuePaused: boolean }>("POST", `/api/domains/${encodeURIComponent(d)}/flush`));
      if (json) out(JSON.stringify(results, null, 2) + "\n");
      else for (const r of results) out(`${r.domain}: ${r.promoted} delayed message(s) moved to the front${r.queuePaused ? " (the queue is paused: they go when the primary is up and no admin pause is set)" : ""}\n`);
      return 0;
    }
    default: {
      const action = sub ? ACTIONS[sub] : undefined;
      if (!action) throw new CliError(`unknown queue command ${sub ?? "(none)"}; expected ls, show, raw, retry, hold, release, rm, redeliver or flush`, 2);
      if (positionals.length && Object.keys(filters).length) throw new CliError("give message ids or filter options, not both", 2);
      if (positionals.length && values.all) throw new CliError("give message ids or --all, not both", 2);
      if (!positionals.length) {
        if (!action.bulk) throw new CliError(`queue ${sub} works on message ids only`, 2);
        const scope = normaliseFilter(filters);
        if (!values.all && !Object.keys(filters).length) throw new CliError(`queue ${sub} needs message ids, filter options (--state, --domain, --rcpt, --from, --q, --since) for every match, or --all for every message`, 2);
        if (!values.all && scope.selectsEverything) throw new CliError(everythingRefusal(scope.dropped, "--all"), 2);
        if (values.all && !scope.selectsEverything) throw new CliError("--all acts on every message: give it without filter options, or drop it to act on the matches", 2);
        const body = values.all ? { action: action.bulk, all: true } : { action: action.bulk, filter: scope.filter };
        const r = await client.call<{ matched: number; touched: number; skipped: Record<string, number> }>("POST", "/api/messages/bulk", body, 600_000);
        if (json) out(JSON.stringify(r, null, 2) + "\n");
        else out(`${r.touched} of ${r.matched} matching message(s) ${action.past}` + (Object.keys(r.skipped).length ? `; skipped: ${Object.entries(r.skipped).map(([k, n]) => `${n} ${k}`).join(", ")}` : "") + "\n");
        return 0;
      }
      let failed = 0;
      const results: unknown[] = [];
      for (const id of positionals) {
        const r = await client.request(action.method, `/api/messages/${encodeURIComponent(id)}${action.path ? `/${action.path}` : ""}`);
        results.push(r.body);
        if (r.status === 200) { if (!json) out(`${id}: ${action.past}${(r.body as { queuePaused?: boolean }).queuePaused ? " (its queue is paused)" : ""}\n`); }
        else { failed++; if (!json) process.stderr.write(`${id}: ${errorText(r)}\n`); }
      }
      if (json) out(JSON.stringify(results, null, 2) + "\n");
      return failed ? 1 : 0;
    }
  }
}

function one(positionals: string[], cmd: string): string {
  if (positionals.length !== 1) throw new CliError(`queue ${cmd} takes one message id`, 2);
  return positionals[0];
}

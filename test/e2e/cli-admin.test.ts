/**
 * The admin commands as the admin on the box runs them: `mxspool status` and `mxspool queue
 * ls|show|raw|retry|hold|release|rm|redeliver|flush` against a running mxspool, finding the
 * API and its token in the same config file `start` uses (--config or MXSPOOL_CONFIG), with
 * human tables, --json, bulk actions by filter, and the exit codes (0 ok, 1 refused or
 * unreachable, 2 usage or configuration).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliPath, MxspoolProcess } from "../helpers/mxspool-process.js";
import { freePort, waitFor } from "../helpers/net.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { compose, sendAll, type TestMessage } from "../helpers/messages.js";

const TOKEN = "cli-admin-token-0123456789";

describe("mxspool status and mxspool queue", () => {
  let redis: TestRedis;
  let primary: RecordingPrimary;
  let mx: MxspoolProcess;
  let smtpPort: number;
  const ids = new Map<string, string>();
  const raws = new Map<string, Buffer>();

  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [cliPath(), ...args], { encoding: "utf8", env: { ...process.env, MXSPOOL_ADMIN_TOKEN: "", MXSPOOL_CONFIG: mx.configFile, ...env } });
  const runBytes = (args: string[]) => spawnSync(process.execPath, [cliPath(), ...args], { env: { ...process.env, MXSPOOL_CONFIG: mx.configFile } });

  beforeAll(async () => {
    redis = await startRedis();
    primary = new RecordingPrimary({ port: await freePort(), closeTimeout: 100 });
    smtpPort = await freePort();
    mx = new MxspoolProcess({
      hostname: "mx2.example.test",
      smtp: { listen: [`127.0.0.1:${smtpPort}`], processes: 1, reverseLookup: false },
      http: { listen: `0.0.0.0:${await freePort()}`, adminToken: TOKEN },
      redis: { url: redis.url },
      domains: { "example.test": { primary: [`127.0.0.1:${primary.port}`] } },
      monitor: { interval: "1s", timeout: "1s" },
      delivery: { retry: { first: "1s", max: "2s" } },
      retention: { delivered: "1h" },
    });
    await mx.start();
    const msgs: TestMessage[] = [];
    for (let i = 0; i < 6; i++) {
      const testId = `cli-${i}`;
      const to = [`user${i}@example.test`];
      const subject = i < 2 ? `Urgent invoice ${i}` : `hello ${i}`;
      const raw = await compose({ testId, from: `s${i}@sender.test`, to, subject });
      raws.set(testId, raw);
      msgs.push({ testId, from: `s${i}@sender.test`, to, raw });
    }
    const { accepted, errors } = await sendAll(smtpPort, msgs, 1);
    expect([...errors.values()]).toEqual([]);
    for (const [t, reply] of accepted) ids.set(t, /queued as ([0-9A-Z]{20})/.exec(reply)![1]);
  });

  afterAll(async () => {
    await mx?.stop();
    await primary?.stop();
    await redis?.stop();
    mx?.cleanup();
  });

  it("status shows each primary, the queue per state, totals, the scanners and the hours of outage that fit", () => {
    const r = run(["status"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^mxspool on mx2\.example\.test/);
    expect(r.stdout).toMatch(/^DOMAIN +PRIMARY +SINCE +LAST PROBE +QUEUE +LAST ERROR$/m);
    expect(r.stdout).toMatch(/^example\.test +down +\d+s ago +\d+s ago +paused +127\.0\.0\.1:\d+: connect ECONNREFUSED/m);
    expect(r.stdout).toMatch(/^queue: +6 queued, 0 deferred, 0 active, 0 held/m);
    expect(r.stdout).toMatch(/^totals: +6 accepted, 0 delivered/m);
    expect(r.stdout).toMatch(/^scanners: disabled/m);
    expect(r.stdout).toMatch(/^memory: +Redis \d+ MiB of \d+ MiB \(.+\), \d+ bytes per queued message, room for ~\d+ more: about [\d.]+ h of outage at [\d.]+\/h$/m);
    const json = JSON.parse(run(["status", "--json"]).stdout);
    expect(json.domains["example.test"].primary.state).toBe("down");
    expect(json.queue.queued).toBe(6);
  });

  it("queue ls lists newest first in a table, filters, pages with a cursor, and prints JSON", () => {
    const r = run(["queue", "ls"]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ID +RECEIVED +STATE +ATT +SIZE +FROM +TO +SUBJECT$/);
    expect(lines.slice(1, 7).map((l) => l.split(/\s+/)[0])).toEqual([5, 4, 3, 2, 1, 0].map((i) => ids.get(`cli-${i}`)));
    expect(lines[1]).toMatch(/ queued +0 +\d+(\.\d)? (B|KB) +s5@sender\.test +user5@example\.test +hello 5$/);
    expect(lines[7]).toBe("6 message(s)");

    const filtered = run(["queue", "ls", "--q", "invoice"]);
    expect(filtered.stdout).toMatch(/Urgent invoice 1[\s\S]*Urgent invoice 0/);
    expect(filtered.stdout).toMatch(/^2 message\(s\)$/m);

    const page1 = run(["queue", "ls", "--limit", "4"]);
    const more = /more: mxspool queue ls --cursor (\S+)/.exec(page1.stdout);
    expect(more).not.toBeNull();
    const page2 = run(["queue", "ls", "--limit", "4", "--cursor", more![1]]);
    expect(page2.stdout).toMatch(new RegExp(`^${ids.get("cli-1")}`, "m"));
    expect(page2.stdout).toMatch(/^2 message\(s\)$/m);
    expect(run(["queue", "ls", "--limit", "2", "--all"]).stdout).toMatch(/^6 message\(s\)$/m);

    const json = JSON.parse(run(["queue", "ls", "--json", "--rcpt", "user3@example.test"]).stdout);
    expect(json.items.map((m: { id: string }) => m.id)).toEqual([ids.get("cli-3")]);
  });

  it("queue show prints the record and its ledger; queue raw prints the message bytes", () => {
    const id = ids.get("cli-2")!;
    const show = run(["queue", "show", id]);
    expect(show.status).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^id: +${id}$`, "m"));
    expect(show.stdout).toMatch(/^state: +queued, 0 attempt\(s\)$/m);
    expect(show.stdout).toMatch(/^subject: +hello 2$/m);
    expect(show.stdout).toMatch(/^recipients:\n {2}user2@example\.test {2}pending$/m);
    expect(show.stdout).toMatch(/^ledger:\n {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}received /m);
    const raw = runBytes(["queue", "raw", id]);
    expect(raw.status).toBe(0);
    const text = raw.stdout.toString("latin1");
    expect(text).toMatch(/^Received: from /);
    expect(text.endsWith(raws.get("cli-2")!.toString("latin1"))).toBe(true);
  });

  it("queue hold, release, retry and rm act on ids and say what they did; a refused action exits 1", () => {
    const id = ids.get("cli-4")!;
    expect(run(["queue", "hold", id]).stdout).toBe(`${id}: held\n`);
    const again = run(["queue", "hold", id]);
    expect(again.status).toBe(1);
    expect(again.stderr).toBe(`${id}: ALREADY_HELD: message ${id} is already held\n`);
    expect(run(["queue", "ls", "--state", "held"]).stdout).toMatch(new RegExp(`^${id} .* held `, "m"));
    expect(run(["queue", "release", id]).stdout).toBe(`${id}: released (its queue is paused)\n`);
    expect(run(["queue", "retry", id]).stdout).toBe(`${id}: retried (its queue is paused)\n`);
    const rm = run(["queue", "rm", id, ids.get("cli-5")!]);
    expect(rm.status).toBe(0);
    expect(rm.stdout).toBe(`${id}: deleted\n${ids.get("cli-5")}: deleted\n`);
    const show = run(["queue", "show", id]);
    expect(show.stdout).toMatch(/^state: +deleted/m);
    expect(show.stdout).toMatch(/ held +\{"actor":"cli:[^"]+"/);
    const bad = run(["queue", "rm", "not-an-id"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^not-an-id: INVALID_ID: /);
  });

  it("queue hold/release/rm with filter options act on every match (bulk)", () => {
    const hold = run(["queue", "hold", "--q", "Urgent invoice"]);
    expect(hold.status).toBe(0);
    expect(hold.stdout).toBe("2 of 2 matching message(s) held\n");
    expect(run(["queue", "release", "--state", "held"]).stdout).toBe("2 of 2 matching message(s) released\n");
    const json = JSON.parse(run(["queue", "hold", "--q", "Urgent", "--json"]).stdout);
    expect(json).toEqual({ action: "hold", matched: 2, touched: 2, skipped: {} });
    expect(run(["queue", "release", "--q", "Urgent"]).status).toBe(0);
  });

  it("queue hold/rm never act on everything without --all: a blank --q or --since 0 is refused (exit 2), --all acts on every message", () => {
    for (const args of [["hold", "--q", " "], ["rm", "--since", "0"], ["hold"]]) {
      const r = run(["queue", ...args]);
      expect(r.status, `queue ${args.join(" ")}: ${r.stdout}`).toBe(2);
      expect(r.stderr).toMatch(/--all/);
    }
    expect(run(["queue", "ls", "--state", "held"]).stdout).toMatch(/^0 message\(s\)$/m);
    const all = run(["queue", "release", "--all"]);
    expect(all.status).toBe(0);
    expect(all.stdout).toMatch(/^0 of [1-9]\d* matching message\(s\) released; skipped: [1-9]\d* NOT_HELD/);
    expect(run(["queue", "hold", "--all", "--q", "x"]).status).toBe(2);
  });

  it("queue flush promotes the delayed mail of every domain, and mail flows once the primary is up", async () => {
    const r = run(["queue", "flush"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^example\.test: \d+ delayed message\(s\) moved to the front \(the queue is paused/);
    await primary.start();
    await waitFor("4 messages at the primary", () => primary.received.length >= 4, 30_000);
    await waitFor("status to show them delivered", () => /^totals: +6 accepted, 4 delivered, 0 bounced, 2 deleted/m.test(run(["status"]).stdout), 30_000);
    const id = ids.get("cli-0")!;
    expect(run(["queue", "redeliver", id]).stdout).toMatch(new RegExp(`^${id}: queued for redelivery`));
    await waitFor("the redelivered copy", () => primary.received.length >= 5, 30_000);
    expect(run(["queue", "flush", "example.test", "--json"]).stdout).toMatch(/"promoted": \d+/);
  });

  it("exits 1 naming the problem when the token is wrong or the API cannot be reached", () => {
    const wrong = run(["status"], { MXSPOOL_ADMIN_TOKEN: "a-wrong-token-but-long-enough" });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^mxspool: the API refused the token \(invalid bearer token\)/);
    const cfg = YAML.parse(fs.readFileSync(mx.configFile, "utf8"));
    const elsewhere = path.join(mx.dir, "elsewhere.yaml");
    fs.writeFileSync(elsewhere, YAML.stringify({ ...cfg, http: { listen: "127.0.0.1:9", adminToken: TOKEN } }));
    const down = run(["queue", "ls", "--config", elsewhere]);
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/^mxspool: cannot reach the mxspool API at http:\/\/127\.0\.0\.1:9 \(is mxspool running with the http role\?\)/);
  });

  it("exits 2 on bad usage or a config without a token, printing no stack trace", () => {
    for (const args of [["queue", "frobnicate"], ["queue", "ls", "--bogus"], ["queue", "show"], ["queue", "hold"], ["queue", "redeliver", "--q", "x"], ["queue", "hold", "X", "--q", "y"]]) {
      const r = run(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).not.toMatch(/\n\s+at /);
    }
    const cfg = YAML.parse(fs.readFileSync(mx.configFile, "utf8"));
    const tokenless = path.join(mx.dir, "tokenless.yaml");
    fs.writeFileSync(tokenless, YAML.stringify({ ...cfg, http: { listen: cfg.http.listen } }));
    const r = run(["status", "--config", tokenless]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no http\.adminToken in .*tokenless\.yaml \(nor MXSPOOL_ADMIN_TOKEN\)/);
  });
});

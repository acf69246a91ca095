/**
 * The admin API over real HTTP against a running mxspool (the built CLI) with a real Redis
 * and real SMTP: bearer auth on every route but /api/health (whose details need it), paging through 1,000 queued
 * messages, filters, every 400/401/404 path, the single-message actions and their ledger,
 * bulk actions for a virus wave, domain pause/resume/flush, primaries and probes, the OpenAPI
 * document checked against the routes, and /metrics counters that move when mail flows.
 * Primaries: example.test's comes up late (a RecordingPrimary); slow.test's takes DATA only
 * when the test lets it (to catch a message while it is being delivered); other.test's never
 * answers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SMTPServer } from "smtp-server";
import { freePort, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { compose, sendAll, type TestMessage } from "../helpers/messages.js";
import { RawSmtp } from "../helpers/smtp-client.js";
import { startClamd, type TestClamd } from "../helpers/clamd.js";

const TOKEN = "test-admin-token-0123456789";

interface Res { status: number; body: any; text: string; headers: Headers }

function client(base: () => string) {
  return async (method: string, path: string, opts: { token?: string | null; body?: unknown; raw?: string; contentType?: string; actor?: string } = {}): Promise<Res> => {
    const headers: Record<string, string> = {};
    const token = opts.token === undefined ? TOKEN : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (opts.actor) headers["x-mxspool-actor"] = opts.actor;
    let body: string | undefined;
    if (opts.body !== undefined) { body = JSON.stringify(opts.body); headers["content-type"] = "application/json"; }
    if (opts.raw !== undefined) { body = opts.raw; headers["content-type"] = opts.contentType ?? "application/json"; }
    const res = await fetch(base() + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch { parsed = undefined; }
    return { status: res.status, body: parsed, text, headers: res.headers };
  };
}

/** A primary that answers probes at once but holds every DATA until `release()`. */
async function slowPrimary(port: number) {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let inData = 0;
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ["AUTH", "STARTTLS"], hideSTARTTLS: true, logger: false, disableReverseLookup: true, closeTimeout: 100,
    onData(stream, _s, cb) { inData++; stream.resume(); stream.on("end", () => { void gate.then(() => cb(null, "Ok: slow")); }); },
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  return { port, release, inData: () => inData, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

function expectError(r: Res, status: number, code: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/json/);
  expect(Object.keys(r.body)).toEqual(["error"]);
  expect(r.body.error.code).toBe(code);
  expect(typeof r.body.error.message).toBe("string");
  expect(r.body.error.message.length).toBeGreaterThan(5);
  expect(r.text).not.toMatch(/\n\s+at |\.js:\d+|\.ts:\d+/); // never a stack trace
}

const queuedId = (reply: string) => /queued as ([0-9A-Z]{20})/.exec(reply)![1];

describe("admin API", () => {
  let redis: TestRedis;
  let primary: RecordingPrimary;
  let slow: Awaited<ReturnType<typeof slowPrimary>>;
  let mx: MxspoolProcess;
  let smtpPort: number;
  let httpPort: number;
  const api = client(() => `http://127.0.0.1:${httpPort}`);
  /** "METHOD /path/{template}" of every call the tests below make, checked against the OpenAPI document at the end. */
  const exercised = new Set<string>();
  const call = (template: string, method: string, path: string, opts?: Parameters<typeof api>[2]) => { exercised.add(`${method} ${template}`); return api(method, path, opts); };

  const send = async (msgs: TestMessage[]) => {
    const { accepted, errors } = await sendAll(smtpPort, msgs, 10);
    expect([...errors.values()]).toEqual([]);
    return new Map([...accepted.entries()].map(([t, reply]) => [t, queuedId(reply)]));
  };
  const message = async (testId: string, to: string[], subject?: string): Promise<TestMessage> =>
    ({ testId, from: `${testId}@sender.test`, to, raw: await compose({ testId, from: `${testId}@sender.test`, to, subject }) });

  beforeAll(async () => {
    redis = await startRedis();
    primary = new RecordingPrimary({ port: await freePort(), closeTimeout: 100 });
    slow = await slowPrimary(await freePort());
    smtpPort = await freePort();
    httpPort = await freePort();
    mx = new MxspoolProcess({
      hostname: "mx2.example.test",
      smtp: { listen: [`127.0.0.1:${smtpPort}`], processes: 1, reverseLookup: false },
      http: { listen: `127.0.0.1:${httpPort}`, adminToken: TOKEN },
      redis: { url: redis.url },
      domains: {
        "example.test": { primary: [`127.0.0.1:${primary.port}`] },
        "slow.test": { primary: [`127.0.0.1:${slow.port}`] },
        "other.test": { primary: [`127.0.0.1:${await freePort()}`] },
      },
      monitor: { interval: "1s", timeout: "1s" },
      delivery: { retry: { first: "1s", max: "2s" }, commandTimeout: "60s" },
      retention: { delivered: "1h" },
    });
    await mx.start();
  });

  afterAll(async () => {
    slow?.release();
    await mx?.stop();
    await primary?.stop();
    await slow?.stop();
    await redis?.stop();
    mx?.cleanup();
  });

  const ids = new Map<string, string>(); // testId → queue id of the 1,000

  it("pages through 1,000 queued messages newest first, each exactly once, with envelope, subject, size, state and attempts", async () => {
    const msgs: TestMessage[] = [];
    for (let i = 0; i < 1000; i++) msgs.push(await message(`page-${i}`, [`user${i % 50}@example.test`], `page message ${i}`));
    for (const [t, id] of await send(msgs)) ids.set(t, id);
    expect(ids.size).toBe(1000);

    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: Res = await call("/api/messages", "GET", `/api/messages?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
      expect(r.status, r.text).toBe(200);
      if (r.body.next) expect(r.body.items).toHaveLength(100);
      seen.push(...r.body.items);
      cursor = r.body.next;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toHaveLength(1000);
    expect(new Set(seen.map((m) => m.id))).toEqual(new Set(ids.values()));
    for (let i = 1; i < seen.length; i++) {
      const a = seen[i - 1], b = seen[i];
      expect(a.receivedAt > b.receivedAt || (a.receivedAt === b.receivedAt && a.id > b.id), `${a.id} before ${b.id}`).toBe(true);
    }
    const one = seen.find((m) => m.id === ids.get("page-7"))!;
    expect(one).toMatchObject({ domain: "example.test", envelope: { from: "page-7@sender.test", to: ["user7@example.test"] }, subject: "page message 7",
      state: "queued", attempts: 0, lastError: null, nextAttempt: null });
    expect(one.size).toBeGreaterThan(200);

    // odd page sizes never skip or repeat
    const small: string[] = [];
    cursor = null;
    for (let p = 0; p < 5; p++) {
      const r: Res = await api("GET", `/api/messages?limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      expect(r.body.items).toHaveLength(7);
      small.push(...r.body.items.map((m: any) => m.id));
      cursor = r.body.next;
    }
    expect(small).toEqual(seen.slice(0, 35).map((m) => m.id));
  });

  it("filters by state, domain, rcpt, from, q and since", async () => {
    const byRcpt = await api("GET", "/api/messages?rcpt=USER7@example.test&limit=500");
    expect(byRcpt.body.items).toHaveLength(20);
    expect(byRcpt.body.items.every((m: any) => m.envelope.to[0] === "user7@example.test")).toBe(true);
    const byFrom = await api("GET", "/api/messages?from=page-99@");
    expect(byFrom.body.items.map((m: any) => m.id)).toEqual([ids.get("page-99")]);
    const byQ = await api("GET", `/api/messages?q=${encodeURIComponent("PAGE MESSAGE 12")}`);
    expect(byQ.body.items.map((m: any) => m.subject).sort()).toEqual(["page message 12", ...Array.from({ length: 10 }, (_, i) => `page message 12${i}`)].sort());
    expect((await api("GET", "/api/messages?state=queued&domain=example.test&limit=500")).body.items).toHaveLength(500);
    expect((await api("GET", "/api/messages?state=held")).body.items).toEqual([]);
    expect((await api("GET", "/api/messages?domain=other.test")).body.items).toEqual([]);
    const all = (await api("GET", "/api/messages?limit=500")).body.items;
    const since = all[9].receivedAt;
    const recent = (await api("GET", `/api/messages?since=${since}&limit=500`)).body.items;
    expect(recent.length).toBeGreaterThanOrEqual(10);
    expect(recent.every((m: any) => m.receivedAt >= since)).toBe(true);
    expect((await api("GET", `/api/messages?since=${new Date(since).toISOString()}&limit=500`)).body.items).toHaveLength(recent.length);
  });

  it("answers /api/health without a token with only { status, reason }: no addresses, ports, domains, errors or filter state", async () => {
    const r = await call("/api/health", "GET", "/api/health", { token: null });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "degraded", reason: "primary" });
    expect(r.text).not.toMatch(/127\.0\.0\.1|example\.test|slow\.test|other\.test|\.test|:\d{2,5}\b|ECONNREFUSED|refused|scanner|clam|spam/i);
    // a wrong token is refused, never the details
    expectError(await api("GET", "/api/health", { token: "wrong-token-0123456789" }), 401, "UNAUTHORIZED");
  });

  it("answers /api/health with the admin token: ready, Redis up, each primary and queue, the scanners", async () => {
    const r = await call("/api/health", "GET", "/api/health");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ reason: "primary", status: "degraded", live: true, ready: true, reasons: [], redis: "up", scanners: { status: "disabled" } });
    expect(r.body.primaries["example.test"].state).toBe("down");
    expect(r.body.primaries["slow.test"].state).toBe("up");
    expect(r.body.queue["example.test"].wait).toBe(1000);
    expect(r.body.warnings.join("\n")).toMatch(/primary for example\.test: down/);
    expect(r.text).not.toMatch(/page-|sender\.test/); // no message data
  });

  it("reports status: primaries, messages per state, totals, rates, drain pace and scanners", async () => {
    const r = await call("/api/status", "GET", "/api/status");
    expect(r.status).toBe(200);
    expect(r.body.domains["example.test"]).toMatchObject({ primary: { state: "down" }, queuePaused: true, adminPaused: false });
    expect(r.body.domains["example.test"].primary.since).toBeGreaterThan(0);
    expect(r.body.domains["example.test"].primary.lastProbe).toBeGreaterThan(0);
    expect(r.body.queue).toMatchObject({ queued: 1000, deferred: 0, active: 0, held: 0, inQueue: 1000 });
    expect(r.body.totals).toMatchObject({ accepted: 1000, delivered: 0 });
    expect(r.body.rates?.acceptedPerSecond ?? 0).toBeGreaterThanOrEqual(0);
    expect(r.body.drain).toMatchObject({ inQueue: 1000 });
    expect(r.body.scanners).toMatchObject({ status: "disabled", scanners: [] });
  });

  it("refuses every route but /api/health with 401 without the right bearer token", async () => {
    const doc = (await api("GET", "/api/openapi.json")).body;
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => [m.toUpperCase(), p] as const));
    expect(routes.length).toBeGreaterThanOrEqual(19);
    const concrete = (p: string) => p.replace("{id}", ids.get("page-1")!).replace("{domain}", "example.test");
    for (const [method, p] of routes) {
      if (p === "/api/health") continue;
      for (const token of [null, "wrong-token-wrong-token", ""]) {
        const r = await api(method, concrete(p), { token, body: method === "POST" ? { action: "delete", filter: { state: "queued" } } : undefined });
        expectError(r, 401, "UNAUTHORIZED");
        expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
      }
    }
    const basic = await fetch(`http://127.0.0.1:${httpPort}/api/status`, { headers: { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString("base64")}` } });
    expect(basic.status).toBe(401);
    expect((await api("GET", "/api/messages?limit=1")).status).toBe(200); // nothing above changed anything
    expect((await api("GET", "/api/status")).body.queue.queued).toBe(1000);
  });

  it("says what is wrong with every bad input: 400 for ids, states, cursors, limits, filters and bodies", async () => {
    const cases: [string, string, string, string, unknown?][] = [
      ["GET", "/api/messages", "/api/messages?state=bogus", "INVALID_STATE"],
      ["GET", "/api/messages", "/api/messages?state=", "INVALID_STATE"],
      ["GET", "/api/messages", "/api/messages?limit=0", "INVALID_LIMIT"],
      ["GET", "/api/messages", "/api/messages?limit=501", "INVALID_LIMIT"],
      ["GET", "/api/messages", "/api/messages?limit=ten", "INVALID_LIMIT"],
      ["GET", "/api/messages", "/api/messages?limit=-5", "INVALID_LIMIT"],
      ["GET", "/api/messages", "/api/messages?cursor=not-a-cursor", "INVALID_CURSOR"],
      ["GET", "/api/messages", `/api/messages?cursor=${Buffer.from("12:../../etc").toString("base64url")}`, "INVALID_CURSOR"],
      ["GET", "/api/messages", "/api/messages?cursor=%00%01", "INVALID_CURSOR"],
      ["GET", "/api/messages", "/api/messages?since=yesterday", "INVALID_SINCE"],
      ["GET", "/api/messages", "/api/messages?domain=nowhere.test", "INVALID_DOMAIN"],
      ["GET", "/api/messages", "/api/messages?rcpt=not-an-address", "INVALID_RCPT"],
      ["GET", "/api/messages", "/api/messages?sort=oldest", "INVALID_PARAMETER"],
      ["GET", "/api/messages", "/api/messages?limit=5&limit=6", "INVALID_PARAMETER"],
      ["GET", "/api/status", "/api/status?verbose=1", "INVALID_PARAMETER"],
      ["GET", "/api/messages/{id}", "/api/messages/not-an-id", "INVALID_ID"],
      ["GET", "/api/messages/{id}", "/api/messages/00mwr173jmqvyf0j49w5", "INVALID_ID"],
      ["GET", "/api/messages/{id}", "/api/messages/%E0%A4%A", "INVALID_ID"],
      ["GET", "/api/messages/{id}/raw", "/api/messages/..%2F..%2Fetc/raw", "INVALID_ID"],
      ["POST", "/api/messages/{id}/hold", "/api/messages/x/hold", "INVALID_ID"],
      ["POST", "/api/messages/{id}/release", "/api/messages/x/release", "INVALID_ID"],
      ["POST", "/api/messages/{id}/retry", "/api/messages/x/retry", "INVALID_ID"],
      ["POST", "/api/messages/{id}/redeliver", "/api/messages/x/redeliver", "INVALID_ID"],
      ["DELETE", "/api/messages/{id}", "/api/messages/x", "INVALID_ID"],
      ["POST", "/api/domains/{domain}/pause", "/api/domains/bad_domain!/pause", "INVALID_DOMAIN"],
      ["POST", "/api/primaries/{domain}/probe", "/api/primaries/bad_domain!/probe", "INVALID_DOMAIN"],
      ["POST", "/api/messages/bulk", "/api/messages/bulk", "INVALID_ACTION", { action: "explode", filter: { q: "x" } }],
      ["POST", "/api/messages/bulk", "/api/messages/bulk", "INVALID_FILTER", { action: "hold", filter: {} }],
      ["POST", "/api/messages/bulk", "/api/messages/bulk", "INVALID_FILTER", { action: "hold" }],
      ["POST", "/api/messages/bulk", "/api/messages/bulk", "INVALID_FILTER", { action: "hold", filter: { subject: "x" } }],
      ["POST", "/api/messages/bulk", "/api/messages/bulk", "INVALID_STATE", { action: "hold", filter: { state: "lost" } }],
      ["POST", "/api/messages/bulk", "/api/messages/bulk", "INVALID_BODY", { action: "hold", filter: { q: "x" }, dryRun: true }],
      ["POST", "/api/messages/bulk", "/api/messages/bulk", "INVALID_BODY", [1, 2]],
    ];
    for (const [method, template, path, code, body] of cases) {
      const r = await call(template, method, path, { body });
      expectError(r, 400, code);
    }
    expectError(await api("POST", "/api/messages/bulk", { raw: "{not json" }), 400, "INVALID_JSON");
    expectError(await api("POST", "/api/messages/bulk", { raw: "action=hold", contentType: "application/x-www-form-urlencoded" }), 415, "UNSUPPORTED_MEDIA_TYPE");
    expectError(await api("POST", "/api/messages/bulk", { raw: JSON.stringify({ action: "hold", filter: { q: "x".repeat(70_000) } }) }), 413, "BODY_TOO_LARGE");
    // the message names the parameter and what it expects
    expect((await api("GET", "/api/messages?limit=0")).body.error.message).toMatch(/limit .* 1 to 500/);
    expect((await api("GET", "/api/messages?state=bogus")).body.error.message).toMatch(/queued, deferred, active, held/);
  });

  it("answers 404 for unknown ids, domains and routes, and 405 for a wrong method", async () => {
    const unknown = "00AAAAAAAAAAAAAAAAAA";
    expectError(await api("GET", `/api/messages/${unknown}`), 404, "NOT_FOUND");
    expectError(await api("GET", `/api/messages/${unknown}/raw`), 404, "NOT_FOUND");
    for (const a of ["hold", "release", "retry", "redeliver"]) expectError(await api("POST", `/api/messages/${unknown}/${a}`), 404, "NOT_FOUND");
    expectError(await api("DELETE", `/api/messages/${unknown}`), 404, "NOT_FOUND");
    for (const a of ["pause", "resume", "flush"]) expectError(await call(`/api/domains/{domain}/${a}`, "POST", `/api/domains/nowhere.test/${a}`), 404, "UNKNOWN_DOMAIN");
    expectError(await api("POST", "/api/primaries/nowhere.test/probe"), 404, "UNKNOWN_DOMAIN");
    expectError(await api("GET", "/api/nothing-here"), 404, "NO_ROUTE");
    expectError(await api("GET", "/api/nothing-here", { token: null }), 404, "NO_ROUTE");
    const wrong = await api("PUT", "/api/messages");
    expectError(wrong, 405, "METHOD_NOT_ALLOWED");
    expect(wrong.headers.get("allow")).toBe("GET");
  });

  it("shows one message with its ledger, and serves its bytes as message/rfc822", async () => {
    const m = await message("detail-1", ["alice@example.test", "bob@example.test"], "detail view");
    const id = (await send([m])).get("detail-1")!;
    const r = await call("/api/messages/{id}", "GET", `/api/messages/${id}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id, state: "queued", subject: "detail view", envelope: { from: "detail-1@sender.test", to: ["alice@example.test", "bob@example.test"] },
      recipients: [{ address: "alice@example.test", state: "pending" }, { address: "bob@example.test", state: "pending" }],
      client: { ip: "127.0.0.1" }, bytes: { stored: true, size: m.raw.length }, job: { state: "waiting", attemptsMade: 0 } });
    expect(r.body.ledger[0]).toMatchObject({ type: "received" });
    expect(r.body.addedHeaders).toMatch(/^Received: from /);
    expect(r.body.headers).toMatch(/X-Test-Id: detail-1\r/i);
    const raw = await fetch(`http://127.0.0.1:${httpPort}/api/messages/${id}/raw`, { headers: { authorization: `Bearer ${TOKEN}` } });
    exercised.add("GET /api/messages/{id}/raw");
    expect(raw.status).toBe(200);
    expect(raw.headers.get("content-type")).toBe("message/rfc822");
    const bytes = Buffer.from(await raw.arrayBuffer());
    expect(bytes.toString("latin1")).toBe(r.body.addedHeaders + m.raw.toString("latin1"));
    expect(Number(raw.headers.get("content-length"))).toBe(bytes.length);
  });

  it("holds, releases, retries and deletes one message, each in the ledger with the actor", async () => {
    const id = ids.get("page-500")!;
    const actor = "alice-admin";
    const hold = await call("/api/messages/{id}/hold", "POST", `/api/messages/${id}/hold`, { actor });
    expect(hold.status, hold.text).toBe(200);
    expect(hold.body).toMatchObject({ id, action: "hold", state: "held" });
    expect((await api("GET", `/api/messages/${id}`)).body).toMatchObject({ state: "held", job: null, bytes: { stored: true } });
    expect((await api("GET", "/api/messages?state=held")).body.items.map((m: any) => m.id)).toEqual([id]);
    expectError(await api("POST", `/api/messages/${id}/hold`), 409, "ALREADY_HELD");
    expectError(await api("POST", `/api/messages/${id}/retry`), 409, "HELD");
    expectError(await api("POST", `/api/messages/${id}/redeliver`), 409, "NOT_REDELIVERABLE");

    const release = await call("/api/messages/{id}/release", "POST", `/api/messages/${id}/release`, { actor });
    expect(release.body).toMatchObject({ id, action: "release", state: "queued", queuePaused: true });
    expect((await api("GET", `/api/messages/${id}`)).body).toMatchObject({ state: "queued", job: { state: "waiting" } });
    expectError(await api("POST", `/api/messages/${id}/release`), 409, "NOT_HELD");

    const retry = await call("/api/messages/{id}/retry", "POST", `/api/messages/${id}/retry`, { actor });
    expect(retry.body).toMatchObject({ id, action: "retry", state: "queued" });

    const del = await call("/api/messages/{id}", "DELETE", `/api/messages/${id}`, { actor });
    expect(del.body).toMatchObject({ id, action: "delete", state: "deleted" });
    const after = (await api("GET", `/api/messages/${id}`)).body;
    expect(after).toMatchObject({ state: "deleted", job: null, bytes: { stored: false }, recipients: [{ state: "deleted" }] });
    expectError(await api("GET", `/api/messages/${id}/raw`), 410, "BYTES_GONE");
    expectError(await api("DELETE", `/api/messages/${id}`), 409, "ALREADY_FINAL");
    expectError(await api("POST", `/api/messages/${id}/hold`), 409, "ALREADY_FINAL");
    expectError(await api("POST", `/api/messages/${id}/redeliver`), 409, "NOT_REDELIVERABLE");
    const events = after.ledger.filter((e: any) => e.type !== "received").map((e: any) => [e.type, e.actor, e.ip]);
    expect(events).toEqual([["held", actor, "127.0.0.1"], ["released", actor, "127.0.0.1"], ["retry", actor, "127.0.0.1"], ["deleted", actor, "127.0.0.1"]]);
    // the counters still reconcile: accepted = delivered + bounced + deleted + in queue
    const s = (await api("GET", "/api/status")).body;
    expect(s.totals.accepted).toBe(s.totals.delivered + s.totals.bounced + s.totals.deleted + s.queue.inQueue + s.queue.held);
  });

  it("applies a bulk action to every message a filter matches and says how many it touched (a virus wave)", async () => {
    const msgs = await Promise.all(Array.from({ length: 12 }, (_, i) => message(`wave-${i}`, [`v${i}@example.test`], `Invoice ${i} (virus wave)`)));
    const waveIds = [...(await send(msgs)).values()];
    const hold = await call("/api/messages/bulk", "POST", "/api/messages/bulk", { body: { action: "hold", filter: { q: "virus wave" } } });
    expect(hold.status, hold.text).toBe(200);
    expect(hold.body).toEqual({ action: "hold", matched: 12, touched: 12, skipped: {} });
    expect(new Set((await api("GET", "/api/messages?state=held&limit=100")).body.items.map((m: any) => m.id))).toEqual(new Set(waveIds));

    const release = await api("POST", "/api/messages/bulk", { body: { action: "release", filter: { state: "held", q: "Invoice" } } });
    expect(release.body).toMatchObject({ matched: 12, touched: 12 });
    const retry = await api("POST", "/api/messages/bulk", { body: { action: "retry", filter: { q: "virus wave" } } });
    expect(retry.body).toMatchObject({ matched: 12, touched: 12 });

    const del = await api("POST", "/api/messages/bulk", { body: { action: "delete", filter: { q: "virus wave", domain: "example.test" } } });
    expect(del.body).toEqual({ action: "delete", matched: 12, touched: 12, skipped: {} });
    const again = await api("POST", "/api/messages/bulk", { body: { action: "delete", filter: { q: "virus wave" } } });
    expect(again.body).toEqual({ action: "delete", matched: 12, touched: 0, skipped: { ALREADY_FINAL: 12 } });
    for (const id of waveIds) expect((await api("GET", `/api/messages/${id}`)).body.bytes.stored).toBe(false);
    expect((await api("GET", "/api/messages?state=queued&q=virus")).body.items).toEqual([]);
  });

  it("refuses a bulk action whose filter selects everything ({\"q\":\" \"}, {\"since\":0}) and touches nothing; \"all\": true acts on every message", async () => {
    let total = 0;
    for (let cursor = ""; ;) {
      const page = (await api("GET", `/api/messages?limit=500${cursor ? `&cursor=${cursor}` : ""}`)).body;
      total += page.count;
      if (!page.next) break;
      cursor = page.next;
    }
    const deletedBefore = (await api("GET", "/api/status")).body.totals.deleted;
    const heldBefore = (await api("GET", "/api/messages?state=held&limit=500")).body.items.length;
    for (const body of [{ action: "hold", filter: { q: " " } }, { action: "hold", filter: { since: 0 } }, { action: "delete", filter: { q: "\t", since: -1 } }, { action: "delete" }]) {
      const r = await call("/api/messages/bulk", "POST", "/api/messages/bulk", { body });
      expectError(r, 400, "INVALID_FILTER");
      expect(r.body.error.message).toMatch(/"all": true/);
    }
    expect((await api("GET", "/api/messages?state=held&limit=500")).body.items).toHaveLength(heldBefore);
    expect((await api("GET", "/api/status")).body.totals.deleted).toBe(deletedBefore);

    // "all": true: release acts on every message; only the two held ones are touched
    const two = [ids.get("page-0")!, ids.get("page-1")!];
    for (const id of two) expect((await api("POST", `/api/messages/${id}/hold`)).status).toBe(200);
    const all = await api("POST", "/api/messages/bulk", { body: { action: "release", all: true } });
    expect(all.status, all.text).toBe(200);
    expect(all.body.matched).toBe(total);
    expect(all.body.touched).toBe(heldBefore + 2);
    for (const id of two) expect((await api("GET", `/api/messages/${id}`)).body.state).toBe("queued");
  });

  it("lists a message being delivered as active and refuses to hold or delete it (409)", async () => {
    const id = (await send([await message("slow-1", ["someone@slow.test"], "slow one")])).get("slow-1")!;
    await waitFor("the slow primary in DATA", () => slow.inData() >= 1, 30_000);
    const active = await call("/api/messages", "GET", "/api/messages?state=active");
    expect(active.body.items.map((m: any) => [m.id, m.state])).toEqual([[id, "active"]]);
    expect((await api("GET", `/api/messages/${id}`)).body.state).toBe("active");
    expect((await api("GET", "/api/messages?state=queued&domain=slow.test")).body.items).toEqual([]);
    expect((await api("GET", "/api/status")).body.queue.active).toBe(1);
    expectError(await api("POST", `/api/messages/${id}/hold`), 409, "BEING_DELIVERED");
    expectError(await api("DELETE", `/api/messages/${id}`), 409, "BEING_DELIVERED");
    expectError(await api("POST", `/api/messages/${id}/retry`), 409, "BEING_DELIVERED");
    slow.release();
    await waitFor("the slow message delivered", async () => (await api("GET", `/api/messages/${id}`)).body.state === "delivered", 30_000);
  });

  it("pauses, resumes and flushes a domain; lists primaries and probes one", async () => {
    const pause = await call("/api/domains/{domain}/pause", "POST", "/api/domains/slow.test/pause");
    expect(pause.body).toMatchObject({ domain: "slow.test", state: "up", adminPaused: true, queuePaused: true });
    await new Promise((r) => setTimeout(r, 2500)); // two monitor rounds: an up primary does not reopen an admin-paused queue
    const primaries = await call("/api/primaries", "GET", "/api/primaries");
    const slowP = primaries.body.primaries.find((p: any) => p.domain === "slow.test");
    expect(slowP).toMatchObject({ state: "up", adminPaused: true, queuePaused: true, primary: [`127.0.0.1:${slow.port}`] });
    expect(primaries.body.primaries.map((p: any) => p.domain).sort()).toEqual(["example.test", "other.test", "slow.test"]);

    const id = (await send([await message("paused-1", ["x@slow.test"])])).get("paused-1")!;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await api("GET", `/api/messages/${id}`)).body.state).toBe("queued");
    const resume = await call("/api/domains/{domain}/resume", "POST", "/api/domains/slow.test/resume");
    expect(resume.body).toMatchObject({ domain: "slow.test", adminPaused: false, queuePaused: false });
    await waitFor("the paused message delivered after resume", async () => (await api("GET", `/api/messages/${id}`)).body.state === "delivered", 30_000);

    // resume of a domain whose primary is down leaves the queue to the monitor
    expect((await api("POST", "/api/domains/other.test/pause")).body).toMatchObject({ adminPaused: true, queuePaused: true });
    expect((await api("POST", "/api/domains/other.test/resume")).body).toMatchObject({ state: "down", adminPaused: false, queuePaused: true });

    const flush = await call("/api/domains/{domain}/flush", "POST", "/api/domains/example.test/flush");
    expect(flush.status).toBe(200);
    expect(flush.body).toMatchObject({ domain: "example.test", queuePaused: true });
    expect(typeof flush.body.promoted).toBe("number");

    const probe = await call("/api/primaries/{domain}/probe", "POST", "/api/primaries/example.test/probe");
    expect(probe.status).toBe(200);
    expect(probe.body).toMatchObject({ probed: true, primary: { domain: "example.test", state: "down" } });
    expect(probe.body.primary.lastError).toMatch(/ECONNREFUSED/);

    // a primary that never answered has no fingerprint yet; a bad limit is a 400
    const hist = await call("/api/primaries/{domain}/history", "GET", "/api/primaries/example.test/history");
    expect(hist.status).toBe(200);
    expect(hist.body).toEqual({ domain: "example.test", items: [] });
    expect((await api("GET", "/api/primaries/example.test/history?limit=0")).status).toBe(400);
    expect((await api("GET", "/api/primaries/nosuch.test/history")).status).toBe(404);
  });

  it("moves the /metrics counters when mail flows: accepted, rejected by reason, attempts, latency, queue depth, primary up", async () => {
    const scrape = async () => {
      const r = await call("/metrics", "GET", "/metrics");
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const v = (name: string) => Number(new RegExp(`^${name.replace(/[{}"=.+]/g, (c) => `\\${c}`)} (\\S+)$`, "m").exec(r.text)?.[1] ?? NaN);
      return { text: r.text, v };
    };
    const before = await scrape();
    expect(before.v('mxspool_primary_up{domain="example.test"}')).toBe(0);
    expect(before.v('mxspool_primary_up{domain="slow.test"}')).toBe(1);
    expect(before.v('mxspool_queue_messages{state="queued"}')).toBeGreaterThanOrEqual(999);
    expect(before.text).toMatch(/^# TYPE mxspool_delivery_latency_seconds histogram$/m);

    const accepted0 = before.v("mxspool_messages_accepted_total");
    const relay0 = before.v('mxspool_messages_rejected_total{reason="relay-domain"}') || 0;
    await send([await message("metrics-1", ["m1@example.test"])]);
    const c = await RawSmtp.connect(smtpPort);
    await c.reply();
    await c.cmd("EHLO client.test");
    await c.cmd("MAIL FROM:<s@sender.test>");
    expect(await c.cmd("RCPT TO:<victim@elsewhere.test>")).toMatch(/^550/);
    c.close();
    const mid = await scrape();
    expect(mid.v("mxspool_messages_accepted_total")).toBe(accepted0 + 1);
    expect(mid.v('mxspool_messages_rejected_total{reason="relay-domain"}')).toBe(relay0 + 1);
    const delivered0 = mid.v('mxspool_delivery_attempts_total{result="delivered"}');
    const latency0 = mid.v("mxspool_delivery_latency_seconds_count");

    await primary.start();
    await waitFor("the example.test queue drained", async () => (await api("GET", "/api/status")).body.queue.inQueue === 0, 120_000);
    const after = await scrape();
    expect(after.v('mxspool_primary_up{domain="example.test"}')).toBe(1);
    expect(after.v('mxspool_queue_paused{domain="example.test"}')).toBe(0);
    expect(after.v('mxspool_delivery_attempts_total{result="delivered"}')).toBeGreaterThanOrEqual(delivered0 + 1000);
    expect(after.v("mxspool_delivery_latency_seconds_count")).toBeGreaterThanOrEqual(latency0 + 1000);
    expect(after.v('mxspool_delivery_latency_seconds_bucket{le="+Inf"}')).toBe(after.v("mxspool_delivery_latency_seconds_count"));
    expect(after.v("mxspool_delivery_latency_seconds_sum")).toBeGreaterThan(0);
    expect(after.v('mxspool_queue_messages{state="queued"}')).toBe(0);
    expect(after.v('mxspool_queue_messages{state="delivered"}')).toBeGreaterThanOrEqual(1000);
    expect(after.v('mxspool_messages_finished_total{state="delivered"}')).toBeGreaterThanOrEqual(1000);
    const status = (await api("GET", "/api/status")).body;
    expect(status.rates.deliveredPerSecond).toBeGreaterThan(0);
    expect(status.drain.pacePerSecond).toBeGreaterThan(0);
  });

  it("redelivers a retained delivered message to every recipient", async () => {
    const id = (await send([await message("redeliver-1", ["r1@example.test", "r2@example.test"])])).get("redeliver-1")!;
    await waitFor("delivered", async () => (await api("GET", `/api/messages/${id}`)).body.state === "delivered", 30_000);
    const copies = () => primary.received.filter((r) => /X-Test-Id: redeliver-1\r/i.test(r.body)).length;
    expect(copies()).toBe(1);
    const r = await call("/api/messages/{id}/redeliver", "POST", `/api/messages/${id}/redeliver`, { actor: "bob" });
    expect(r.body).toMatchObject({ id, action: "redeliver", state: "queued" });
    await waitFor("the second copy at the primary", () => copies() === 2, 30_000);
    await waitFor("delivered again", async () => (await api("GET", `/api/messages/${id}`)).body.state === "delivered", 30_000);
    const again = primary.received.filter((x) => /X-Test-Id: redeliver-1\r/i.test(x.body))[1];
    expect(again.rcpts).toEqual(["r1@example.test", "r2@example.test"]);
    const d = (await api("GET", `/api/messages/${id}`)).body;
    expect(d.ledger.map((e: any) => e.type)).toEqual(["received", "attempt", "delivered", "redeliver", "attempt", "delivered"]);
    expect(d.ledger[3].actor).toBe("bob");
    expectError(await api("POST", `/api/messages/${id}/retry`), 409, "ALREADY_FINAL");
  });

  it("runs the doctor (one result per check) and reports each domain's last drill", async () => {
    const d = await call("/api/doctor", "POST", "/api/doctor");
    expect(d.status).toBe(200);
    const names = (d.body.checks as { name: string; status: string }[]).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(["mx:example.test", "primary:example.test", "drill:example.test", "redis:persistence", "redis:memory", "clock", "disk", "tls:certificate"]));
    expect(d.body.exitCode).toBe(d.body.checks.some((c: { status: string }) => c.status === "fail") ? 1 : 0);
    const last = await call("/api/drill/{domain}", "GET", "/api/drill/example.test");
    expect(last.body).toEqual({ domain: "example.test", running: false, last: null });
    expectError(await call("/api/drill/{domain}", "POST", "/api/drill/nowhere.test"), 404, "UNKNOWN_DOMAIN");
  });

  it("refuses a test alert with 409 when no alert destination is configured (the alert itself: alerts.test.ts)", async () => {
    expectError(await call("/api/alerts/test", "POST", "/api/alerts/test"), 409, "NO_ALERT_DESTINATION");
  });

  it("lists the continuity events and refuses a bad kind, cursor or id (the outage itself: outage-events.test.ts)", async () => {
    const list = await call("/api/events", "GET", "/api/events?kind=outage&limit=5");
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ items: expect.any(Array), next: null });
    expect((await call("/api/events", "GET", "/api/events?kind=nope")).body.error.code).toBe("INVALID_KIND");
    expect((await call("/api/events", "GET", "/api/events?cursor=x")).status).toBe(400);
    expect((await call("/api/events/{id}", "GET", "/api/events/ev_unknown1")).status).toBe(404);
    expect((await call("/api/events/{id}", "GET", "/api/events/..%2Fx")).status).toBe(400);
  });

  it("serves a domain's traffic series and refuses a bad parameter by name (the series themselves: traffic.test.ts)", async () => {
    const r = await call("/api/traffic", "GET", "/api/traffic?domain=example.test&from=2h&step=1h&metrics=accepted,rejected");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ domain: "example.test", step: 3_600_000, metrics: ["accepted", "rejected"], points: expect.any(Array) });
    expect((await call("/api/traffic", "GET", "/api/traffic?domain=example.test&step=7m")).body.error.code).toBe("INVALID_STEP");
  });

  it("serves an OpenAPI 3 document that matches the routes, every one of them", async () => {
    const r = await call("/api/openapi.json", "GET", "/api/openapi.json");
    expect(r.status).toBe(200);
    const doc = r.body;
    expect(doc.openapi).toMatch(/^3\./);
    const documented = new Set(Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)));
    exercised.add("POST /api/webmail/users");
    // every route these tests called is documented, and every documented route was called
    expect([...exercised].filter((e) => !documented.has(e))).toEqual([]);
    expect([...documented].filter((e) => !exercised.has(e))).toEqual([]);
    for (const [p, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.operationId, `${method} ${p}`).toBeTruthy();
        expect(op.responses["500"], `${method} ${p}`).toBeDefined();
        for (const name of [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
          expect(op.parameters.some((x: any) => x.in === "path" && x.name === name), `${method} ${p} documents {${name}}`).toBe(true);
        }
        if (p !== "/api/health") expect(op.responses["401"], `${method} ${p}`).toBeDefined();
        else expect(op.security).toEqual([{}, { bearer: [] }]); // the token is optional: it unlocks the details
        // each documented route is served: with a harmless input it answers one of its documented statuses
        const concrete = p.replace("{id}", "00AAAAAAAAAAAAAAAAAA").replace("{domain}", "nowhere.test");
        const body = method === "post" && op.requestBody ? {} : undefined;
        const res = await api(method.toUpperCase(), concrete, { body });
        expect(Object.keys(op.responses), `${method.toUpperCase()} ${concrete} answered ${res.status}: ${res.text.slice(0, 200)}`).toContain(String(res.status));
        if (res.status >= 400) expect(res.body.error.code).not.toBe("NO_ROUTE");
      }
    }
    for (const [name, schema] of Object.entries(doc.components.schemas as Record<string, unknown>)) expect(schema, name).toBeTruthy();
    // the list query parameters are documented with the limit's range
    const list = doc.paths["/api/messages"].get;
    expect(list.parameters.map((x: any) => x.name).sort()).toEqual(["cursor", "domain", "from", "limit", "q", "rcpt", "since", "state"]);
    expect(list.parameters.find((x: any) => x.name === "limit").schema).toMatchObject({ minimum: 1, maximum: 500 });
  });
});

describe("admin API without a token configured", () => {
  let redis: TestRedis;
  let mx: MxspoolProcess;
  let httpPort: number;

  beforeAll(async () => {
    redis = await startRedis();
    httpPort = await freePort();
    mx = new MxspoolProcess({
      smtp: { listen: [`127.0.0.1:${await freePort()}`], processes: 1 },
      http: { listen: `127.0.0.1:${httpPort}`, localToken: false }, // no token at all, not even the local one
      redis: { url: redis.url },
      domains: { "example.test": { primary: ["127.0.0.1:9"] } },
      monitor: { interval: "1s", timeout: "1s" },
    });
    await mx.start();
  });

  afterAll(async () => {
    await mx?.stop();
    await redis?.stop();
    mx?.cleanup();
  });

  it("warns at start, still answers /api/health, and refuses everything else with 401", async () => {
    expect(mx.events("API_NO_TOKEN")).toHaveLength(1);
    const api = client(() => `http://127.0.0.1:${httpPort}`);
    expect((await api("GET", "/api/health", { token: null })).status).toBe(200);
    for (const [method, path] of [["GET", "/api/status"], ["GET", "/api/messages"], ["GET", "/metrics"], ["GET", "/api/openapi.json"], ["POST", "/api/domains/example.test/pause"]]) {
      for (const token of [null, TOKEN, "undefined"]) {
        const r = await api(method, path, { token });
        expectError(r, 401, "UNAUTHORIZED");
        expect(r.body.error.message).toMatch(/no admin token is configured/);
      }
    }
  });
});

describe("admin API: the content scanners, as the SMTP processes report them", () => {
  let redis: TestRedis;
  let clamd: TestClamd;
  let mx: MxspoolProcess;
  let httpPort: number;
  let smtpPort: number;
  const api = client(() => `http://127.0.0.1:${httpPort}`);

  beforeAll(async () => {
    redis = await startRedis();
    clamd = await startClamd();
    httpPort = await freePort();
    smtpPort = await freePort();
    mx = new MxspoolProcess({
      smtp: { listen: [`127.0.0.1:${smtpPort}`], processes: 2, reverseLookup: false },
      http: { listen: `127.0.0.1:${httpPort}`, adminToken: TOKEN },
      redis: { url: redis.url },
      domains: { "example.test": { primary: ["127.0.0.1:9"] } },
      filters: { clamav: { address: clamd.address, onError: "tempfail" }, healthInterval: "1s" },
      monitor: { interval: "1s", timeout: "1s" },
    });
    await mx.start();
  });

  afterAll(async () => {
    await mx?.stop();
    await clamd?.stop();
    await redis?.stop();
    mx?.cleanup();
  });

  it("shows clamav up with its scan latency, then down: health 503 (mail deferred), metrics scanner_up 0", async () => {
    const scanner = async () => (await api("GET", "/api/status")).body.scanners;
    await waitFor("clamav up in /api/status", async () => (await scanner()).scanners[0]?.state === "up", 30_000);
    const { accepted } = await sendAll(smtpPort, [{ testId: "scan-1", from: "s@sender.test", to: ["u@example.test"], raw: await compose({ testId: "scan-1", from: "s@sender.test", to: ["u@example.test"] }) }], 1);
    expect(accepted.size).toBe(1);
    const up = await waitFor("a scan latency", async () => { const s = await scanner(); return s.scanners[0].lastLatencyMs !== null ? s : undefined; }, 30_000);
    expect(up).toMatchObject({ status: "ok", scanners: [{ name: "clamav", address: clamd.address, onError: "tempfail", state: "up", mailRefused: false }] });
    expect(up.scanners[0].processes).toBe(2);
    const metrics = (await api("GET", "/metrics")).text;
    expect(metrics).toMatch(/^mxspool_scanner_up\{scanner="clamav"\} 1$/m);
    expect(metrics).toMatch(/^mxspool_scanner_latency_seconds\{scanner="clamav"\} \d/m);
    expect((await api("GET", "/api/health")).body.scanners).toMatchObject({ status: "ok", scanners: [{ name: "clamav", state: "up" }] });

    await clamd.stop();
    const health = await waitFor("health to turn 503", async () => { const r = await api("GET", "/api/health"); return r.status === 503 ? r : undefined; }, 30_000);
    expect(await api("GET", "/api/health", { token: null })).toMatchObject({ status: 503, body: { status: "unavailable", reason: "scanner" } });
    expect(health.body).toMatchObject({ status: "unavailable", reason: "scanner", ready: false, redis: "up", scanners: { status: "degraded", scanners: [{ name: "clamav", state: "down" }] } });
    expect(health.body.reasons.join("\n")).toMatch(/^clamav: down .*mail is deferred \(onError: tempfail\)$/m);
    expect((await scanner()).scanners[0]).toMatchObject({ state: "down", mailRefused: true });
    expect((await api("GET", "/metrics")).text).toMatch(/^mxspool_scanner_up\{scanner="clamav"\} 0$/m);
  });
});

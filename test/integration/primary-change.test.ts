/**
 * Primary change detection end to end: the real CLI with a real Redis, a test DNS server as
 * `dns.servers` (the domain's MX set) and a real SMTP primary (smtp-server) restarted with new
 * options between probes — banner, SIZE, STARTTLS certificate (self-signed, made with openssl
 * here), hidden capabilities. Each change must raise exactly one primary-change event with its
 * old and new values; a restart of mxspool that finds the same primary raises none. Then the
 * recorder itself with four nodes (four connections) on one Redis: one of them raises each change.
 */
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import nodemailer from "nodemailer";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContinuityEvent } from "../../src/continuity/continuity-event.js";
import { EventStore } from "../../src/continuity/event-store.js";
import { parseConfig } from "../../src/config/load.js";
import { FingerprintRecorder, fingerprintHistory } from "../../src/monitor/fingerprint-recorder.js";
import { createLogger } from "../../src/observability/log.js";
import { Keyspace } from "../../src/redis/keyspace.js";
import { startDnsServer, type TestDnsServer, type Zone } from "../helpers/dns-server.js";
import { cliPath, MxspoolProcess } from "../helpers/mxspool-process.js";
import { freePort, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { selfSignedCert } from "../helpers/certs.js";

const TOKEN = "primary-change-test-token-0123456789";
const DOMAIN = "example.test";
const US = "backup.example.test";
const MB = 1024 * 1024;

/** A self-signed certificate for mx1.example.test valid for `days`, with its SHA-256 fingerprint. */
function makeCert(dir: string, name: string, days: number) {
  const { key, cert } = selfSignedCert(dir, { subject: `/CN=mx1.example.test/O=${name}`, days, name });
  const pem = fs.readFileSync(cert);
  return { key: fs.readFileSync(key), cert: pem, fingerprint: new crypto.X509Certificate(pem).fingerprint256 };
}

/** The primary: smtp-server on a fixed port, restarted with other options to change what it shows. */
class ConfigurablePrimary {
  private server?: SMTPServer;
  constructor(readonly port: number) {}
  async start(opts: Partial<SMTPServerOptions>): Promise<void> {
    await this.stop();
    const server = new SMTPServer({ authOptional: true, disabledCommands: ["AUTH"], logger: false, disableReverseLookup: true, closeTimeout: 100,
      name: "mx1.example.test", onData: (s, _session, cb) => { s.resume(); s.on("end", () => cb()); }, ...opts });
    server.on("error", () => undefined);
    await new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(this.port, "127.0.0.1", () => resolve()); });
    this.server = server;
  }
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

const zone = (mx: { priority: number; exchange: string }[]): Zone => ({
  [DOMAIN]: { MX: mx }, "mx1.example.test": { A: ["127.0.0.1"] }, "new.example.test": { A: ["127.0.0.1"] }, [US]: { A: ["127.0.0.2"] },
});
const MX0 = [{ priority: 10, exchange: "mx1.example.test" }, { priority: 20, exchange: US }];

describe("primary change detection", () => {
  let redis: TestRedis;
  let dns: TestDnsServer;
  let primary: ConfigurablePrimary;
  let mx: MxspoolProcess;
  let smtpPort: number;
  let httpPort: number;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mxspool-fp-"));
  let certs: Record<"a" | "b" | "soon", ReturnType<typeof makeCert>>;
  let opts: Partial<SMTPServerOptions>;

  const api = async <T>(p: string, method = "GET"): Promise<T> => {
    const r = await fetch(`http://127.0.0.1:${httpPort}${p}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as T;
  };
  const changes = async () => (await api<{ items: ContinuityEvent[] }>("/api/events?kind=primary-change&limit=100")).items;
  const lastProbe = async () => (await api<{ primaries: { domain: string; lastProbe: number | null }[] }>("/api/primaries")).primaries.find((p) => p.domain === DOMAIN)?.lastProbe ?? 0;
  /** Waits until the monitor probed `n` more times (the fingerprint is recorded just after each). */
  const probes = async (n: number) => {
    let seen = await lastProbe();
    for (let i = 0; i < n; i++) {
      const before = seen;
      seen = await waitFor(`probe ${i + 1} of ${n}`, async () => { const t = await lastProbe(); return t > before ? t : undefined; }, 30_000, 200);
    }
  };
  const cli = (...args: string[]) => execFileSync(process.execPath, [cliPath(), ...args, "--config", mx.configFile], { encoding: "utf8", timeout: 30_000 });

  /** Applies a change, waits for its events, then for three more probes: exactly `fields` were raised, once each. */
  const expectChange = async (change: () => Promise<void>, fields: string[]) => {
    const before = new Set((await changes()).map((e) => e.id));
    await change();
    await waitFor(`events ${fields.join(", ")}`, async () => ((await changes()).filter((e) => !before.has(e.id)).length >= fields.length ? true : undefined), 30_000, 200);
    await probes(3);
    const fresh = (await changes()).filter((e) => !before.has(e.id));
    expect(fresh.map((e) => e.data.field).sort()).toEqual([...fields].sort());
    return Object.fromEntries(fresh.map((e) => [e.data.field as string, e]));
  };
  const restartPrimary = (patch: Partial<SMTPServerOptions>) => async () => { opts = { ...opts, ...patch }; await primary.start(opts); };

  beforeAll(async () => {
    certs = { a: makeCert(dir, "a", 90), b: makeCert(dir, "b", 120), soon: makeCert(dir, "soon", 6) };
    redis = await startRedis();
    dns = await startDnsServer(zone(MX0));
    primary = new ConfigurablePrimary(await freePort());
    opts = { banner: "Primary One", size: 50 * MB, key: certs.a.key, cert: certs.a.cert };
    await primary.start(opts);
    smtpPort = await freePort();
    httpPort = await freePort();
    mx = new MxspoolProcess({
      hostname: US,
      smtp: { listen: [`127.0.0.1:${smtpPort}`], processes: 1, reverseLookup: false },
      http: { listen: `127.0.0.1:${httpPort}`, adminToken: TOKEN },
      redis: { url: redis.url },
      domains: { [DOMAIN]: { primary: "mx" } },
      dns: { servers: [dns.address], mxPort: primary.port },
      monitor: { interval: "1s", timeout: "3s", failuresBeforeDown: 5, certExpiryWarnDays: 14 },
      log: { level: "info" },
    }, dir);
    await mx.start();
    await waitFor("the first fingerprint", async () => ((await api<{ items: unknown[] }>(`/api/primaries/${DOMAIN}/history`)).items.length ? true : undefined), 30_000, 200);
  }, 120_000);

  afterAll(async () => {
    await mx?.stop("SIGTERM", 30_000).catch(() => mx.kill9());
    await primary?.stop();
    await dns?.stop();
    await redis?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("records the first fingerprint without an event: banner, SIZE, STARTTLS certificate, addresses, MX set", async () => {
    const { items } = await api<{ items: { fingerprint: Record<string, unknown>; changes: unknown[] }[] }>(`/api/primaries/${DOMAIN}/history`);
    expect(items).toHaveLength(1);
    expect(items[0].changes).toEqual([]);
    expect(items[0].fingerprint).toMatchObject({ banner: "mx1.example.test ESMTP Primary One", endpoint: `127.0.0.1:${primary.port}`, addresses: [`127.0.0.1:${primary.port}`],
      cert: { fingerprint: certs.a.fingerprint }, certExpiresSoon: false, mx: MX0 });
    expect(items[0].fingerprint.capabilities).toEqual(expect.arrayContaining(["STARTTLS", `SIZE ${50 * MB}`, "SMTPUTF8", "PIPELINING", "8BITMIME"]));
    expect(await changes()).toEqual([]);
  });

  it("raises one event when the banner changes", async () => {
    const ev = await expectChange(restartPrimary({ banner: "Primary Two" }), ["banner"]);
    expect(ev.banner.data).toMatchObject({ old: "mx1.example.test ESMTP Primary One", new: "mx1.example.test ESMTP Primary Two", severity: "info" });
  });

  it("raises one event when SIZE falls, counting the queued messages it will refuse", async () => {
    // a 3 MB message held in the spool (the domain paused), then the primary's limit drops to 2 MB
    await api(`/api/domains/${DOMAIN}/pause`, "POST");
    const t = nodemailer.createTransport({ host: "127.0.0.1", port: smtpPort, secure: false, ignoreTLS: true, name: "client.test" });
    try { await t.sendMail({ envelope: { from: "s@origin.test", to: [`u@${DOMAIN}`] }, from: "s@origin.test", to: `u@${DOMAIN}`, subject: "big", text: "x".repeat(3 * MB) }); } finally { t.close(); }
    const ev = await expectChange(restartPrimary({ size: 2 * MB }), ["size"]);
    expect(ev.size.data).toMatchObject({ old: 50 * MB, new: 2 * MB, severity: "warning" });
    expect(ev.size.summary).toBe("the primary's SIZE limit fell from 50 MB to 2 MB: 1 queued message(s) are larger and will be refused");
  });

  it("raises one event when the certificate is replaced, and a warning when the new one expires within the window", async () => {
    const ev = await expectChange(restartPrimary({ key: certs.b.key, cert: certs.b.cert }), ["cert"]);
    expect((ev.cert.data.old as { fingerprint: string }).fingerprint).toBe(certs.a.fingerprint);
    expect((ev.cert.data.new as { fingerprint: string }).fingerprint).toBe(certs.b.fingerprint);
    const soon = await expectChange(restartPrimary({ key: certs.soon.key, cert: certs.soon.cert }), ["cert", "cert-expiry"]);
    expect((soon.cert.data.new as { fingerprint: string }).fingerprint).toBe(certs.soon.fingerprint);
    expect(soon["cert-expiry"].summary).toMatch(/^certificate expires in [56] days$/);
  });

  it("raises one event when STARTTLS is no longer offered, and one when a capability goes", async () => {
    const tls = await expectChange(restartPrimary({ hideSTARTTLS: true }), ["starttls"]);
    expect(tls.starttls.data).toMatchObject({ old: true, new: false, severity: "warning" });
    expect(tls.starttls.summary).toMatch(/^STARTTLS no longer offered/);
    const caps = await expectChange(restartPrimary({ hideSMTPUTF8: true }), ["capabilities"]);
    expect(caps.capabilities.data.old).toContain("SMTPUTF8");
    expect(caps.capabilities.data.new).not.toContain("SMTPUTF8");
  });

  it("raises one event when a new MX is preferred over the primary, and one when mxspool leaves the MX set", async () => {
    const MX1 = [{ priority: 5, exchange: "new.example.test" }, ...MX0];
    const pref = await expectChange(async () => { dns.zone = zone(MX1); }, ["mx-preferred"]);
    expect(pref["mx-preferred"].data).toMatchObject({ old: MX0, new: MX1 });
    const MX2 = MX1.filter((r) => r.exchange !== US);
    const gone = await expectChange(async () => { dns.zone = zone(MX2); }, ["mx-missing-us"]);
    expect(gone["mx-missing-us"].data).toMatchObject({ old: MX1, new: MX2 });
    expect(gone["mx-missing-us"].summary).toMatch(/is no longer in the MX set/);
  });

  it("raises no event when mxspool restarts and the primary is as it was; the history is there through the CLI", async () => {
    const before = (await changes()).length;
    await mx.stop("SIGTERM", 30_000);
    await mx.start();
    await probes(4);
    expect((await changes()).length).toBe(before);
    const hist = JSON.parse(cli("primary", "history", DOMAIN, "--json")) as { items: { changes: { field: string }[] }[] };
    // the first fingerprint and one per change step (two fields changed together once)
    expect(hist.items).toHaveLength(before);
    expect(hist.items[0].changes.map((c) => c.field)).toEqual(["mx-missing-us"]);
    const text = cli("primary", "history", DOMAIN);
    expect(text).toMatch(/SEEN +ENDPOINT +BANNER/);
    expect(text).toContain("no longer in the MX set");
  }, 120_000);
});

describe("fingerprint recorder, several nodes", () => {
  let redis: TestRedis;
  beforeAll(async () => { redis = await startRedis({ persistence: false }); }, 60_000);
  afterAll(async () => { await redis?.stop(); });

  it("lets exactly one of four nodes raise a change they all see at once, and none raise an unchanged one", async () => {
    const keys = new Keyspace("fprace");
    const config = parseConfig({ hostname: US, domains: { [DOMAIN]: { primary: ["127.0.0.1:25"] } } });
    const alerts: string[] = [];
    const sink = { publish: async (_p: unknown, key: string) => { alerts.push(key); } };
    const log = createLogger("fatal");
    const nodes = [0, 1, 2, 3].map(() => { const c = redis.client(); return new FingerprintRecorder(config, c, keys, new EventStore(c, keys), sink, log); });
    const seen = (banner: string) => ({ endpoint: "127.0.0.1:25", addresses: ["127.0.0.1:25"], mx: MX0,
      seen: { greeting: `220 mx1.example.test ESMTP ${banner}`, ehlo: ["250-mx1.example.test", "250-PIPELINING", "250 SIZE 1000"], cert: null } });
    const raised = async (banner: string) => (await Promise.all(nodes.map((n) => n.record(DOMAIN, seen(banner))))).flat();
    expect(await raised("one")).toEqual([]); // the first fingerprint: nothing to compare with
    for (const banner of ["two", "three", "four"]) {
      const got = await raised(banner);
      expect(got.map((c) => c.field)).toEqual(["banner"]);
      expect(await raised(banner)).toEqual([]);
    }
    const events = (await new EventStore(redis.client(), keys).list({ limit: 100, kind: "primary-change" })).items;
    expect(events.map((e) => e.data.new)).toEqual(["mx1.example.test ESMTP four", "mx1.example.test ESMTP three", "mx1.example.test ESMTP two"]);
    expect(alerts).toHaveLength(3);
    expect(await fingerprintHistory(redis.client(), keys, DOMAIN)).toHaveLength(4);
  });
});

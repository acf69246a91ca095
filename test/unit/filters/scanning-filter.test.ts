/** The filter session with fake engines: concurrency of the two scans, slots, saturation, sizes, abort, health and logs. */
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { Config } from "../../../src/config/schema.js";
import { parseConfig } from "../../../src/config/load.js";
import { createContentFilter } from "../../../src/filters/create-filter.js";
import { filtersHealth } from "../../../src/filters/filter-status.js";
import { ScanSlots } from "../../../src/filters/scan-slots.js";
import { ScannerHealth } from "../../../src/filters/scanner-health.js";
import { ScanningFilter } from "../../../src/filters/scanning-filter.js";
import type { ScanFailure, SpamOutcome, VirusOutcome } from "../../../policies/scan-outcome.js";
import type { SpamEngine } from "../../../src/filters/spam-engine.js";
import type { VirusEngine, VirusScan } from "../../../src/filters/virus-engine.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "debug" }, new Writable({ write(c, _e, cb) { lines.push(JSON.parse(c.toString())); cb(); } }));
  return { log, lines, events: (e: string) => lines.filter((l) => l.event === e) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class FakeVirus implements VirusEngine {
  readonly name = "clamav";
  readonly address = "unix:/fake";
  received: Buffer[][] = [];
  aborted = 0;
  constructor(private readonly outcome: VirusOutcome, private readonly ms = 0) {}
  open(): VirusScan {
    const chunks: Buffer[] = [];
    this.received.push(chunks);
    return { write: (c) => chunks.push(c), end: async () => { await sleep(this.ms); return this.outcome; }, abort: () => { this.aborted++; } };
  }
  async ping(): Promise<ScanFailure | null> { return null; }
}

class FakeSpam implements SpamEngine {
  readonly name = "spamassassin";
  readonly address = "tcp:fake:783";
  messages: Buffer[] = [];
  constructor(private readonly outcome: SpamOutcome, private readonly ms = 0) {}
  async check(m: Buffer): Promise<SpamOutcome> { this.messages.push(m); await sleep(this.ms); return this.outcome; }
  async ping(): Promise<ScanFailure | null> { return { status: "error", error: "down", detail: "ECONNREFUSED" }; }
}

function makeFilter(virus: VirusEngine | undefined, spam: SpamEngine | undefined, o: { vSlots?: [number, number]; sSlots?: [number, number]; vMax?: number; sMax?: number; queueTimeout?: number } = {}) {
  const cap = capture();
  const scanner = <E extends VirusEngine | SpamEngine>(engine: E, slots: [number, number], maxSize: number) => ({
    engine, slots: new ScanSlots(...slots), health: new ScannerHealth(engine.name, engine.address, cap.log), limits: { maxSize, queueTimeout: o.queueTimeout ?? 1000 },
  });
  const filter = new ScanningFilter({
    virus: virus && scanner(virus, o.vSlots ?? [8, 16], o.vMax ?? 1_000_000),
    spam: spam && scanner(spam, o.sSlots ?? [4, 4], o.sMax ?? 512_000),
    thresholds: { clamav: { onError: "tempfail" }, spamassassin: { onError: "tempfail", tagScore: 5, rejectScore: 10 } },
    healthInterval: 0,
  }, cap.log);
  return { filter, ...cap };
}

const facts = (id: string) => ({ id, from: "a@b.test", rcpts: ["c@d.test"], clientIp: "192.0.2.1" });
const scored = (score: number): SpamOutcome => ({ status: "scored", score, threshold: 5, rules: [{ name: "R", score, description: "d" }] });

describe("scanning filter", () => {
  it("streams every chunk to both scanners and runs the two scans concurrently", async () => {
    const virus = new FakeVirus({ status: "clean" }, 150);
    const spam = new FakeSpam(scored(1), 150);
    const { filter, events } = makeFilter(virus, spam);
    const s = filter.begin(facts("M1"));
    s.write(Buffer.from("Subject: a\r\n\r\n"));
    s.write(Buffer.from("body\r\n"));
    const t0 = Date.now();
    expect(await s.end()).toEqual({ action: "accept" });
    expect(Date.now() - t0).toBeLessThan(280); // 150 ms each, in parallel
    expect(Buffer.concat(virus.received[0]).toString()).toBe("Subject: a\r\n\r\nbody\r\n");
    expect(spam.messages[0].toString()).toBe("Subject: a\r\n\r\nbody\r\n");
    expect(events("FILTER_RESULT")[0]).toMatchObject({ id: "M1", action: "accept", virus: "clean", spam: 1 });
  });

  it("skips the spam check above its maxSize but still scans for viruses; above clamav's maxSize it flags unscanned", async () => {
    const virus = new FakeVirus({ status: "infected", signature: "Sig" });
    const spam = new FakeSpam(scored(1000));
    const { filter } = makeFilter(virus, spam, { sMax: 10, vMax: 20 });
    const a = filter.begin(facts("M2"));
    a.write(Buffer.alloc(15, 65));
    expect(await a.end()).toMatchObject({ action: "reject", code: 554 });
    expect(spam.messages).toHaveLength(0);
    const b = filter.begin(facts("M3"));
    await sleep(5); // the clamd stream is open: crossing maxSize must close it
    b.write(Buffer.alloc(15, 65));
    b.write(Buffer.alloc(15, 65));
    expect(await b.end()).toEqual({ action: "accept", flags: ["unscanned"], headers: "X-Mxspool-Unscanned: clamav (too big)\r\n" });
    expect(virus.aborted).toBe(1);
  });

  it("is saturated while open transactions fill the slots and queue, logs the change once each way, and counts refusals", async () => {
    const { filter, events } = makeFilter(undefined, new FakeSpam(scored(0), 50), { sSlots: [1, 1] });
    const a = filter.begin(facts("A"));
    expect(filter.saturated()).toBe(false);
    const b = filter.begin(facts("B"));
    expect(filter.saturated()).toBe(true);
    expect(filter.saturated()).toBe(true);
    expect(events("FILTERS_SATURATED")).toHaveLength(1);
    expect(filter.health()).toMatchObject({ saturated: true, saturatedRefusals: 2, scanners: [{ name: "spamassassin", open: 2, saturated: true, saturatedRefusals: 2 }] });
    a.write(Buffer.from("x"));
    b.write(Buffer.from("y"));
    const [va, vb] = await Promise.all([a.end(), b.end()]); // b waits for a's slot
    expect([va, vb]).toEqual([{ action: "accept" }, { action: "accept" }]);
    expect(events("FILTERS_UNSATURATED")).toEqual([expect.objectContaining({ refused: { spamassassin: 2 } })]);
    expect(filter.saturated()).toBe(false);
    expect(filter.stats().counters.spamassassin).toMatchObject({ scanned: 2 });
  });

  it("answers 451 4.3.2 when no slot comes free within queueTimeout", async () => {
    const { filter, events } = makeFilter(undefined, new FakeSpam(scored(0), 400), { sSlots: [1, 5], queueTimeout: 100 });
    const a = filter.begin(facts("A"));
    const b = filter.begin(facts("B"));
    const pa = a.end();
    const t0 = Date.now();
    expect(await b.end()).toEqual({ action: "tempfail", code: 451, enhanced: "4.3.2", text: "Content scanners busy, try again later", reason: "filters-busy" });
    expect(Date.now() - t0).toBeLessThan(300);
    expect(await pa).toEqual({ action: "accept" });
    expect(events("FILTER_BUSY")).toEqual([expect.objectContaining({ id: "B" })]);
  });

  it("frees slots and open places when a transaction is aborted", async () => {
    const virus = new FakeVirus({ status: "clean" });
    const { filter } = makeFilter(virus, new FakeSpam(scored(0)), { vSlots: [1, 0], sSlots: [1, 0] });
    const a = filter.begin(facts("A"));
    a.write(Buffer.from("x"));
    await sleep(10);
    expect(filter.saturated()).toBe(true);
    a.abort();
    a.abort();
    expect(filter.saturated()).toBe(false);
    expect(virus.aborted).toBe(1);
    const b = filter.begin(facts("B"));
    b.write(Buffer.from("y"));
    expect(await b.end()).toEqual({ action: "accept" });
    expect(filter.health().scanners.map((s) => [s.name, s.inFlight, s.open])).toEqual([["clamav", 0, 0], ["spamassassin", 0, 0]]);
  });

  it("logs a scanner going down once, each failed scan with its message id, and coming back", async () => {
    const failing = new FakeSpam({ status: "error", error: "timeout", detail: "no answer within 30000 ms" });
    const { filter, events } = makeFilter(undefined, failing);
    for (const id of ["A", "B"]) {
      const s = filter.begin(facts(id));
      s.write(Buffer.from("x"));
      expect(await s.end()).toMatchObject({ action: "tempfail", enhanced: "4.7.1", reason: "spamassassin-timeout" });
    }
    expect(events("FILTER_DOWN")).toHaveLength(1);
    expect(events("FILTER_TIMEOUT").map((l) => l.id)).toEqual(["A", "B"]);
    expect(filter.health()).toMatchObject({ status: "degraded", scanners: [{ state: "down", lastError: "timeout: no answer within 30000 ms" }] });
    expect(filter.stats().counters.spamassassin).toMatchObject({ timeouts: 2, scanned: 0 });
  });
});

describe("createContentFilter", () => {
  const base = { domains: { "example.com": { primary: ["mail.example.com:25"] } } };

  it("runs without filters when none is configured, and says so loudly in the log and in health", () => {
    const { log, events } = capture();
    const f = createContentFilter(parseConfig(base) as Config, log);
    expect(f).toBeUndefined();
    expect(events("FILTERS_DISABLED")).toEqual([expect.objectContaining({ level: 40, msg: expect.stringMatching(/^NO CONTENT FILTERING/) })]);
    expect(filtersHealth(f)).toMatchObject({ enabled: false, status: "disabled", warning: expect.stringMatching(/NO CONTENT FILTERING/) });
  });

  it("builds the configured scanners, logs them and probes them at once", async () => {
    const { log, events } = capture();
    const f = createContentFilter(parseConfig({ ...base, filters: { spamassassin: { address: "tcp:127.0.0.1:1", connectTimeout: "200ms" }, healthInterval: "0" } }) as Config, log)!;
    expect(events("FILTERS_ENABLED")).toEqual([expect.objectContaining({ scanners: [{ name: "spamassassin", address: "tcp:127.0.0.1:1", maxConcurrent: 4, maxQueued: 4 }] })]);
    await sleep(300);
    expect(filtersHealth(f)).toMatchObject({ enabled: true, status: "degraded", scanners: [{ name: "spamassassin", state: "down" }] });
    expect(events("FILTER_DOWN")).toHaveLength(1);
    await f.close();
  });
});

/**
 * The ContentFilter that mxspool's SMTP session uses when at least one scanner is configured:
 * per scanner an engine, its scan slots and its health; begin() opens a ScanSession,
 * saturated() says whether a new transaction should get 451 4.3.2 at MAIL FROM (logging the
 * change into and out of saturation once each), health()/stats() report for the status and
 * health endpoints, and a timer PINGs the scanners every healthInterval so a dead scanner
 * shows in logs and health before mail arrives.
 */
import type { Logger } from "../observability/log.js";
import type { ThresholdConfig } from "../../policies/content-thresholds.js";
import type { ContentFilter, FilterSession } from "./content-filter.js";
import type { FiltersHealth, FiltersStats, ScannerStatus } from "./filter-status.js";
import type { ScanSlots } from "./scan-slots.js";
import { ScanSession, type SessionFacts } from "./scan-session.js";
import type { ScannerHealth } from "./scanner-health.js";
import { SpamPass } from "./spam-pass.js";
import type { SpamEngine } from "./spam-engine.js";
import { VirusPass, type PassLimits } from "./virus-pass.js";
import type { VirusEngine } from "./virus-engine.js";

export interface Scanner<E> { engine: E; slots: ScanSlots; health: ScannerHealth; limits: PassLimits }

export interface ScanningFilterParts {
  virus?: Scanner<VirusEngine>;
  spam?: Scanner<SpamEngine>;
  thresholds: ThresholdConfig;
  /** ms between health PINGs; 0 = none. */
  healthInterval: number;
}

export class ScanningFilter implements ContentFilter {
  private inSaturation = false;
  private refusals = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly parts: ScanningFilterParts, private readonly log: Logger) {}

  private scanners(): (Scanner<VirusEngine> | Scanner<SpamEngine>)[] {
    const { virus, spam } = this.parts;
    return [...(virus ? [virus] : []), ...(spam ? [spam] : [])];
  }

  /** Logs the configuration and starts the health PINGs (the first one at once). */
  start(): void {
    this.log.info({
      event: "FILTERS_ENABLED",
      scanners: this.scanners().map((s) => ({ name: s.engine.name, address: s.engine.address, maxConcurrent: s.slots.maxConcurrent, maxQueued: s.slots.maxQueued })),
    }, "content filtering enabled");
    void this.probe();
    if (this.parts.healthInterval > 0) {
      this.timer = setInterval(() => void this.probe(), this.parts.healthInterval);
      this.timer.unref();
    }
  }

  private async probe(): Promise<void> {
    await Promise.all(this.scanners().map(async (s) => s.health.pinged(await s.engine.ping())));
  }

  saturated(): boolean {
    const busy = this.scanners().filter((s) => s.slots.saturated);
    for (const s of busy) this.refusals.set(s.engine.name, (this.refusals.get(s.engine.name) ?? 0) + 1);
    this.noteSaturation(busy);
    return busy.length > 0;
  }

  private noteSaturation(busy = this.scanners().filter((s) => s.slots.saturated)): void {
    if (busy.length && !this.inSaturation) {
      this.inSaturation = true;
      this.log.warn({ event: "FILTERS_SATURATED", scanners: busy.map((s) => ({ name: s.engine.name, ...s.slots.stats() })) },
        "content scanners saturated: new transactions get 451 4.3.2");
    } else if (!busy.length && this.inSaturation) {
      this.inSaturation = false;
      this.log.info({ event: "FILTERS_UNSATURATED", refused: Object.fromEntries(this.refusals) }, "content scanners no longer saturated");
    }
  }

  begin(facts: SessionFacts): FilterSession {
    const { virus, spam } = this.parts;
    return new ScanSession(
      facts,
      virus && new VirusPass(virus.engine, virus.slots, virus.limits, virus.health),
      spam && new SpamPass(spam.engine, spam.slots, spam.limits, spam.health),
      this.parts.thresholds, spam?.health, this.log,
      () => { if (this.inSaturation) this.noteSaturation(); },
    );
  }

  health(): FiltersHealth {
    const { counters: _counters, ...health } = this.stats();
    return health;
  }

  stats(): FiltersStats {
    const scanners: ScannerStatus[] = [];
    const counters: FiltersStats["counters"] = {};
    for (const s of this.scanners()) {
      const { counters: c, ...h } = s.health.snapshot();
      const { inFlight, waiting, open, maxConcurrent, maxQueued, saturated } = s.slots.stats();
      scanners.push({ ...h, inFlight, waiting, open, maxConcurrent, maxQueued, saturated, saturatedRefusals: this.refusals.get(s.engine.name) ?? 0 });
      counters[s.engine.name] = c;
    }
    return {
      enabled: true,
      status: scanners.some((s) => s.state === "down") ? "degraded" : "ok",
      saturated: scanners.some((s) => s.saturated),
      saturatedRefusals: [...this.refusals.values()].reduce((a, b) => a + b, 0),
      scanners,
      counters,
    };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

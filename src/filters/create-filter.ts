/**
 * Builds the content filter from `filters.*`: a ClamdEngine for filters.clamav, a SpamdEngine
 * for filters.spamassassin (the one place that picks the spam engine), each with its scan
 * slots and health, and starts the health PINGs. With no scanner configured it returns
 * undefined — mxspool then runs without filters — and says so loudly (warn FILTERS_DISABLED);
 * filtersHealth(undefined) reports the same in health output.
 */
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import { ClamdEngine } from "./clamd-client.js";
import { FILTERS_DISABLED_WARNING } from "./filter-status.js";
import { ScanSlots } from "./scan-slots.js";
import { ScannerHealth } from "./scanner-health.js";
import { ScanningFilter } from "./scanning-filter.js";
import { SpamdEngine } from "./spamd-client.js";

export function createContentFilter(config: Config, log: Logger): ScanningFilter | undefined {
  const { clamav, spamassassin, healthInterval } = config.filters;
  if (!clamav && !spamassassin) {
    log.warn({ event: "FILTERS_DISABLED" }, FILTERS_DISABLED_WARNING);
    return undefined;
  }
  const scanner = <E extends { name: string; address: string }>(engine: E, c: { maxConcurrent: number; maxQueued: number; maxSize: number; queueTimeout: number }) => ({
    engine,
    slots: new ScanSlots(c.maxConcurrent, c.maxQueued),
    health: new ScannerHealth(engine.name, engine.address, log),
    limits: { maxSize: c.maxSize, queueTimeout: c.queueTimeout },
  });
  const filter = new ScanningFilter({
    virus: clamav && scanner(new ClamdEngine(clamav), clamav),
    spam: spamassassin && scanner(new SpamdEngine(spamassassin), spamassassin),
    thresholds: {
      clamav: clamav && { onError: clamav.onError },
      spamassassin: spamassassin && { onError: spamassassin.onError, tagScore: spamassassin.tagScore, rejectScore: spamassassin.rejectScore },
    },
    healthInterval,
  }, log);
  filter.start();
  return filter;
}

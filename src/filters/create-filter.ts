/**
 * Builds the content filter from `filters.*`, or returns undefined (no scanning) when no
 * scanner is configured.
 */
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { ContentFilter } from "./content-filter.js";

export function createContentFilter(_config: Config, _log: Logger): ContentFilter | undefined {
  return undefined;
}

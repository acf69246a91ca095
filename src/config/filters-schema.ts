/**
 * Config of the content filters (`filters.clamav`, `filters.spamassassin`).
 * Absent scanners mean no filtering (mxspool says so loudly at start).
 */
import { z } from "zod";

export const filtersSchema = z.strictObject({}).prefault({});

/**
 * The stable event codes of the content filters, for logs (field `event`), metrics and the
 * API. One place, with what each means; log lines about a message also carry its `id`.
 */
export const FilterEvent = {
  /** At start, per SMTP process: which scanners are configured, their limits. */
  FILTERS_ENABLED: "FILTERS_ENABLED",
  /** At start (warn): no scanner configured, mail is relayed unscanned. */
  FILTERS_DISABLED: "FILTERS_DISABLED",
  /** A scanner answered after being down or unknown (info). */
  FILTER_UP: "FILTER_UP",
  /** A scanner failed (could not connect, timed out, broke) after being up or unknown (error). */
  FILTER_DOWN: "FILTER_DOWN",
  /** A scan got no answer within its timeout (warn, per message). */
  FILTER_TIMEOUT: "FILTER_TIMEOUT",
  /** A scan failed otherwise: no connection, cut connection, error answer (warn, per message). */
  FILTER_ERROR: "FILTER_ERROR",
  /** A message was accepted without a scan because of onError: accept or its size (warn). */
  FILTER_UNSCANNED: "FILTER_UNSCANNED",
  /** A complete message got no scan slot within queueTimeout: 451 4.3.2 (warn). */
  FILTER_BUSY: "FILTER_BUSY",
  /** Every slot and queue place taken: new transactions get 451 4.3.2 (warn, on the change). */
  FILTERS_SATURATED: "FILTERS_SATURATED",
  /** Below saturation again (info, on the change), with how many MAIL FROM were refused. */
  FILTERS_UNSATURATED: "FILTERS_UNSATURATED",
  /** clamd found a virus: 554 5.7.1 (warn). */
  VIRUS_FOUND: "VIRUS_FOUND",
  /** Spam score >= rejectScore: 550 5.7.1 (info). */
  SPAM_REJECTED: "SPAM_REJECTED",
  /** Spam score >= tagScore: accepted with X-Spam-* headers (info). */
  SPAM_TAGGED: "SPAM_TAGGED",
  /** Per message (debug): each scanner's outcome and time, and the verdict. */
  FILTER_RESULT: "FILTER_RESULT",
} as const;

export type FilterEventCode = keyof typeof FilterEvent;

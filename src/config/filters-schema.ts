/**
 * Config of the content filters (`filters.clamav`, `filters.spamassassin`).
 * Absent scanners mean no filtering (mxspool says so loudly at start: event FILTERS_DISABLED).
 *
 * Keys, defaults and meaning (durations as "90s", "5m", ...; sizes in bytes):
 *
 * filters:
 *   clamav:                      # absent: no virus scanning
 *     address: unix:/run/clamav/clamd.ctl   # required; or "tcp:127.0.0.1:3310"
 *     connectTimeout: 2s         # connecting to clamd; longer counts as "down"
 *     timeout: 60s               # end of DATA -> clamd's answer; longer is FILTER_TIMEOUT
 *     onError: tempfail          # clamd down/timeout/error: tempfail = 451 4.7.1 (the sender
 *                                #   retries later); accept = store it flagged "unscanned"
 *                                #   (job flag + "X-Mxspool-Unscanned: clamav (down)" header)
 *     maxSize: 104857600         # larger messages are not virus-scanned and are accepted
 *                                #   flagged "unscanned"; keep <= clamd's StreamMaxLength
 *     maxConcurrent: 8           # scans in flight per SMTP process (keep the total over
 *                                #   all processes <= clamd's MaxThreads)
 *     maxQueued: 16              # transactions in DATA beyond maxConcurrent before new
 *                                #   MAIL FROM gets 451 4.3.2 (saturation)
 *     queueTimeout: 10s          # longest a complete message waits for a scan slot; then
 *                                #   451 4.3.2 (whatever onError says: load is not a fault)
 *   spamassassin:                # absent: no spam scoring
 *     address: tcp:127.0.0.1:783 # required; or "unix:/path/to/spamd.sock"
 *     connectTimeout: 2s
 *     timeout: 30s               # end of DATA -> spamd's answer (queue wait not included)
 *     onError: tempfail          # as for clamav
 *     maxSize: 512000            # larger messages skip SpamAssassin (spamc's 500 KB);
 *                                #   they are still virus-scanned
 *     tagScore: 5                # score >= tagScore: accepted with X-Spam-Flag,
 *                                #   X-Spam-Status, X-Spam-Score, X-Spam-Report prepended
 *     rejectScore: 10            # score >= rejectScore: 550 5.7.1 (must be >= tagScore)
 *     maxConcurrent: 4           # checks in flight per SMTP process; a total over all
 *                                #   processes of 1-2x spamd's --max-children keeps every
 *                                #   child busy (the extra wait in spamd's listen queue)
 *     maxQueued: 4               # as for clamav
 *     queueTimeout: 10s          # as for clamav
 *   healthInterval: 30s          # PING each scanner this often (state up/down in logs and
 *                                #   health output); 0 = learn the state from scans only
 *
 * Both scanners run concurrently on a message: the added latency is the slower scan.
 * Limits are per SMTP process (smtp.processes), as each process has its own scan slots.
 */
import { z } from "zod";
import { duration } from "./zod-duration.js";
import { parseScannerAddress, SCANNER_ADDRESS_FORM, type ScannerAddress } from "./scanner-address.js";

const address = z.string().transform((text, ctx): ScannerAddress => {
  const a = parseScannerAddress(text);
  if (!a) {
    ctx.addIssue({ code: "custom", message: `${SCANNER_ADDRESS_FORM}, got "${text}"` });
    return z.NEVER;
  }
  return a;
});

const onError = z.enum(["tempfail", "accept"]).default("tempfail");
const count = (def: number) => z.number().int().positive().default(def);

const slots = (maxConcurrent: number, maxQueued: number) => ({
  maxConcurrent: count(maxConcurrent),
  maxQueued: z.number().int().min(0).default(maxQueued),
  queueTimeout: duration("10s"),
});

export const clamavSchema = z.strictObject({
  address,
  connectTimeout: duration("2s"),
  timeout: duration("60s"),
  onError,
  maxSize: count(104_857_600),
  ...slots(8, 16),
});

export const spamassassinSchema = z
  .strictObject({
    address,
    connectTimeout: duration("2s"),
    timeout: duration("30s"),
    onError,
    maxSize: count(512_000),
    tagScore: z.number().default(5),
    rejectScore: z.number().default(10),
    ...slots(4, 4),
  })
  .refine((s) => s.rejectScore >= s.tagScore, { message: "rejectScore must be >= tagScore", path: ["rejectScore"] });

export const filtersSchema = z
  .strictObject({
    clamav: clamavSchema.optional(),
    spamassassin: spamassassinSchema.optional(),
    healthInterval: duration("30s"),
  })
  .prefault({});

export type FiltersConfig = z.output<typeof filtersSchema>;
export type ClamavConfig = z.output<typeof clamavSchema>;
export type SpamassassinConfig = z.output<typeof spamassassinSchema>;

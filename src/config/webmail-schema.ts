/**
 * Config of the webmail (`webmail`): users read their spooled mail in a browser while their
 * primary is down. Served by the `http` role under `/` (the admin API keeps `/api`).
 *
 * Keys, defaults and meaning (durations as "90s", "5m", ...; sizes in bytes):
 *
 * webmail:
 *   enabled: true                # false: `/` answers 404 and no webmail code runs
 *   users: webmail-users.jsonl   # the users file (JSON lines: address + scrypt hash), relative
 *                                #   to dataDir; managed with `mxspool user add|rm|passwd|ls`;
 *                                #   re-read when it changes; absent file = nobody can log in
 *   sessionIdle: 30m             # a session unused this long ends
 *   sessionMax: 12h              # a session ends this long after login, used or not
 *   secureCookies: auto          # auto: Secure cookies when the request came over TLS (or,
 *                                #   with trustProxy, X-Forwarded-Proto: https); always | never
 *   trustProxy: false            # true: client IP and scheme from X-Forwarded-For/-Proto (only
 *                                #   behind a reverse proxy that sets them)
 *   login:
 *     maxFailuresPerAccount: 5   # failed logins for one address within failureWindow, then
 *                                #   that address is locked for `lockout` (from every IP)
 *     maxFailuresPerIp: 20       # failed logins from one IP within failureWindow, then that IP
 *                                #   is locked for `lockout` (for every address)
 *     failureWindow: 15m
 *     lockout: 15m
 *     maxConcurrentPerIp: 4      # password checks under way at once for one client IP; more
 *                                #   logins from it are refused with 429 (Retry-After) at once
 *     maxConcurrent: 32          # password checks under way at once in one process; more are
 *                                #   refused with 503 (Retry-After) instead of queueing
 *   minPasswordLength: 10        # for passwords set in the webmail and with `mxspool user`
 *   pageSize: 50                 # messages per inbox page
 *   maxMessageSize: 26214400     # larger messages show their summary and the .eml download only
 *   compose:                     # sending from the webmail (needs the outbound submitter)
 *     maxUploadBytes: 10485760   # attachments of one message, uploaded and forwarded together
 *     concurrentUploads: 4       # compose forms read at once in one process (each holds at most
 *                                #   maxUploadBytes + 1 MiB in memory); more get 503 Retry-After
 *   (From choices: the user's address and its `outbound.aliases`; limits: `outbound.limits`)
 */
import { z } from "zod";
import { duration } from "./zod-duration.js";

const count = (def: number) => z.number().int().positive().default(def);

export const webmailSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    users: z.string().min(1).default("webmail-users.jsonl"),
    sessionIdle: duration("30m"),
    sessionMax: duration("12h"),
    secureCookies: z.enum(["auto", "always", "never"]).default("auto"),
    trustProxy: z.boolean().default(false),
    login: z
      .strictObject({
        maxFailuresPerAccount: count(5),
        maxFailuresPerIp: count(20),
        failureWindow: duration("15m"),
        lockout: duration("15m"),
        maxConcurrentPerIp: count(4),
        maxConcurrent: count(32),
      })
      .prefault({}),
    minPasswordLength: z.number().int().min(8, "must be at least 8").default(10),
    pageSize: z.number().int().min(5).max(500).default(50),
    maxMessageSize: count(26_214_400),
    compose: z
      .strictObject({
        maxUploadBytes: z.number().int().min(1024).max(200 * 1024 * 1024).default(10_485_760),
        concurrentUploads: count(4),
      })
      .prefault({}),
  })
  .prefault({});

export type WebmailConfig = z.output<typeof webmailSchema>;

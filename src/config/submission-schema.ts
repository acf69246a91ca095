/**
 * Config of SMTP submission (`submission`): users' own mail programs (phones, Outlook,
 * Thunderbird) send through mxspool while their mail server is down. Off unless `listen` or
 * `implicitTls` is set; run by the `smtp` role (src/smtp/submission.ts). What may be sent,
 * by whom and how much is the outbound submitter's to decide, not this listener's.
 *
 * submission:
 *   listen: "0.0.0.0:587"        # port 587 style: STARTTLS first, AUTH only after it; absent = off
 *   implicitTls: "0.0.0.0:465"   # port 465 style: TLS from the first byte; absent = off
 *   tls: { cert, key }           # PEM files; required when either listener is on (no self-signed
 *                                #   fallback: users' clients check the certificate)
 *   maxMessageSize: 26214400     # bytes; bigger messages get 552 5.3.4
 *   maxConnections: 100          # simultaneous submission sessions in one process
 * AUTH PLAIN/LOGIN checks the webmail accounts with the webmail's lock-out (webmail.login).
 */
import { z } from "zod";
import { hostPort } from "./zod-host-port.js";

export const submissionSchema = z
  .strictObject({
    listen: hostPort.optional(),
    implicitTls: hostPort.optional(),
    tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    maxMessageSize: z.number().int().positive().default(26_214_400),
    maxConnections: z.number().int().positive().default(100),
  })
  .refine((s) => !(s.listen || s.implicitTls) || s.tls, { message: "submission.listen/implicitTls need submission.tls: { cert, key }", path: ["tls"] })
  .prefault({});

export type SubmissionConfig = z.output<typeof submissionSchema>;

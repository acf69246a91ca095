/**
 * Config of outbound mail (`outbound`) and of DKIM signing (`domains.<d>.dkim`): authenticated
 * users send and reply while their primary is down (src/outbound/). Off unless enabled.
 *
 * outbound:
 *   enabled: false                 # true: the webmail's compose and the submission listener may send
 *   relay:                         # absent: each recipient domain's MX (port mxPort)
 *     address: smtp.example.net:587
 *     username: mxspool            # AUTH (with password), optional
 *     password: secret
 *     tls: starttls                # starttls (opportunistic), required (STARTTLS or fail), implicit (465), none
 *   mxPort: 25                     # port of the MX hosts found through DNS
 *   maxMessageSize: 26214400       # bytes; over it 552 5.3.4
 *   limits:
 *     messagesPerHour: 100         # per user; over it 450 4.7.1
 *     recipientsPerMessage: 50     # over it 452 4.5.3
 *     globalMessagesPerHour: 2000  # all users together; over it 450 4.7.1
 *   aliases:                       # other addresses a user may send as (envelope and From)
 *     alice@example.com: [sales@example.com]
 *   sentCopies: deliver            # deliver: a copy (X-Mxspool-Sent-Copy: yes) to the sender's own mailbox at the primary; none
 *   keepSent: 7d                   # how long the "Sent" view keeps a message (and the worker its bytes)
 *   maxLifetime: 5d                # an outside recipient not reached within this gets a failure DSN
 *
 * domains.<d>.dkim: { selector: mx2026, privateKey: dkim/example.com.pem }   # path relative to dataDir
 */
import { z } from "zod";
import { duration } from "./zod-duration.js";
import { hostPort } from "./zod-host-port.js";

const address = z.string().regex(/^[^@\s]+@[^@\s]+$/, "expected an e-mail address").transform((a) => a.toLowerCase());

export const dkimSchema = z.strictObject({
  selector: z.string().regex(/^[a-zA-Z0-9](?:[a-zA-Z0-9._-]*[a-zA-Z0-9])?$/, "expected a DNS label like mx2026"),
  /** PEM file of the RSA private key, relative to dataDir (`mxspool dkim keygen` writes one). */
  privateKey: z.string().min(1),
});

export const outboundSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    relay: z
      .strictObject({
        address: hostPort,
        username: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
        tls: z.enum(["starttls", "required", "implicit", "none"]).default("starttls"),
      })
      .refine((r) => Boolean(r.username) === Boolean(r.password), "username and password go together")
      .optional(),
    mxPort: z.number().int().min(1).max(65535).default(25),
    maxMessageSize: z.number().int().positive().default(26_214_400),
    limits: z
      .strictObject({
        messagesPerHour: z.number().int().positive().default(100),
        recipientsPerMessage: z.number().int().positive().default(50),
        globalMessagesPerHour: z.number().int().positive().default(2000),
      })
      .prefault({}),
    aliases: z.record(address, z.array(address)).default({}),
    sentCopies: z.enum(["deliver", "none"]).default("deliver"),
    keepSent: duration("7d"),
    maxLifetime: duration("5d"),
  })
  // the worker reads the bytes from the sent record: they must outlive every retry
  .refine((o) => o.keepSent >= o.maxLifetime, { message: "keepSent must be at least maxLifetime (the bytes waiting for delivery are the sent record's)", path: ["keepSent"] })
  .prefault({});

/**
 * Config of the continuity alerts (`alerts`): webhooks and e-mail to operators, sent out of
 * band — never through the primary that is down. Absent: no alert is sent (the events are
 * still recorded). The sender is src/alerts/.
 *
 * alerts:
 *   webhooks:                      # each gets a POST of the JSON payload
 *     - url: https://ops.example.com/hook
 *       secret: "at least 16 chars" # HMAC-SHA256 of the body in X-Mxspool-Signature: sha256=<hex>
 *   email:
 *     to: [ops@example.net]
 *     from: mxspool@mx2.example.com
 *     relay: smtp.example.net:587  # a relay that is not the primary
 *     tls: opportunistic           # STARTTLS when offered | required | implicit (port 465)
 *     auth: { user: ..., pass: ... }
 *   repeat: 30m                    # reminders while an event stays open; "0" = none
 *   timeout: 10s                   # each webhook request / SMTP step
 *   retry: { first: 5s, max: 5m }  # exponential backoff between attempts
 *   maxAge: 24h                    # an alert not sent within this is dropped (ALERT_EXPIRED)
 */
import { z } from "zod";
import { duration } from "./zod-duration.js";
import { hostPort } from "./zod-host-port.js";

const address = z.string().regex(/^[^@\s]+@[^@\s]+$/, "expected an e-mail address");

const webhookSchema = z.strictObject({
  url: z.string().refine((u) => { try { return ["http:", "https:"].includes(new URL(u).protocol); } catch { return false; } }, 'expected an "http://" or "https://" URL'),
  secret: z.string().min(16, "must be at least 16 characters"),
});

const emailSchema = z.strictObject({
  to: z.array(address).min(1),
  from: address,
  relay: hostPort,
  tls: z.enum(["opportunistic", "required", "implicit"]).default("opportunistic"),
  auth: z.strictObject({ user: z.string().min(1), pass: z.string().min(1) }).optional(),
});

export const alertsSchema = z
  .strictObject({
    webhooks: z.array(webhookSchema).default([]),
    email: emailSchema.optional(),
    repeat: duration("30m"),
    timeout: duration("10s"),
    retry: z.strictObject({ first: duration("5s"), max: duration("5m") }).prefault({}),
    maxAge: duration("24h"),
  })
  .prefault({});

export type AlertsConfig = z.output<typeof alertsSchema>;
export type WebhookConfig = AlertsConfig["webhooks"][number];
export type EmailAlertConfig = NonNullable<AlertsConfig["email"]>;

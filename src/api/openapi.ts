/**
 * The OpenAPI 3.0 document of the API, generated from the route table (routes.ts) so that
 * every route is documented and nothing undocumented is served. Component schemas describe
 * the JSON bodies; every error uses the one Error shape.
 */
import type { Route } from "./routes.js";
import { STATES } from "../store/message-records.js";
import { BULK_ACTIONS } from "../admin/bulk-actions.js";
import { DEFAULT_LIMIT, MAX_LIMIT } from "./validate.js";
import { KINDS } from "./event-routes.js";

const str = { type: "string" };
const int = { type: "integer" };
const ms = { type: "integer", description: "milliseconds since the epoch" };
const nullable = (s: object) => ({ ...s, nullable: true });
const obj = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) => ({ type: "object", properties, required });

const QUERY: Record<string, { description: string; schema: object }> = {
  state: { description: "Only messages in this state", schema: { type: "string", enum: STATES } },
  domain: { description: "Only messages for this configured domain", schema: str },
  rcpt: { description: "Only messages to this recipient (whole address, case-insensitive)", schema: str },
  from: { description: "Sender contains this (case-insensitive)", schema: str },
  q: { description: "Subject or sender contains this (case-insensitive)", schema: str },
  since: { description: "Received at or after: ms since the epoch or ISO 8601", schema: str },
  cursor: { description: "The `next` of the previous page", schema: str },
  kind: { description: "Only continuity events of this kind", schema: { type: "string", enum: KINDS } },
  limit: { description: `Page size, 1 to ${MAX_LIMIT}`, schema: { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT } },
};

const filterSchema = obj({
  state: { type: "string", enum: STATES }, domain: str, rcpt: str, from: str, q: str, since: { oneOf: [str, int] },
}, []);

const summary = obj({
  id: str, domain: str, envelope: obj({ from: str, to: { type: "array", items: str } }), subject: str, size: int, receivedAt: ms,
  state: { type: "string", enum: STATES }, attempts: int, lastError: nullable(str), nextAttempt: nullable(ms), flags: { type: "array", items: str },
});

const primary = obj({
  domain: str, state: { type: "string", enum: ["up", "down", "unknown"] }, since: nullable(ms), lastProbe: nullable(ms), lastError: nullable(str),
  endpoint: nullable(str), primary: { oneOf: [{ type: "array", items: str }, { type: "string", enum: ["mx"] }] }, adminPaused: { type: "boolean" }, queuePaused: { type: "boolean" },
});

const count = { type: "array", items: obj({ name: str, count: int }) };
const event = obj({
  id: str, kind: { type: "string", enum: KINDS }, domain: str, state: { type: "string", enum: ["open", "closed"] }, startedAt: ms, detectedAt: ms,
  recoveredAt: ms, drainedAt: ms, closedAt: ms, summary: str, data: { type: "object", description: "kind-specific facts" },
}, ["id", "kind", "state", "startedAt", "summary", "data"]);
const report = obj({
  id: str, kind: str, domain: str, state: str, summary: str, timeline: { type: "array", items: obj({ at: ms, what: str }) },
  figures: obj({ timeToDetectMs: int, outageMs: int, timeToFirstDeliveryMs: int, drainMs: int, drainPerMinute: { type: "number" } }, []),
  mail: obj({ messages: int, recipients: int, bytes: int, delivered: int, bounced: int, held: int, waiting: int, rejected: int, firstDeliveryAt: ms, lastDeliveryAt: ms,
    bounceReasons: count, holdReasons: count, waitingReasons: count, topSenders: count, topRecipients: count, truncated: { type: "boolean" } }, ["messages", "recipients", "bytes"]),
  data: { type: "object" },
}, ["id", "kind", "state", "summary", "timeline", "figures", "data"]);

const SCHEMAS: Record<string, unknown> = {
  ContinuityEvent: event,
  EventPage: obj({ items: { type: "array", items: { $ref: "#/components/schemas/ContinuityEvent" } }, count: int, next: nullable(str) }),
  EventDetail: obj({ event: { $ref: "#/components/schemas/ContinuityEvent" }, report }),
  Error: obj({ error: obj({ code: str, message: str }) }),
  MessageSummary: summary,
  MessagePage: obj({ items: { type: "array", items: { $ref: "#/components/schemas/MessageSummary" } }, count: int, next: nullable(str) }),
  MessageDetail: {
    allOf: [{ $ref: "#/components/schemas/MessageSummary" }, obj({
      finalAt: nullable(ms),
      recipients: { type: "array", items: obj({ address: str, state: { type: "string", enum: ["pending", "delivered", "bounced", "deleted"] }, reply: nullable(str), at: nullable(ms) }) },
      client: nullable({ type: "object" }), addedHeaders: str, headers: nullable(str), bytes: obj({ stored: { type: "boolean" }, size: int }),
      job: nullable(obj({ state: str, attemptsMade: int, runAt: ms, rcpts: { type: "array", items: str }, delayWarned: { type: "boolean" } }, ["state", "attemptsMade", "rcpts", "delayWarned"])),
      ledger: { type: "array", items: { type: "object", properties: { at: ms, type: str, actor: str }, required: ["at", "type"] } },
    })],
  },
  ActionDone: obj({ id: str, action: { type: "string", enum: ["hold", "release", "retry", "redeliver", "delete"] }, state: { type: "string", enum: STATES }, note: str, queuePaused: { type: "boolean" } }, ["id", "action", "state"]),
  BulkRequest: {
    ...obj({
      action: { type: "string", enum: BULK_ACTIONS },
      filter: { ...filterSchema, description: "At least one criterion that narrows: blank text, empty arrays and a since at or before 2000-01-01 count as absent" },
      all: { type: "boolean", default: false, description: "true (and no filter): act on every message. A filter that selects everything without it is a 400" },
    }, ["action"]),
    description: "Either a filter that narrows, or \"all\": true — never everything by default",
  },
  BulkResult: obj({ action: { type: "string", enum: BULK_ACTIONS }, matched: int, touched: int, skipped: { type: "object", additionalProperties: int, description: "Messages the action did not apply to, by error code" } }),
  TrafficSeries: obj({
    domain: str, bucket: { type: "integer", description: "bucket length, ms" }, step: { type: "integer", description: "point width, ms" }, from: ms, to: ms,
    metrics: { type: "array", items: str },
    points: { type: "array", items: { type: "object", properties: { t: ms }, required: ["t"], additionalProperties: { type: "number" }, description: "t: the step's start; one number per metric asked (counts added up; queue: the largest sample)" } },
  }),
  Primary: primary,
  PrimaryList: obj({ primaries: { type: "array", items: { $ref: "#/components/schemas/Primary" } } }),
  PrimaryHistory: obj({ domain: str, items: { type: "array", items: obj({ at: ms,
    fingerprint: obj({ endpoint: str, banner: str, capabilities: { type: "array", items: str },
      cert: nullable(obj({ subject: str, issuer: str, fingerprint: str, validTo: ms })), certExpiresSoon: { type: "boolean" },
      addresses: { type: "array", items: str }, mx: nullable({ type: "array", items: obj({ exchange: str, priority: int }) }) }),
    changes: { type: "array", items: obj({ field: str, old: {}, new: {}, severity: { type: "string", enum: ["info", "warning"] }, meaning: str }) } }) } }),
  FlushDone: obj({ domain: str, promoted: int, queuePaused: { type: "boolean" } }),
  ProbeResult: obj({ probed: { type: "boolean" }, primary: { $ref: "#/components/schemas/Primary" } }),
  TestAlert: obj({ id: { type: "string", description: "The test event's id (event.id in the alert)" }, destinations: int }),
  DoctorResult: obj({ ok: { type: "boolean" }, exitCode: int, checks: { type: "array", items: obj({ name: str, status: { type: "string", enum: ["ok", "warn", "fail"] }, detail: str, hint: str }, ["name", "status", "detail"]) } }),
  DrillResult: obj({ id: str, domain: str, recipient: str, passed: { type: "boolean" }, reason: str, at: ms, queueId: str,
    figures: obj({ acceptMs: int, spoolMs: int, deliveryMs: int }, []) }, ["id", "domain", "recipient", "passed", "at", "figures"]),
  DrillStarted: obj({ id: str, domain: str, running: { type: "boolean" } }),
  DrillStatus: obj({ domain: str, running: { type: "boolean" }, last: nullable({ $ref: "#/components/schemas/DrillResult" }) }),
  WebmailUserRequest: obj({ address: str, reset: { type: "boolean", default: false } }, ["address"]),
  WebmailUser: obj({ address: str, oneTimePassword: str, mustChangePassword: { type: "boolean" } }),
  Health: {
    ...obj({
      status: { type: "string", enum: ["ok", "degraded", "unavailable"] },
      reason: nullable({ type: "string", enum: ["redis", "scanner", "primary", "paused", "unscanned"], description: "Why it is not ok, in one word; null when ok" }),
      live: { type: "boolean" }, ready: { type: "boolean" },
      reasons: { type: "array", items: str }, warnings: { type: "array", items: str }, redis: { type: "string", enum: ["up", "down"] },
      primaries: { type: "object", additionalProperties: { type: "object" } }, queue: { type: "object", additionalProperties: { type: "object" } }, scanners: nullable({ type: "object" }),
    }, ["status", "reason"]),
    description: "Without a token only status and reason; with the admin bearer token also the details (reasons, warnings, primaries, queues, scanners)",
  },
  Status: obj({
    now: ms, hostname: str, domains: { type: "object", additionalProperties: { type: "object" } },
    queue: { type: "object", additionalProperties: int }, totals: { type: "object" },
    rates: nullable(obj({ windowSeconds: int, acceptedPerSecond: { type: "number" }, deliveredPerSecond: { type: "number" }, bouncedPerSecond: { type: "number" }, rejectedPerSecond: { type: "number" } })),
    drain: obj({ inQueue: int, pacePerSecond: nullable({ type: "number" }), etaSeconds: nullable(int) }),
    scanners: obj({ status: { type: "string", enum: ["disabled", "ok", "degraded", "unknown"] }, warning: str, scanners: { type: "array", items: { type: "object" } } }, ["status", "scanners"]),
    redis: obj({ usedMemory: int, limitBytes: int, limitFrom: { type: "string", enum: ["maxmemory", "system"] }, bytesPerQueuedMessage: nullable(int), messagesLeft: nullable(int) }),
    outageHoursLeft: nullable({ type: "number", description: "Hours of outage that still fit under the memory limit at the last 24 h's arrival rate; null when nothing is queued or nothing arrived" }),
    acceptedPerHour: { type: "number" },
  }),
};

const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } });

export function buildOpenApi(routes: readonly Route[]): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1], in: "path", required: true,
      description: m[1] === "id" ? "A message (queue) id: 20 characters of 0-9 A-Z, optionally .N" : "A configured domain",
      schema: m[1] === "id" ? { type: "string", pattern: "^[0-9A-Z]{20}(\\.\\d+)?$" } : str,
    }));
    for (const q of r.query) {
      const doc = r.queryDoc?.[q] ?? QUERY[q];
      params.push({ name: q, in: "query", required: false, description: doc.description, schema: doc.schema as typeof str });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, resp] of Object.entries(r.responses)) {
      const contentType = resp.contentType ?? "application/json";
      responses[status] = { description: resp.description, content: { [contentType]: { schema: resp.schema ? { $ref: `#/components/schemas/${resp.schema}` } : { type: "string" } } } };
    }
    if (r.auth) {
      responses["401"] = errorResponse("No or a wrong bearer token (or none configured)");
      responses["503"] ??= errorResponse("Redis is not reachable, or did not answer in time");
    }
    if (params.length || r.query.length) responses["400"] ??= errorResponse("Invalid input");
    responses["500"] = errorResponse("Internal error (logged; never a stack trace)");
    paths[r.path] ??= {};
    paths[r.path][r.method.toLowerCase()] = {
      operationId: r.operationId, summary: r.summary, tags: [r.tag],
      ...(r.auth ? {} : { security: [{}, { bearer: [] }] }), // the token is optional there (it unlocks details)
      ...(params.length ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: true, content: { "application/json": { schema: { $ref: `#/components/schemas/${r.body}` } } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.0.3",
    info: { title: "mxspool admin API", version: "1", description: "Secondary MX spool: status, queue inspection and admin actions. Errors are always { \"error\": { \"code\", \"message\" } }." },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "http.adminToken (or MXSPOOL_ADMIN_TOKEN)" } }, schemas: SCHEMAS },
  };
}

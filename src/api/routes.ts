/**
 * THE route table: every route of the API, once — method, OpenAPI-style path, whether it
 * needs the bearer token, the query parameters it accepts, its handler and what it may
 * answer. The router dispatches from it and openapi.ts documents from it, so the two cannot
 * drift apart.
 */
import type { Handler } from "./api-deps.js";
import { bulkAction, deleteMessage, getMessage, getRaw, holdMessage, listMessages, redeliverMessage, releaseMessage, retryMessage } from "./message-routes.js";
import { flushDomain, listPrimaries, pauseDomain, primaryHistory, probePrimary, resumeDomain } from "./domain-routes.js";
import { health, status } from "./status-routes.js";
import { metrics } from "./metrics-route.js";
import { EVENT_LIST_PARAMS, getEvent, listEvents } from "./event-routes.js";
import { createWebmailUser } from "./webmail-routes.js";
import { sendTestAlert } from "./alert-routes.js";
import { doctor, drill, lastDrill } from "./doctor-routes.js";
import { buildOpenApi } from "./openapi.js";
import { MAX_POINTS, TRAFFIC_PARAMS, traffic } from "./traffic-routes.js";
import { json } from "./reply.js";
import { LIST_PARAMS } from "./validate.js";

export interface Response { description: string; schema?: string; contentType?: string }

export interface Route {
  method: "GET" | "POST" | "DELETE";
  path: string;
  operationId: string;
  summary: string;
  tag: "health" | "messages" | "domains" | "primaries" | "events" | "alerts" | "doctor" | "webmail" | "metrics" | "meta" | "traffic";
  auth: boolean;
  /** Accepted query parameters; anything else is a 400. */
  query: readonly string[];
  /** What a parameter means on this route when it differs from the shared one (openapi.ts QUERY). */
  queryDoc?: Record<string, { description: string; schema: object }>;
  /** A JSON request body, by component schema name. */
  body?: string;
  responses: Record<number, Response>;
  /** How long the handler may take before the client gets 503 (default 20 s). */
  timeoutMs?: number;
  handle: Handler;
}

const ok = (schema: string, description = "OK"): Response => ({ description, schema });
const conflict: Response = { description: "The message is in a state the action does not apply to, or is being delivered", schema: "Error" };
const notFound: Response = { description: "No such message", schema: "Error" };
const badId: Response = { description: "The id is not a message id", schema: "Error" };
const unknownDomain: Response = { description: "Not a configured domain", schema: "Error" };
const badDomain: Response = { description: "Not a domain name", schema: "Error" };

const messageAction = (verb: string, op: string, summary: string, handle: Handler): Route => ({
  method: "POST", path: `/api/messages/{id}/${verb}`, operationId: op, summary, tag: "messages", auth: true, query: [],
  responses: { 200: ok("ActionDone"), 400: badId, 404: notFound, 409: conflict }, handle,
});

export const ROUTES: readonly Route[] = [
  { method: "GET", path: "/api/health", operationId: "health", summary: "Liveness and readiness, no token needed: { status, reason } only; with the admin token also Redis, each scanner, each primary and queue (never message data)", tag: "health", auth: false, query: [],
    responses: { 200: ok("Health", "Ready"), 401: { description: "A bearer token was presented and is wrong", schema: "Error" }, 503: ok("Health", "Not ready; `reason` (and with the token `reasons`) says why") }, handle: health },
  { method: "GET", path: "/api/status", operationId: "status", summary: "Primary state per domain, messages per state, rates, drain pace, scanners", tag: "health", auth: true, query: [],
    responses: { 200: ok("Status") }, handle: status },
  { method: "GET", path: "/api/messages", operationId: "listMessages", summary: "Messages, newest first, a page at a time (pass `next` as `cursor` for the following page)", tag: "messages", auth: true, query: LIST_PARAMS,
    responses: { 200: ok("MessagePage"), 400: { description: "A bad state, domain, rcpt, since, cursor or limit", schema: "Error" } }, handle: listMessages },
  { method: "POST", path: "/api/messages/bulk", operationId: "bulkAction", summary: "Apply hold, release, retry or delete to every message a filter matches (every message only with \"all\": true)", tag: "messages", auth: true, query: [], body: "BulkRequest", timeoutMs: 600_000,
    responses: { 200: ok("BulkResult"), 400: { description: "A bad action or filter, or a filter that selects every message without \"all\": true", schema: "Error" }, 413: { description: "Body too large", schema: "Error" }, 415: { description: "Body is not application/json", schema: "Error" } }, handle: bulkAction },
  { method: "GET", path: "/api/messages/{id}", operationId: "getMessage", summary: "Everything known about one message, its ledger included", tag: "messages", auth: true, query: [],
    responses: { 200: ok("MessageDetail"), 400: badId, 404: notFound }, handle: getMessage },
  { method: "DELETE", path: "/api/messages/{id}", operationId: "deleteMessage", summary: "Delete a message that is not final: its job and bytes go, the record stays for retention", tag: "messages", auth: true, query: [],
    responses: { 200: ok("ActionDone"), 400: badId, 404: notFound, 409: conflict }, handle: deleteMessage },
  { method: "GET", path: "/api/messages/{id}/raw", operationId: "getRawMessage", summary: "The message as it is delivered (our added headers + the received bytes)", tag: "messages", auth: true, query: [],
    responses: { 200: { description: "The message", contentType: "message/rfc822" }, 400: badId, 404: notFound, 410: { description: "The bytes are no longer stored", schema: "Error" } }, timeoutMs: 120_000, handle: getRaw },
  messageAction("retry", "retryMessage", "Deliver now, ignoring the backoff", retryMessage),
  messageAction("hold", "holdMessage", "Stop delivering a message (its record and bytes stay) until released", holdMessage),
  messageAction("release", "releaseMessage", "Queue a held message again", releaseMessage),
  messageAction("redeliver", "redeliverMessage", "Deliver a retained delivered or bounced message again, to every recipient", redeliverMessage),
  { method: "POST", path: "/api/domains/{domain}/pause", operationId: "pauseDomain", summary: "Stop delivering to a domain until resumed, whatever its primary does", tag: "domains", auth: true, query: [],
    responses: { 200: ok("Primary"), 400: badDomain, 404: unknownDomain }, handle: pauseDomain },
  { method: "POST", path: "/api/domains/{domain}/resume", operationId: "resumeDomain", summary: "Lift an admin pause (delivery starts when the primary is up)", tag: "domains", auth: true, query: [],
    responses: { 200: ok("Primary"), 400: badDomain, 404: unknownDomain }, handle: resumeDomain },
  { method: "POST", path: "/api/domains/{domain}/flush", operationId: "flushDomain", summary: "Deliver a domain's waiting mail now, ignoring backoff", tag: "domains", auth: true, query: [],
    responses: { 200: ok("FlushDone"), 400: badDomain, 404: unknownDomain }, handle: flushDomain },
  { method: "GET", path: "/api/primaries", operationId: "listPrimaries", summary: "Each domain's primary: state, since when, last probe and error, pauses", tag: "primaries", auth: true, query: [],
    responses: { 200: ok("PrimaryList") }, handle: listPrimaries },
  { method: "POST", path: "/api/primaries/{domain}/probe", operationId: "probePrimary", summary: "Probe a domain's primary now and return its state", tag: "primaries", auth: true, query: [], timeoutMs: 40_000,
    responses: { 200: ok("ProbeResult", "Probed"), 202: ok("ProbeResult", "Probe requested; no result within the wait"), 400: badDomain, 404: unknownDomain, 503: { description: "No primary monitor is running", schema: "Error" } }, handle: probePrimary },
  { method: "GET", path: "/api/primaries/{domain}/history", operationId: "primaryHistory", summary: "The primary's fingerprints (banner, EHLO capabilities, STARTTLS certificate, addresses, MX set), newest first, each with the changes it brought", tag: "primaries", auth: true, query: ["limit"],
    responses: { 200: ok("PrimaryHistory"), 400: { description: "A bad domain or limit", schema: "Error" }, 404: unknownDomain }, handle: primaryHistory },
  { method: "GET", path: "/api/events", operationId: "listEvents", summary: "Continuity events (outages, stale queue, scanners, Redis memory, certificates, drills), newest first, a page at a time", tag: "events", auth: true, query: EVENT_LIST_PARAMS,
    responses: { 200: ok("EventPage"), 400: { description: "A bad kind, cursor or limit", schema: "Error" } }, handle: listEvents },
  { method: "GET", path: "/api/events/{id}", operationId: "getEvent", summary: "One continuity event with its report (timeline, time to detect, drain, what the mail did)", tag: "events", auth: true, query: [],
    responses: { 200: ok("EventDetail"), 400: { description: "The id is not an event id", schema: "Error" }, 404: { description: "No such event", schema: "Error" } }, handle: getEvent },
  { method: "POST", path: "/api/alerts/test", operationId: "sendTestAlert", summary: "Queue a `test` alert to every configured webhook and the alert e-mail (mxspool doctor --send-test-alert)", tag: "alerts", auth: true, query: [],
    responses: { 202: ok("TestAlert", "Queued; it is sent (and retried) by the alert worker"), 409: { description: "No alert destination is configured", schema: "Error" }, 503: { description: "No alert queue in this process", schema: "Error" } }, handle: sendTestAlert },
  { method: "POST", path: "/api/doctor", operationId: "doctor", summary: "Check the whole set-up now (MX records, the primary's RCPT answer, Redis persistence and memory headroom, disk, scanners, certificate, webmail users, clock, last drill): one result per check", tag: "doctor", auth: true, query: [], timeoutMs: 60_000,
    responses: { 200: ok("DoctorResult", "Checked; exitCode 1 when any check failed") }, handle: doctor },
  { method: "POST", path: "/api/drill/{domain}", operationId: "startDrill", summary: "Start a failover drill: pause the domain, send a marked message through our own SMTP listener, check it is spooled, resume and wait for the primary's 250. Answers at once; read the result with GET", tag: "doctor", auth: true, query: [],
    responses: { 202: ok("DrillStarted", "Started"), 400: badDomain, 404: unknownDomain, 409: { description: "A drill of this domain is already running", schema: "Error" } }, handle: drill },
  { method: "GET", path: "/api/drill/{domain}", operationId: "lastDrill", summary: "The last drill of a domain (figures, pass/fail and why) and whether one is running", tag: "doctor", auth: true, query: [],
    responses: { 200: ok("DrillStatus"), 400: badDomain, 404: unknownDomain }, handle: lastDrill },
  { method: "POST", path: "/api/webmail/users", operationId: "createWebmailUser", summary: "Create a webmail account with a one-time password (reset: true re-issues one)", tag: "webmail", auth: true, query: [], body: "WebmailUserRequest",
    responses: { 200: ok("WebmailUser", "Password reset"), 201: ok("WebmailUser", "Created"), 400: { description: "A bad address or body", schema: "Error" }, 409: { description: "The account exists (pass reset: true)", schema: "Error" },
      413: { description: "Body too large", schema: "Error" }, 415: { description: "Body is not application/json", schema: "Error" } }, handle: createWebmailUser },
  { method: "GET", path: "/api/traffic", operationId: "traffic", summary: `One domain's traffic series (accepted, recipients, bytes, refusals by reason, delivered, bounced, deferred, queue depth) per step, at most ${MAX_POINTS} points`, tag: "traffic", auth: true, query: TRAFFIC_PARAMS,
    queryDoc: {
      domain: { description: "A configured domain, or * for refusals made before a domain was known (required)", schema: { type: "string" } },
      from: { description: "Start: ms since the epoch, ISO 8601, or a duration ago (\"24h\"); default to - 24h; rounded down to the step", schema: { type: "string" } },
      to: { description: "End (exclusive): as from; default now; rounded up to the step", schema: { type: "string" } },
      step: { description: "Point width: ms or a duration (\"1h\"), a multiple of baselines.bucket; default the bucket", schema: { type: "string" } },
      metrics: { description: "Comma-separated: accepted, recipients, bytes, delivered, bounced, deferred, queue, rejected (all reasons), rejected.<reason> (unknown-recipient, relay, policy, size, virus, spam, rate, backup, tempfail, other)", schema: { type: "string" } },
    },
    responses: { 200: ok("TrafficSeries"), 400: { description: "A bad domain, from, to, step or metrics, or too many points (the code names the parameter)", schema: "Error" } }, handle: traffic },
  { method: "GET", path: "/metrics", operationId: "metrics", summary: "Prometheus metrics", tag: "metrics", auth: true, query: [],
    responses: { 200: { description: "Prometheus text format", contentType: "text/plain" } }, handle: metrics },
  { method: "GET", path: "/api/openapi.json", operationId: "openapi", summary: "This API as an OpenAPI 3 document", tag: "meta", auth: true, query: [],
    responses: { 200: { description: "OpenAPI 3.0 document", contentType: "application/json" } }, handle: async () => json(200, buildOpenApi(ROUTES)) },
];

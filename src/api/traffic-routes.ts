/**
 * GET /api/traffic?domain=&from=&to=&step=&metrics= — one domain's traffic series
 * (src/observability/traffic-series.ts) for the console and the baselines: per step, the
 * buckets added up (the queue depth: the largest sample). The query is checked by a pure
 * function (parseTrafficQuery, tested from tables); every problem is a 400 naming the
 * parameter, and a range is bounded to MAX_POINTS points so one request stays cheap.
 */
import type { Handler } from "./api-deps.js";
import { fromFailure, json } from "./reply.js";
import { checkParams } from "./validate.js";
import { failure, ok, type Outcome } from "../admin/outcome.js";
import { parseDuration } from "../config/duration.js";
import { configuredTraffic, GLOBAL_DOMAIN, QUERY_METRICS, type TrafficQuery, type TrafficQueryMetric } from "../observability/traffic-series.js";

export const TRAFFIC_PARAMS = ["domain", "from", "to", "step", "metrics"] as const;
/** At most this many points per answer (a week of 5-minute buckets). */
export const MAX_POINTS = 2016;
/** The range when `from` is absent: the last day. */
const DEFAULT_SPAN = 86_400_000;
/** What `metrics` is when absent: every counter, the queue, and the refusals added up. */
export const DEFAULT_METRICS: readonly TrafficQueryMetric[] = ["accepted", "recipients", "bytes", "rejected", "delivered", "bounced", "deferred", "queue"];

const invalid = (code: string, message: string) => failure("invalid", code, message);
const clip = (s: string) => s.slice(0, 60).replace(/[^\x20-\x7e]/g, "?");

/** An instant: ms since the epoch, ISO 8601, or a duration meaning that long before now ("24h"). */
export function parseInstant(text: string, now: number): number | null {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  if (/^\d{4}-\d\d-\d\d/.test(text)) { const t = Date.parse(text); return Number.isFinite(t) ? t : null; }
  const ago = parseDuration(text.replace(/^-/, ""));
  return ago === null ? null : now - ago;
}

export function parseTrafficQuery(q: URLSearchParams, o: { domains: readonly string[]; bucketMs: number; now: number }): Outcome<TrafficQuery> {
  const params = checkParams(q, TRAFFIC_PARAMS);
  if (!params.ok) return params;
  const domain = (q.get("domain") ?? "").toLowerCase();
  if (!domain) return invalid("INVALID_DOMAIN", `domain is required: a configured domain (${o.domains.join(", ")}) or "${GLOBAL_DOMAIN}" for refusals before a domain is known`);
  if (domain !== GLOBAL_DOMAIN && !o.domains.includes(domain)) return invalid("INVALID_DOMAIN", `domain "${clip(domain)}" is not a configured domain (configured: ${o.domains.join(", ")}, or "${GLOBAL_DOMAIN}")`);

  const stepText = q.get("step");
  const step = stepText === null ? o.bucketMs : /^\d{1,12}$/.test(stepText) ? Number(stepText) : parseDuration(stepText);
  if (step === null || step <= 0 || step % o.bucketMs !== 0) {
    return invalid("INVALID_STEP", `step "${clip(stepText ?? "")}" must be a multiple of the bucket (${o.bucketMs / 1000} s): ms or a duration like "5m", "1h"`);
  }

  const toText = q.get("to");
  const to = toText === null ? o.now : parseInstant(toText, o.now);
  if (to === null) return invalid("INVALID_TO", `to "${clip(toText!)}" is neither ms since the epoch, an ISO 8601 time, nor a duration ago like "1h"`);
  const fromText = q.get("from");
  const from = fromText === null ? to - DEFAULT_SPAN : parseInstant(fromText, o.now);
  if (from === null) return invalid("INVALID_FROM", `from "${clip(fromText!)}" is neither ms since the epoch, an ISO 8601 time, nor a duration ago like "24h"`);
  if (from >= to) return invalid("INVALID_RANGE", "from must be before to");
  const points = Math.ceil(to / step) - Math.floor(from / step);
  if (points > MAX_POINTS) return invalid("INVALID_RANGE", `from..to at this step is ${points} points; at most ${MAX_POINTS}: use a larger step or a shorter range`);

  const metricsText = q.get("metrics");
  const metrics = metricsText === null ? DEFAULT_METRICS : metricsText.split(",").map((m) => m.trim()).filter(Boolean);
  const unknown = metrics.filter((m) => !QUERY_METRICS.includes(m as TrafficQueryMetric));
  if (unknown.length || metrics.length === 0) return invalid("INVALID_METRICS", `metrics ${unknown.length ? `"${clip(unknown.join(","))}" are` : "is"} not in: ${QUERY_METRICS.join(", ")}`);
  return ok({ domain, from, to, step, metrics: [...new Set(metrics)] as TrafficQueryMetric[] });
}

export const traffic: Handler = async (req, d) => {
  const query = parseTrafficQuery(req.query, { domains: Object.keys(d.config.domains), bucketMs: d.config.baselines.bucket, now: Date.now() });
  if (!query.ok) return fromFailure(query);
  const series = await configuredTraffic(d.config, d.redis, d.keys, d.log).read(query.value);
  return json(200, { ...series, metrics: query.value.metrics });
};

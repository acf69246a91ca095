/**
 * What route handlers get: the parsed request (path params, query, JSON body, actor, whether
 * it carried the admin token) and
 * the services they may use. Built once by http-server.ts; handlers hold no state.
 */
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Keyspace } from "../redis/keyspace.js";
import type { Logger } from "../observability/log.js";
import type { Metrics } from "../observability/metrics.js";
import type { MessageRecords } from "../store/message-records.js";
import type { MessageStore } from "../store/message-store.js";
import type { SpoolCapacity } from "../store/spool-capacity.js";
import type { DeliveryQueues } from "../../queues/delivery-queue.js";
import type { MessageQuery } from "../admin/message-query.js";
import type { MessageActions } from "../admin/message-actions.js";
import type { DomainActions } from "../admin/domain-actions.js";
import type { Actor } from "../admin/outcome.js";
import type { RateSampler } from "./rate-sampler.js";
import type { ContinuityEvents } from "../continuity/continuity-event.js";

export interface ApiDeps {
  config: Config;
  redis: Redis;
  keys: Keyspace;
  queues: DeliveryQueues;
  records: MessageRecords;
  store: MessageStore;
  query: MessageQuery;
  actions: MessageActions;
  domains: DomainActions;
  rates: RateSampler;
  capacity: SpoolCapacity;
  metrics: Metrics;
  log: Logger;
  /** The alert queue (continuity alerts); absent where no alert can be queued. */
  alerts?: { sendTestAlert(): Promise<{ id: string; destinations: number }>; readonly destinations: number };
  /** The continuity event store, when wired (drills are recorded there too). */
  events?: ContinuityEvents;
}

export interface ApiRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  actor: Actor;
  /** The request carried the admin bearer token (always true on routes that need it). */
  authenticated: boolean;
}

export type Handler = (req: ApiRequest, deps: ApiDeps) => Promise<import("./reply.js").Reply>;

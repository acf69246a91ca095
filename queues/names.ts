/**
 * The one source of truth for queue names and Redis key names.
 * BullMQ's prefix is our prefix in braces, so all BullMQ keys share one Cluster hash slot
 * (its Lua scripts need that); each message's own keys share the hash tag {<queue id>}, so
 * messages spread over a Cluster and one message's keys can change in one MULTI.
 */
export const bullPrefix = (prefix: string) => `{${prefix}}`;

/** One delivery queue per domain, so that one dead primary pauses only its own mail. */
export const deliveryQueueName = (domain: string) => `delivery-${domain}`;

/** Delivery status notifications (bounces, delay warnings) to senders. */
export const DSN_QUEUE = "dsn";

/** The id shared by a message's per-domain copies (`<id>`, `<id>.2`, `<id>.3`, ...). */
export const baseId = (id: string) => id.replace(/\.\d+$/, "");

export const keys = {
  raw: (prefix: string, id: string) => `${prefix}:msg:{${id}}:raw`,
  rawPart: (prefix: string, id: string) => `${prefix}:msg:{${id}}:part`,
  /** BullMQ's hash of one delivery job (its key layout: `<bull prefix>:<queue>:<job id>`). */
  deliveryJob: (prefix: string, domain: string, id: string) => `${bullPrefix(prefix)}:${deliveryQueueName(domain)}:${id}`,
  /** A message's recipients waiting to be named in one DSN of `kind` (hash: facts, collector; list: recipients). */
  dsnPending: (prefix: string, base: string, kind: string) => `${prefix}:dsn:{${base}}:${kind}`,
  dsnPendingRcpts: (prefix: string, base: string, kind: string) => `${prefix}:dsn:{${base}}:${kind}:rcpts`,
  primary: (prefix: string, domain: string) => `${prefix}:primary:${domain}`,
  probeChannel: (prefix: string) => `${prefix}:probe`,
  /** A counter written before each WAIT, so that the WAIT covers every earlier write (src/redis/replica-ack.ts). */
  replicaAck: (prefix: string) => `${prefix}:replica-ack`,
  /** The spool's format version (src/store/store-format.ts). */
  format: (prefix: string) => `${prefix}:format`,
};

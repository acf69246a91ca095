/**
 * What every webmail handler gets: the shared parts (deps) built once in Webmail, and the
 * per-request context (parsed URL, client IP, TLS or not, cookies, and — when logged in —
 * the session and the viewer shown in the page frame).
 */
import type http from "node:http";
import type { Redis } from "ioredis";
import type { Keyspace } from "../../redis/keyspace.js";
import type { Config } from "../../config/schema.js";
import type { Logger } from "../../observability/log.js";
import type { LoginLimiter } from "../login-limiter.js";
import type { LoginSlots } from "../login-slots.js";
import type { Mailbox } from "../mailbox.js";
import type { MessageLoader } from "../message-loader.js";
import type { SummaryCache } from "../message-summary.js";
import type { Session, Sessions } from "../sessions.js";
import type { UserDirectory } from "../user-directory.js";
import type { Viewer } from "../pages/layout.js";
import type { OutboundSubmitter } from "../../outbound/submit.js";
import type { RequestFacts } from "../request-info.js";

export const SESSION_COOKIE = "mxspool_session";

export interface Deps {
  config: Config;
  redis: Redis;
  keys: Keyspace;
  users: UserDirectory;
  sessions: Sessions;
  limiter: LoginLimiter;
  slots: LoginSlots;
  mailbox: Mailbox;
  summaries: SummaryCache;
  loader: MessageLoader;
  log: Logger;
  /** Absent: sending is off (no outbound configured); compose and Sent answer 404. */
  submitter?: OutboundSubmitter;
  /** Compose uploads read at once (per IP and in total): each holds its body in memory. */
  uploads: LoginSlots;
}

export interface Ctx extends RequestFacts {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  session?: Session & { token: string };
  viewer?: Viewer;
}

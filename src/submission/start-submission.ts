/**
 * The smtp role's submission part, put together: nothing when neither `submission.listen`
 * nor `submission.implicitTls` is set; else the outbound submitter (src/outbound-wiring.ts;
 * with outbound.enabled false it refuses every message, 550 5.7.1), AUTH against the webmail's
 * users file with the webmail's lock-out (its counters in Redis are shared: a process-local
 * LoginSlots caps hashing here as in the webmail), the certificate, and the server (not yet
 * listening: the caller listens, so a taken address fails the start naming the key).
 */
import fs from "node:fs";
import type { Config } from "../config/schema.js";
import { LoginLimiter } from "../webmail/login-limiter.js";
import { LoginSlots } from "../webmail/login-slots.js";
import { UserDirectory } from "../webmail/user-directory.js";
import { usersFilePath } from "../webmail/accounts.js";
import { StartFailure } from "../start-failure.js";
import type { ConnectionOptions } from "bullmq";
import type { Redis } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";
import type { Logger } from "../observability/log.js";
import type { ContentFilter } from "../filters/content-filter.js";
import { createOutbound, type OutboundParts } from "../outbound-wiring.js";
import { SubmissionAuth } from "./submission-auth.js";
import { SubmissionServer } from "./submission-server.js";

export function startSubmission(config: Config, parts: { redis: Redis; keys: Keyspace; connection: ConnectionOptions; log: Logger; filter?: ContentFilter }): { server: SubmissionServer; door: OutboundParts } | undefined {
  if (!SubmissionServer.enabled(config)) return undefined;
  const t = config.submission.tls!;
  let tls: { cert: Buffer; key: Buffer };
  try {
    tls = { cert: fs.readFileSync(t.cert), key: fs.readFileSync(t.key) };
  } catch (err) {
    throw new StartFailure(`submission.tls: cannot read the certificate or key (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { key: "submission.tls" });
  }
  const w = config.webmail.login;
  const auth = new SubmissionAuth(new UserDirectory(usersFilePath(config), parts.log), {
    slots: new LoginSlots(w.maxConcurrentPerIp, w.maxConcurrent), limiter: new LoginLimiter(parts.redis, parts.keys, w),
  }, parts.log);
  const door = createOutbound(config, parts.redis, parts.keys, parts.connection, parts.log, parts.filter);
  return { server: new SubmissionServer(config, { auth, submitter: door.submitter, tls }, parts.log), door };
}

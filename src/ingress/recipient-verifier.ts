/**
 * RCPT verification for domains with `recipients: { verify: true }`.
 * Primary up: the cache answers if it can, otherwise a callout asks the primary and the
 * answer is cached. Primary down (or the callout gets no answer): known-good recipients are
 * accepted, known-bad get 550 5.1.1, unknown ones get the domain's `whenUnknown` choice
 * (accept, or 450 4.2.0 so the sender retries later). Never accept-then-bounce.
 */
import type { Redis } from "ioredis";
import type { Config } from "../config/schema.js";
import type { Logger } from "../observability/log.js";
import type { Keyspace } from "../redis/keyspace.js";
import type { PrimaryEndpoints } from "../transport/primary-endpoints.js";
import { rcptCallout } from "./rcpt-callout.js";
import type { RecipientCache } from "../store/recipient-cache.js";
import { isVerify, type VerifyConfig } from "../../policies/recipients.js";
import { reply, type SmtpReply } from "../mail/reply.js";
import { recipientFact } from "../../policies/primary-reply.js";



const unknownUser = (address: string) => reply(550, "5.1.1", `<${address}>: Recipient address rejected: user unknown`, "unknown-recipient");

export class RecipientVerifier {
  constructor(private readonly config: Config, private readonly redis: Redis, private readonly keys: Keyspace, private readonly cache: RecipientCache,
              private readonly endpoints: PrimaryEndpoints, private readonly log: Logger) {}

  /** null = accept; otherwise the reply that refuses the recipient. */
  async check(address: string, domain: string): Promise<SmtpReply | null> {
    const v = this.config.domains[domain].recipients as VerifyConfig;
    const known = await this.cache.get(domain, address);
    if (known === "ok") return null;
    if (known === "bad") return unknownUser(address);
    const up = (await this.redis.hget(this.keys.primary(domain), "state")) === "up";
    if (up) {
      for (const ep of await this.endpoints.resolve(domain)) {
        const r = await rcptCallout(ep.host, ep.port, this.config.hostname, address, v.calloutTimeout);
        if (r.code === null) continue;
        this.log.info({ event: "RCPT_CALLOUT", domain, rcpt: address, reply: r.text }, "recipient verified with the primary");
        if (r.code >= 200 && r.code < 300) { await this.cache.set(domain, address, "ok", v.positiveTtl); return null; }
        if (r.code >= 500) {
          if (recipientFact(r.code) === "bad") await this.cache.set(domain, address, "bad", v.negativeTtl);
          return unknownUser(address);
        }
        break; // 4xx: the primary cannot say now; treat as unknown
      }
    }
    if (v.whenUnknown === "accept") return null;
    return reply(450, "4.2.0", `<${address}>: Recipient address rejected: unverified address, try again later`, "unverified-recipient");
  }
}

/**
 * AUTH PLAIN/LOGIN of SMTP submission against the webmail accounts, through the webmail's own
 * password check (src/webmail/handlers/password-check.ts): the same users file, the same
 * hashing slots and the same lock-out counters in Redis, so a password guessed over SMTP
 * locks the account for the webmail too, and the other way round. Answers are SMTP replies:
 * 235 via smtp-server on success, 535 5.7.8 for a wrong address or password (one answer for
 * both), 454 4.7.0 while locked out or while too many checks are under way (try later).
 * Never logs a password; logs what was typed as the user only when it is an address.
 */
import type { Logger } from "../observability/log.js";
import { reply, type SmtpReply } from "../mail/reply.js";
import { normalizeAddress } from "../webmail/address.js";
import { checkPassword, type PasswordGate } from "../webmail/handlers/password-check.js";
import type { UserDirectory } from "../webmail/user-directory.js";

export type AuthOutcome = { ok: true; user: string } | { ok: false; reply: SmtpReply };

export class SubmissionAuth {
  constructor(private readonly users: UserDirectory, private readonly gate: PasswordGate, private readonly log: Logger) {}

  async check(username: string, password: string, ip: string): Promise<AuthOutcome> {
    const typed = username.trim().slice(0, 254);
    const address = normalizeAddress(typed);
    const logged = address ?? "(not an address)";
    const user = address ? this.users.get(address) : undefined;
    const c = await checkPassword(this.gate, ip, address ?? typed.toLowerCase(), password.slice(0, 1024), user?.hash);
    if (c.outcome === "busy" || c.outcome === "locked") {
      this.log.warn({ event: "SUBMISSION_AUTH_LOCKED", address: logged, ip, scope: c.scope }, "submission AUTH refused: locked out or too many checks");
      return { ok: false, reply: reply(454, "4.7.0", "Too many failed attempts or checks under way; try again later", "auth-locked") };
    }
    if (c.outcome === "wrong" || !user) {
      const locked = c.outcome === "wrong" ? { lockedAccount: c.lockedAccount, lockedIp: c.lockedIp } : {};
      this.log.warn({ event: "SUBMISSION_AUTH_FAILED", address: logged, ip, ...locked }, "submission AUTH failed");
      return { ok: false, reply: reply(535, "5.7.8", "Authentication credentials invalid", "auth-failed") };
    }
    if (user.mustChangePassword) {
      this.log.warn({ event: "SUBMISSION_AUTH_FAILED", address: user.address, ip }, "submission AUTH with a one-time password");
      return { ok: false, reply: reply(535, "5.7.8", "Change your one-time password in the webmail first", "auth-one-time") };
    }
    this.log.info({ event: "SUBMISSION_AUTH", address: user.address, ip }, "submission AUTH");
    return { ok: true, user: user.address };
  }
}

/**
 * The webmail's view of the users file: kept in memory and re-read whenever the file's
 * mtime, size or inode changes (one stat per look-up), so `mxspool user …` takes effect at
 * once, without a restart. A file that cannot be read or parsed keeps the last good list and
 * is logged (WEBMAIL_USERS_INVALID).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import type { Logger } from "../observability/log.js";
import { UsersFile, type UserEntry } from "./users-file.js";

export class UserDirectory {
  private users = new Map<string, UserEntry>();
  private stamp = "";
  readonly file: UsersFile;

  constructor(path: string, private readonly log: Logger) { this.file = new UsersFile(path); }

  get(address: string): UserEntry | undefined {
    this.refresh();
    return this.users.get(address);
  }

  /** A fingerprint of the account's current password: sessions die when it changes. */
  static credentialStamp(u: UserEntry): string {
    return crypto.createHash("sha256").update(u.hash).digest("base64url").slice(0, 22);
  }

  /** Re-read on the next look-up, even if the file looks unchanged (this process just wrote it). */
  invalidate(): void { this.stamp = ""; }

  private refresh(): void {
    let stamp = "missing";
    try {
      const st = fs.statSync(this.file.file);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch { /* missing: nobody can log in */ }
    if (stamp === this.stamp) return;
    const res = this.file.read();
    this.stamp = stamp; // a bad file is reported once per change, not once per request
    if (!res.ok) {
      this.log.error({ event: "WEBMAIL_USERS_INVALID", file: this.file.file, problem: res.problem }, "cannot read the webmail users file; keeping the last good one");
      return;
    }
    for (const p of res.problems) this.log.warn({ event: "WEBMAIL_USERS_INVALID", file: this.file.file, problem: p }, "webmail users file: line ignored");
    this.users = res.users;
    this.log.info({ event: "WEBMAIL_USERS_LOADED", file: this.file.file, users: res.users.size }, "webmail users loaded");
  }
}

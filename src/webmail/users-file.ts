/**
 * The webmail users file: JSON lines, one account per line —
 *   {"address":"alice@example.com","hash":"scrypt$15$8$1$…","mustChangePassword":false,"createdAt":"…","updatedAt":"…"}
 * Blank lines and lines starting with "#" are ignored. Written atomically (temp file, fsync,
 * rename; mode 0600) under a lock file, so `mxspool user`, the admin API and the webmail's
 * own password changes never lose each other's writes. Holds hashes only, never passwords.
 * Errors are values: read() and update() return { ok: false, problem } instead of throwing.
 */
import fs from "node:fs";
import path from "node:path";
import { normalizeAddress } from "./address.js";

export interface UserEntry {
  address: string;
  hash: string;
  /** Set for a one-time password: the next login must choose a new password first. */
  mustChangePassword: boolean;
  createdAt: string;
  updatedAt: string;
}

export type Users = Map<string, UserEntry>;
export type ReadResult = { ok: true; users: Users; problems: string[] } | { ok: false; problem: string };
export type UpdateResult<T> = { ok: true; value: T } | { ok: false; problem: string };

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 5_000;

export function parseUsers(text: string): { users: Users; problems: string[] } {
  const users: Users = new Map();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith("#")) return;
    let v: Partial<UserEntry>;
    try { v = JSON.parse(t); } catch { problems.push(`line ${i + 1}: not JSON`); return; }
    const address = normalizeAddress(v.address);
    if (!address || typeof v.hash !== "string" || !v.hash.startsWith("scrypt$")) { problems.push(`line ${i + 1}: needs "address" and a scrypt "hash"`); return; }
    if (users.has(address)) problems.push(`line ${i + 1}: ${address} appears again (the later line wins)`);
    users.set(address, {
      address, hash: v.hash, mustChangePassword: v.mustChangePassword === true,
      createdAt: String(v.createdAt ?? ""), updatedAt: String(v.updatedAt ?? ""),
    });
  });
  return { users, problems };
}

export function serializeUsers(users: Users): string {
  const lines = [...users.values()].sort((a, b) => a.address.localeCompare(b.address)).map((u) => JSON.stringify({
    address: u.address, hash: u.hash, mustChangePassword: u.mustChangePassword, createdAt: u.createdAt, updatedAt: u.updatedAt,
  }));
  return "# mxspool webmail users: managed with `mxspool user add|rm|passwd|ls`\n" + lines.map((l) => l + "\n").join("");
}

export class UsersFile {
  constructor(readonly file: string) {}

  /** A missing file is an empty list of users. */
  read(): ReadResult {
    let text: string;
    try { text = fs.readFileSync(this.file, "utf8"); } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, users: new Map(), problems: [] };
      return { ok: false, problem: `cannot read ${this.file}: ${(err as Error).message}` };
    }
    return { ok: true, ...parseUsers(text) };
  }

  /**
   * Reads the users under the lock, lets `change` edit the map (or refuse with a problem), and
   * writes the result atomically. `change` returning { ok: false } writes nothing.
   */
  async update<T>(change: (users: Users) => UpdateResult<T> | Promise<UpdateResult<T>>): Promise<UpdateResult<T>> {
    const lock = await this.lock();
    if (!lock.ok) return lock;
    try {
      const cur = this.read();
      if (!cur.ok) return cur;
      const res = await change(cur.users);
      if (!res.ok) return res;
      const tmp = `${this.file}.${process.pid}.tmp`;
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const fd = fs.openSync(tmp, "w", 0o600);
      try { fs.writeFileSync(fd, serializeUsers(cur.users)); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
      fs.renameSync(tmp, this.file);
      return res;
    } catch (err) {
      return { ok: false, problem: `cannot write ${this.file}: ${(err as Error).message}` };
    } finally {
      lock.release();
    }
  }

  private async lock(): Promise<{ ok: true; release: () => void } | { ok: false; problem: string }> {
    const lockFile = `${this.file}.lock`;
    const end = Date.now() + LOCK_WAIT_MS;
    try { fs.mkdirSync(path.dirname(this.file), { recursive: true }); } catch (err) { return { ok: false, problem: (err as Error).message }; }
    for (;;) {
      try {
        fs.writeFileSync(lockFile, String(process.pid), { flag: "wx", mode: 0o600 });
        return { ok: true, release: () => { try { fs.unlinkSync(lockFile); } catch { /* gone already */ } } };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") return { ok: false, problem: `cannot lock ${this.file}: ${(err as Error).message}` };
        try { if (Date.now() - fs.statSync(lockFile).mtimeMs > LOCK_STALE_MS) fs.unlinkSync(lockFile); } catch { /* raced: retry */ }
        if (Date.now() > end) return { ok: false, problem: `${lockFile} is held by another process` };
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

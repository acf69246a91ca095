/**
 * The admin token for commands run on the box itself, as Postfix's `postqueue` relies on
 * file permissions instead of a password. When the config names no http.adminToken, the
 * service keeps one in `<dataDir>/admin.token` (mode 0600, owned by the user it runs as);
 * `mxspool status` and `mxspool queue` read it from there, so root and the service user need
 * no token ceremony and nobody else can read it. Never prints the token.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export const localTokenPath = (dataDir: string) => path.join(dataDir, "admin.token");

/** A new random token: 32 bytes, base64url (43 characters). */
export const newToken = () => randomBytes(32).toString("base64url");

/** The service side: the token in dataDir, made (0600) when there is none yet. */
export function ensureLocalToken(dataDir: string): string {
  const file = localTokenPath(dataDir);
  const known = readTokenFile(file);
  if (known) {
    fs.chmodSync(file, 0o600); // a copied or restored file must not stay readable by others
    return known;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const token = newToken();
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, token + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
  return token;
}

/** The token in `file`, or undefined when the file does not exist; throws on other errors (EACCES). */
export function readTokenFile(file: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const token = text.trim();
  return token.length >= 16 ? token : undefined;
}

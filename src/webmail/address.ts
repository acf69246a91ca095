/**
 * Webmail account names: an e-mail address, compared case-insensitively (the whole address is
 * lower-cased, as the per-recipient index is). Returns null for anything that is not a plain
 * address; never throws.
 */
const ADDRESS = /^[^\s@"<>()\[\],;:\\]{1,64}@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function normalizeAddress(text: unknown): string | null {
  if (typeof text !== "string") return null;
  const a = text.trim().toLowerCase();
  if (a.length > 254 || !ADDRESS.test(a)) return null;
  return a;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1);
}

/** True when `address` is one of `rcpts` (the envelope recipients of a record), ignoring case. */
export function isRecipient(rcpts: readonly string[], address: string): boolean {
  const a = address.toLowerCase();
  return rcpts.some((r) => r.toLowerCase() === a);
}

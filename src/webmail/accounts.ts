/**
 * Account operations shared by `mxspool user`, the admin API and the webmail itself: add,
 * remove, set a password (optionally a one-time one that must be changed at the next login),
 * list. An address must belong to one of the configured domains (the webmail only holds mail
 * for those). Errors are values with a stable code; passwords are hashed here and never kept.
 */
import path from "node:path";
import type { Config } from "../config/schema.js";
import { domainOf, normalizeAddress } from "./address.js";
import { generatePassword, hashPassword } from "./password-hash.js";
import type { UpdateResult, UserEntry, Users, UsersFile } from "./users-file.js";

export type AccountError = { ok: false; code: "INVALID_ADDRESS" | "UNKNOWN_DOMAIN" | "USER_EXISTS" | "NO_SUCH_USER" | "WEAK_PASSWORD" | "USERS_FILE"; message: string };
export type AccountResult<T> = { ok: true; value: T } | AccountError;

/** Where the users file is: `webmail.users`, relative to dataDir. */
export function usersFilePath(config: Config): string {
  return path.resolve(config.dataDir, config.webmail.users);
}

/** null when acceptable, else why not (said to the user). */
export function passwordProblem(password: string, minLength: number): string | null {
  if ([...password].length < minLength) return `The password must have at least ${minLength} characters.`;
  if (password.length > 1024) return "The password is too long (at most 1024 characters).";
  if (/^\s|\s$/.test(password)) return "The password must not start or end with a space.";
  return null;
}

function checkAddress(config: Config, text: string): AccountResult<string> {
  const address = normalizeAddress(text);
  if (!address) return { ok: false, code: "INVALID_ADDRESS", message: `not an e-mail address: ${JSON.stringify(text)}` };
  if (!Object.keys(config.domains).includes(domainOf(address))) {
    return { ok: false, code: "UNKNOWN_DOMAIN", message: `${domainOf(address)} is not one of the configured domains (${Object.keys(config.domains).join(", ")})` };
  }
  return { ok: true, value: address };
}

async function write<T>(file: UsersFile, change: (users: Users) => AccountResult<T>): Promise<AccountResult<T>> {
  let refused: AccountError | undefined;
  const res: UpdateResult<T> = await file.update((users) => {
    const r = change(users);
    if (r.ok) return r;
    refused = r;
    return { ok: false, problem: r.message };
  });
  if (refused) return refused;
  return res.ok ? res : { ok: false, code: "USERS_FILE", message: res.problem };
}

export async function addUser(file: UsersFile, config: Config, addressText: string, password: string, opts: { mustChangePassword?: boolean } = {}): Promise<AccountResult<UserEntry>> {
  const a = checkAddress(config, addressText);
  if (!a.ok) return a;
  const weak = passwordProblem(password, config.webmail.minPasswordLength);
  if (weak) return { ok: false, code: "WEAK_PASSWORD", message: weak };
  const hash = await hashPassword(password);
  const now = new Date().toISOString();
  return write(file, (users) => {
    if (users.has(a.value)) return { ok: false, code: "USER_EXISTS", message: `${a.value} exists already` };
    const u: UserEntry = { address: a.value, hash, mustChangePassword: opts.mustChangePassword === true, createdAt: now, updatedAt: now };
    users.set(a.value, u);
    return { ok: true, value: u };
  });
}

export async function setPassword(file: UsersFile, config: Config, addressText: string, password: string, opts: { mustChangePassword?: boolean } = {}): Promise<AccountResult<UserEntry>> {
  const address = normalizeAddress(addressText);
  if (!address) return { ok: false, code: "INVALID_ADDRESS", message: `not an e-mail address: ${JSON.stringify(addressText)}` };
  const weak = passwordProblem(password, config.webmail.minPasswordLength);
  if (weak) return { ok: false, code: "WEAK_PASSWORD", message: weak };
  const hash = await hashPassword(password);
  return write(file, (users) => {
    const cur = users.get(address);
    if (!cur) return { ok: false, code: "NO_SUCH_USER", message: `no user ${address}` };
    const u: UserEntry = { ...cur, hash, mustChangePassword: opts.mustChangePassword === true, updatedAt: new Date().toISOString() };
    users.set(address, u);
    return { ok: true, value: u };
  });
}

export async function removeUser(file: UsersFile, addressText: string): Promise<AccountResult<string>> {
  const address = normalizeAddress(addressText);
  if (!address) return { ok: false, code: "INVALID_ADDRESS", message: `not an e-mail address: ${JSON.stringify(addressText)}` };
  return write(file, (users) => (users.delete(address) ? { ok: true, value: address } : { ok: false, code: "NO_SUCH_USER", message: `no user ${address}` }));
}

/**
 * What the admin API's "create a webmail user" calls: a new account with a generated
 * one-time password that must be changed at first login. With `reset`, an existing account
 * gets a new one-time password instead of USER_EXISTS.
 */
export async function createUserWithOneTimePassword(file: UsersFile, config: Config, addressText: string, opts: { reset?: boolean } = {}): Promise<AccountResult<{ address: string; oneTimePassword: string; created: boolean }>> {
  const oneTimePassword = generatePassword();
  const added = await addUser(file, config, addressText, oneTimePassword, { mustChangePassword: true });
  if (added.ok) return { ok: true, value: { address: added.value.address, oneTimePassword, created: true } };
  if (added.code !== "USER_EXISTS" || !opts.reset) return added;
  const reset = await setPassword(file, config, addressText, oneTimePassword, { mustChangePassword: true });
  return reset.ok ? { ok: true, value: { address: reset.value.address, oneTimePassword, created: false } } : reset;
}

/**
 * For the webmail tests: a real stack (redis-server, the mxspool CLI with every role, a
 * RecordingPrimary that can be up or down), webmail users written with the same account code
 * `mxspool user` uses, messages composed with nodemailer and sent over real SMTP, and a small
 * cookie-keeping HTTP client that behaves like a browser submitting forms (Origin header,
 * CSRF tokens read from the page).
 */
import nodemailer from "nodemailer";
import MailComposer from "nodemailer/lib/mail-composer";
import path from "node:path";
import { loadConfigFile } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { addUser, usersFilePath } from "../../src/webmail/accounts.js";
import { UsersFile } from "../../src/webmail/users-file.js";
import { MxspoolProcess } from "./mxspool-process.js";
import { freePort } from "./net.js";
import { RecordingPrimary } from "./recording-primary.js";
import { startRedis, type TestRedis } from "./redis-server.js";

export interface WebmailStack {
  redis: TestRedis;
  primary: RecordingPrimary;
  mx: MxspoolProcess;
  smtpPort: number;
  base: string;
  config: Config;
  usersFile: UsersFile;
  addUser(address: string, password: string, opts?: { mustChangePassword?: boolean }): Promise<void>;
  send(from: string, to: string[], raw: Buffer): Promise<string>;
  stop(): Promise<void>;
}

/** `exampleDomain`: more keys for example.test's domain entry (e.g. its DKIM key). */
export async function startWebmailStack(opts: { webmail?: Record<string, unknown>; roles?: string; config?: Record<string, unknown>; redis?: TestRedis; exampleDomain?: Record<string, unknown>; adminToken?: string } = {}): Promise<WebmailStack> {
  const redis = opts.redis ?? await startRedis({ persistence: false });
  const primary = new RecordingPrimary({ port: await freePort() });
  const smtpPort = await freePort();
  const httpPort = await freePort();
  const mx = new MxspoolProcess({
    hostname: "mx2.example.test",
    smtp: { listen: [`127.0.0.1:${smtpPort}`], processes: 1, reverseLookup: false },
    http: { listen: `127.0.0.1:${httpPort}`, ...(opts.adminToken ? { adminToken: opts.adminToken } : {}) },
    redis: { url: redis.url },
    domains: { "example.test": { primary: [`127.0.0.1:${primary.port}`], ...opts.exampleDomain }, "other.test": { primary: [`127.0.0.1:${primary.port}`] } },
    monitor: { interval: "1s", timeout: "1s" },
    delivery: { retry: { first: "1s", max: "2s" } },
    webmail: opts.webmail ?? {},
    ...opts.config,
  });
  const config = loadConfigFile(mx.configFile, {});
  const usersFile = new UsersFile(usersFilePath(config));
  await mx.start(opts.roles ? ["--roles", opts.roles] : []);
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port: smtpPort, secure: false, ignoreTLS: true, name: "client.test" });
  return {
    redis, primary, mx, smtpPort, base: `http://127.0.0.1:${httpPort}`, config, usersFile,
    async addUser(address, password, o = {}) {
      const r = await addUser(usersFile, config, address, password, o);
      if (!r.ok) throw new Error(r.message);
    },
    async send(from, to, raw) {
      const info = await transport.sendMail({ envelope: { from, to }, raw });
      return /queued as ([0-9A-Z]{20})/.exec(info.response)![1];
    },
    async stop() {
      transport.close();
      await mx.stop();
      await primary.stop();
      if (!opts.redis) await redis.stop();
      mx.cleanup();
    },
  };
}

export interface MailSpec {
  from: string;
  to: string[];
  subject: string;
  text?: string;
  html?: string;
  date?: Date;
  attachments?: { filename?: string; content: Buffer | string; contentType?: string; cid?: string }[];
}

/** The exact bytes of a message (CRLF lines, as SMTP carries them). */
export async function mail(m: MailSpec): Promise<Buffer> {
  const built = await new MailComposer({ ...m, date: m.date ?? new Date() }).compile().build();
  return Buffer.from(built.toString("latin1").replace(/\r?\n/g, "\r\n"), "latin1");
}

export const usersPath = (s: WebmailStack) => path.resolve(s.usersFile.file);

/** A cookie-keeping HTTP client that submits forms the way a browser does. */
export class WebClient {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string, readonly headers: Record<string, string> = {}) {}

  private remember(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(";");
      const i = pair.indexOf("=");
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || !value) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") } : {};
  }

  async get(p: string, headers: Record<string, string> = {}): Promise<Response> {
    const res = await fetch(this.base + p, { redirect: "manual", headers: { ...this.headers, ...this.cookieHeader(), ...headers } });
    this.remember(res);
    return res;
  }

  async post(p: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    const res = await fetch(this.base + p, {
      method: "POST", redirect: "manual", body: new URLSearchParams(form).toString(),
      headers: { origin: this.base, "content-type": "application/x-www-form-urlencoded", ...this.headers, ...this.cookieHeader(), ...headers },
    });
    this.remember(res);
    return res;
  }

  /** The CSRF token in the page at `p` (the login form's, or a logged-in page's). */
  async csrf(p = "/"): Promise<string> {
    const text = await (await this.get(p)).text();
    const m = /name="_csrf" value="([^"]+)"/.exec(text);
    if (!m) throw new Error(`no CSRF token in ${p}: ${text.slice(0, 300)}`);
    return m[1];
  }

  async login(address: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
    const token = await this.csrf("/login");
    return this.post("/login", { _csrf: token, address, password }, headers);
  }
}

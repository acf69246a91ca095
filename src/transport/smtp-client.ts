/**
 * The SMTP client of the drain, the DSN worker and the outbound relay: one connection, opened
 * and greeted once, then one transaction at a time. Like Postfix's smtp(8) it pipelines the
 * envelope when the server offers PIPELINING (RFC 2920): MAIL, every RCPT and DATA go in one
 * write, the body and its end marker in one more (a writev). It replaced nodemailer's
 * connection, which pipelines too, for its cost per message: the stored Buffer is stuffed in
 * place and written as it is, with no stream transform around it and no patch of nodemailer's
 * internals (README, "Benchmark": the mix's drain +5%, its CPU per message −5%).
 *
 * Replies are results, not exceptions: `transaction` returns every reply it got. It throws
 * (an SmtpError) only when the connection fails, saying how far the transaction got. The
 * server is a stranger for the DSN worker, so what it sends is bounded: a reply line of at
 * most MAX_LINE bytes, at most MAX_LINES lines per reply.
 */
import net from "node:net";
import tls from "node:tls";
import type { Readable } from "node:stream";
import { endMarker, stuffChunk } from "./dot-stuffing.js";

export interface Reply { code: number; /** every line as sent, joined with "\n" */ text: string }

export type SmtpError = Error & { code?: string; responseCode?: number; command?: string; response?: string };

export interface ClientOptions {
  host: string;
  port: number;
  /** Our name in EHLO. */
  name: string;
  connectTimeout: number;
  /** Longest wait for any one reply (and for the socket to take more bytes). */
  commandTimeout: number;
  /** may: STARTTLS when offered (any certificate); required: fail without it; implicit: TLS from the first byte; none: never. */
  tls: "may" | "required" | "implicit" | "none";
  auth?: { user: string; pass: string };
}

/** What one transaction got back; no `final` means no body was sent (MAIL or every RCPT refused, or DATA refused). */
export interface Transaction { mail: Reply; rcpts: Reply[]; data?: Reply; final?: Reply }

const MAX_LINE = 4096;
const MAX_LINES = 200;
// [^]: a reply's text may hold a bare CR or a line separator (U+2028), which `.` would not match
const REPLY_LINE = /^(\d{3})([ -]?)([^]*)$/;
/** A character that would end or break the command an address goes into. */
const UNSAFE_ADDRESS = /[\r\n<>]/;

const smtpError = (message: string, extra: Partial<SmtpError>): SmtpError => Object.assign(new Error(message), extra);

const isIp = (host: string) => net.isIP(host) !== 0;

export class SmtpClient {
  /** The EHLO keywords, upper case (empty after HELO). */
  private extensions = new Map<string, string>();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lines: string[] = [];
  private replies: Reply[] = [];
  private waiters: Array<{ resolve: (r: Reply) => void; reject: (e: SmtpError) => void }> = [];
  private failure?: SmtpError;
  /** Set while a transaction runs: the command whose reply is awaited. */
  private stage = "CONN";
  private onClosed = new Set<() => void>();
  /** How many replies may wait unread: those of the commands sent and not yet read (1 between commands: a 421 before a close). */
  private expected = 1;

  private constructor(private socket: net.Socket, private readonly opts: ClientOptions) {
    this.attach(socket);
  }

  /** Connects, takes the greeting, EHLO (HELO if refused), STARTTLS and AUTH as the options say. */
  static async connect(opts: ClientOptions): Promise<SmtpClient> {
    const servername = isIp(opts.host) ? undefined : opts.host;
    const socket = opts.tls === "implicit"
      ? tls.connect({ host: opts.host, port: opts.port, servername, rejectUnauthorized: false })
      : net.connect({ host: opts.host, port: opts.port });
    const client = new SmtpClient(socket, opts);
    socket.setTimeout(opts.connectTimeout);
    // the whole handshake has a deadline too: a server that trickles its greeting a byte at a
    // time keeps the socket's idle timer from ever firing
    const deadline = setTimeout(() => client.fail(smtpError(`no complete greeting and EHLO within ${handshakeMs(opts)} ms`, { code: "ETIMEDOUT" })), handshakeMs(opts));
    try {
      await client.until(socket, opts.tls === "implicit" ? "secureConnect" : "connect");
      await client.handshake();
    } catch (err) {
      client.close();
      throw err;
    } finally {
      clearTimeout(deadline);
    }
    client.socket.setTimeout(opts.commandTimeout); // the TLS socket after STARTTLS
    return client;
  }

  get closed(): boolean { return this.failure !== undefined; }

  /** Called once when the connection ends or fails, for whatever reason. */
  onClose(fn: () => void): void {
    if (this.failure) fn(); else this.onClosed.add(fn);
  }

  private attach(socket: net.Socket): void {
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("timeout", () => this.fail(smtpError(`no answer within ${socket.timeout} ms`, { code: "ETIMEDOUT" })));
    socket.on("error", (err: NodeJS.ErrnoException) => this.fail(smtpError(err.message, { code: err.code === "ECONNREFUSED" || err.code === "ECONNRESET" ? err.code : tlsOrSocket(err) })));
    socket.on("close", () => this.fail(smtpError("connection closed by the server", { code: "ECONNECTION" })));
  }

  private async handshake(): Promise<void> {
    this.stage = "CONN";
    const greeting = await this.reply();
    if (greeting.code !== 220) throw this.refused("CONN", greeting);
    await this.hello();
    const wantTls = this.opts.tls === "may" || this.opts.tls === "required";
    if (wantTls && this.extensions.has("STARTTLS")) {
      const answer = await this.command("STARTTLS");
      if (answer.code === 220) {
        await this.upgrade();
        await this.hello();
      } else if (this.opts.tls === "required") throw this.refused("STARTTLS", answer);
    } else if (this.opts.tls === "required") {
      throw smtpError("the server does not offer STARTTLS, and outbound.relay requires it", { code: "ETLS", command: "STARTTLS" });
    }
    if (this.opts.auth) await this.login(this.opts.auth);
  }

  private async hello(): Promise<void> {
    const ehlo = await this.command(`EHLO ${this.opts.name}`);
    this.extensions = new Map();
    if (ehlo.code === 250) {
      for (const line of ehlo.text.split("\n").slice(1)) {
        // "AUTH=PLAIN LOGIN" is an old form of "AUTH PLAIN LOGIN" some servers still send
        const [word, ...rest] = line.slice(4).trim().split(/[\s=]+/);
        if (word) this.extensions.set(word.toUpperCase(), rest.join(" ").toUpperCase());
      }
      return;
    }
    if (ehlo.code === 421) throw this.refused("EHLO", ehlo);
    const helo = await this.command(`HELO ${this.opts.name}`);
    if (helo.code !== 250) throw this.refused("HELO", helo);
  }

  private upgrade(): Promise<void> {
    // anything that came after the 220 came before TLS: whoever sent it, it is not the server
    // speaking inside TLS, and must not be read as its replies there (CVE-2011-0411's injection)
    if (this.replies.length || this.pending.length || this.lines.length) {
      this.fail(smtpError("the server sent more after its 220 to STARTTLS", { code: "ETLS" }));
      return Promise.reject(this.failure);
    }
    const plain = this.socket;
    plain.removeAllListeners("data").removeAllListeners("timeout").removeAllListeners("error").removeAllListeners("close");
    plain.setTimeout(0);
    const secure = tls.connect({ socket: plain, servername: isIp(this.opts.host) ? undefined : this.opts.host, rejectUnauthorized: false });
    this.socket = secure;
    this.attach(secure);
    secure.setTimeout(this.opts.connectTimeout);
    return this.until(secure, "secureConnect");
  }

  private async login(auth: { user: string; pass: string }): Promise<void> {
    const mechanisms = (this.extensions.get("AUTH") ?? "").split(" ");
    if (mechanisms.includes("PLAIN")) {
      const answer = await this.command(`AUTH PLAIN ${Buffer.from(`\0${auth.user}\0${auth.pass}`).toString("base64")}`, "AUTH PLAIN");
      if (answer.code !== 235) throw this.refused("AUTH PLAIN", answer, "EAUTH");
      return;
    }
    if (mechanisms.includes("LOGIN")) {
      for (const [line, expect] of [["AUTH LOGIN", 334], [Buffer.from(auth.user).toString("base64"), 334], [Buffer.from(auth.pass).toString("base64"), 235]] as const) {
        const answer = await this.command(line, "AUTH LOGIN");
        if (answer.code !== expect) throw this.refused("AUTH LOGIN", answer, "EAUTH");
      }
      return;
    }
    throw smtpError(`the server offers no AUTH mechanism mxspool speaks (PLAIN, LOGIN): "${this.extensions.get("AUTH") ?? "none"}"`, { code: "EAUTH", command: "AUTH" });
  }

  /**
   * One message: the envelope (pipelined when offered), then the body dot-stuffed with its end
   * marker if DATA got a go-ahead and a recipient was accepted. Resolves with every reply; rejects
   * (SmtpError, `command` = the stage it failed in) only when the connection fails.
   */
  async transaction(env: { from: string; rcpts: string[]; body8bit: boolean }, body: Buffer | Readable): Promise<Transaction> {
    const bad = [env.from, ...env.rcpts].find((a) => UNSAFE_ADDRESS.test(a));
    if (bad !== undefined) throw smtpError(`an address no SMTP command can carry: ${JSON.stringify(bad.slice(0, 200))}`, { code: "EENVELOPE", command: "ENVELOPE" });
    const params = (env.body8bit && this.extensions.has("8BITMIME") ? " BODY=8BITMIME" : "")
      + (this.extensions.has("SMTPUTF8") && [env.from, ...env.rcpts].some((a) => Buffer.byteLength(a) !== a.length) ? " SMTPUTF8" : "");
    const commands = [`MAIL FROM:<${env.from}>${params}`, ...env.rcpts.map((r) => `RCPT TO:<${r}>`), "DATA"];
    // a connection lost while it sat idle fails here, before any reply: the caller may retry on a new one
    // so does one that spoke out of turn (a 421 before closing): its next reply would be taken for MAIL's
    if (this.replies.length) this.fail(smtpError(`the server said "${this.replies[0]!.text.split("\n")[0]!.slice(0, 200)}" unasked`, { code: "EPROTOCOL" }));
    if (this.failure) throw smtpError(this.failure.message, { code: this.failure.code, command: "MAIL FROM" });
    this.expected = env.rcpts.length + 2;
    try {
      return await this.exchange(env, commands, body);
    } finally {
      this.expected = 1;
    }
  }

  private async exchange(env: { rcpts: string[] }, commands: string[], body: Buffer | Readable): Promise<Transaction> {
    const result: Transaction = { mail: undefined as unknown as Reply, rcpts: [] };
    if (this.extensions.has("PIPELINING")) {
      this.stage = "MAIL FROM";
      this.write(commands.join("\r\n") + "\r\n");
      result.mail = await this.reply();
      try {
        this.stage = "RCPT TO";
        for (let i = 0; i < env.rcpts.length; i++) result.rcpts.push(await this.reply());
        this.stage = "DATA";
        result.data = await this.reply();
      } catch (err) {
        // a refused MAIL FROM (421 and gone, say) is the answer for every recipient
        if (!isPositive(result.mail)) return result;
        throw err;
      }
    } else {
      result.mail = await this.command(commands[0]!, "MAIL FROM");
      if (!isPositive(result.mail)) return result;
      for (let i = 0; i < env.rcpts.length; i++) result.rcpts.push(await this.command(commands[i + 1]!, "RCPT TO"));
      if (!result.rcpts.some(isPositive)) return result;
      result.data = await this.command("DATA");
    }
    // 354 is the go-ahead; some servers say 250, which nodemailer took as one too
    if (result.data.code >= 400) return result;
    this.stage = "DATA_END";
    // a go-ahead though nothing was accepted (a server that does not refuse DATA): end an empty message
    if (!isPositive(result.mail) || !result.rcpts.some(isPositive)) this.write(".\r\n");
    else await this.writeBody(body);
    this.expected = 1;
    result.final = await this.reply();
    // a reply nobody asked for means the replies and the commands no longer line up
    if (this.replies.length) this.fail(smtpError("the server sent more replies than commands", { code: "EPROTOCOL" }));
    return result;
  }

  private async writeBody(body: Buffer | Readable): Promise<void> {
    if (Buffer.isBuffer(body)) {
      // the bytes and the marker in one writev: one trip through the TCP stack
      this.socket.cork();
      if (body.length) this.socket.write(stuffChunk(body, false));
      this.socket.write(endMarker(body.length ? body[body.length - 1]! : false));
      this.socket.uncork();
      return;
    }
    let last: number | false = false;
    // a connection that fails (or our deadline) while the stored bytes are awaited ends that wait too
    const abort = () => (body as Readable).destroy(this.failure);
    this.onClosed.add(abort);
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (!chunk.length) continue;
        if (this.failure) throw this.failure;
        const more = this.socket.write(stuffChunk(chunk, last));
        last = chunk[chunk.length - 1]!;
        if (!more) await this.until(this.socket, "drain");
      }
    } catch (err) {
      // the stored bytes could not be read to the end: never let the server take what we have
      // as the whole message — the connection goes, without the end marker
      const e = err as SmtpError;
      this.fail(e.code ? e : smtpError(`reading the message failed: ${e.message}`, { code: "EMESSAGE" }));
      throw this.failure;
    } finally {
      this.onClosed.delete(abort);
    }
    this.write(endMarker(last));
  }

  /** Resolves at `socket`'s `event`, rejects with the failure if the connection fails first. */
  private until(socket: net.Socket, event: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const lost = () => reject(this.failure);
      socket.once(event, () => { this.onClosed.delete(lost); resolve(); });
      this.onClosed.add(lost);
    });
  }

  /** QUIT, then the connection ends (no wait for the reply's content). */
  quit(): void {
    if (this.failure) return;
    this.socket.end("QUIT\r\n");
    this.socket.setTimeout(this.opts.commandTimeout);
  }

  /** Drops the connection at once. */
  close(): void {
    if (!this.failure) this.fail(smtpError("connection closed", { code: "ECONNECTION" }));
  }

  private write(line: string | Buffer): void {
    if (this.failure) return;
    this.socket.write(line);
  }

  private command(line: string, stage = line.split(" ")[0]!): Promise<Reply> {
    this.stage = stage;
    this.write(line + "\r\n");
    return this.reply();
  }

  private reply(): Promise<Reply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private refused(command: string, reply: Reply, code = "EPROTOCOL"): SmtpError {
    return smtpError(reply.text.split("\n")[0]!, { code, responseCode: reply.code, command, response: reply.text });
  }

  private receive(chunk: Buffer): void {
    let from = 0;
    for (let lf = chunk.indexOf(0x0a); lf !== -1; lf = chunk.indexOf(0x0a, from)) {
      this.pending.push(chunk.subarray(from, lf));
      from = lf + 1;
      const line = Buffer.concat(this.pending).toString("utf8").replace(/\r$/, "");
      this.pending = [];
      this.pendingBytes = 0;
      if (!this.line(line)) return;
    }
    if (from < chunk.length) {
      this.pending.push(chunk.subarray(from));
      this.pendingBytes += chunk.length - from;
      if (this.pendingBytes > MAX_LINE) this.fail(smtpError(`a reply line longer than ${MAX_LINE} bytes`, { code: "EPROTOCOL", command: this.stage }));
    }
  }

  /** One reply line; false once the connection failed. */
  private line(line: string): boolean {
    const m = REPLY_LINE.exec(line);
    if (!m || line.length > MAX_LINE || (this.lines.length && !this.lines[0]!.startsWith(m[1]!))) {
      this.fail(smtpError(`not an SMTP reply: "${line.slice(0, 80)}"`, { code: "EPROTOCOL", command: this.stage }));
      return false;
    }
    this.lines.push(line);
    if (m[2] === "-") {
      if (this.lines.length > MAX_LINES) { this.fail(smtpError(`a reply of more than ${MAX_LINES} lines`, { code: "EPROTOCOL", command: this.stage })); return false; }
      return true;
    }
    const reply = { code: Number(m[1]), text: this.lines.join("\n") };
    this.lines = [];
    const w = this.waiters.shift();
    if (w) { w.resolve(reply); return true; }
    if (this.replies.length >= this.expected) {
      this.fail(smtpError(`the server sent more replies than commands ("${line.slice(0, 80)}")`, { code: "EPROTOCOL", command: this.stage }));
      return false;
    }
    this.replies.push(reply);
    return true;
  }

  /** Ends the connection with `err` as the failure every waiting and later call gets. */
  private fail(err: SmtpError): void {
    if (this.failure) return;
    err.command ??= this.stage;
    this.failure = err;
    this.socket.destroy();
    for (const w of this.waiters.splice(0)) w.reject(err);
    const closed = [...this.onClosed];
    this.onClosed.clear();
    for (const fn of closed) fn();
  }
}

/** A 2xx: the command was taken. */
export const isPositive = (r: Reply): boolean => r.code >= 200 && r.code < 300;

/** The greeting, EHLO, STARTTLS and AUTH together, at most. */
const handshakeMs = (o: ClientOptions) => o.connectTimeout * 2 + 1000;

function tlsOrSocket(err: NodeJS.ErrnoException): string {
  return /SSL|TLS|certificate|handshake/i.test(`${err.code ?? ""} ${err.message}`) ? "ETLS" : err.code === "ETIMEDOUT" || err.code === "EHOSTUNREACH" || err.code === "ENOTFOUND" ? err.code : "ESOCKET";
}

/**
 * CHUNKING / BDAT (RFC 3030) added to smtp-server, which has none. Postfix offers it and
 * Exchange (Online and Server) sends with it whenever it is offered.
 *
 * How: smtp-server's command parser (SMTPStream) gets a byte-count mode beside its DATA
 * mode: `BDAT <n>` hands exactly n raw bytes on (no dot-unstuffing, no `.` terminator; a
 * chunk may end inside a CRLF) and then goes back to reading commands, so pipelined BDAT
 * commands and their data in one TCP write work. All chunks of one transaction go into ONE
 * stream given to the same onData handler as DATA (src/smtp/server.ts), so the message
 * checks, filters, store and "250 only when durable" are the DATA path's, untouched.
 *
 * Replies: `250 2.0.0 <n> octets received` per chunk; at `BDAT <n> LAST` the onData
 * handler's own reply (250 queued as <id>, 552, 554, 451 ...). The bytes of a chunk are
 * always consumed, whatever the reply (RFC 3030: the size tells where the next command
 * starts): BDAT without MAIL/RCPT, or after a failed chunk, 503 5.5.1; a size that is
 * not a number, 501 5.5.4 (nothing consumed: the size is unknown). The chunk that takes
 * the total over the SIZE limit ends the transaction at once: its bytes are discarded, the
 * stored part removed, and it gets 552 5.3.4; later chunks (already pipelined) get 503.
 * RSET, HELO/EHLO or a closed connection in the middle discard the transaction. DATA or
 * RCPT after a BDAT in the same transaction: 503 5.5.1. No BINARYMIME (NUL bytes stay
 * refused by the message checks), so it is not advertised.
 *
 * Installed by src/smtp/smtp-server-patches.ts; must never write to the message stream
 * after it ended, nor answer a chunk before its last byte arrived.
 */
import { PassThrough } from "node:stream";
import type { Socket } from "node:net";
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";
import { SMTPStream } from "smtp-server/lib/smtp-stream.js";

type Done = (err?: Error | null) => void;
type MessageStream = PassThrough & { byteLength: number; sizeExceeded: boolean };
type Reply = { err?: (Error & { responseCode?: number }) | null; message?: string };

/** The byte-count mode of one parser: where the next `remaining` bytes go, and what follows. */
interface ByteMode { remaining: number; sink?: PassThrough; end: (rest: Buffer, done: Done) => void }

type Parser = { mxBytes?: ByteMode; _dataMode: boolean; _write(chunk: Buffer, enc: string, done: Done): void };

/** One BDAT transaction: the stream onData reads, the bytes so far, and onData's answer. */
interface BdatTxn { stream: MessageStream; bytes: number; reply?: Reply; replied: Promise<Reply> }

type Conn = {
  _server: { options: { size?: number }; onData(stream: unknown, session: unknown, cb: (err?: Error | null, message?: string) => void): void };
  _parser: Parser | false;
  _socket: Socket;
  _dataStream: unknown;
  _transactionCounter: number;
  _unrecognizedCommands: number;
  session: { envelope: { mailFrom: unknown; rcptTo: unknown[] } };
  send(code: number, data: unknown, context?: unknown): void;
  _resetSession(): void;
  mxBdat?: BdatTxn;
};

/** `_dataStream` while a chunk is read and dropped (smtp-server's close handler skips an ended stream). */
const DISCARDING = { writableEnded: true, destroyed: true };

const BDAT_SYNTAX = /^BDAT[ \t]+(\d{1,15})(?:[ \t]+(LAST))?[ \t]*$/i;

/** What the parser does with bytes while in byte-count mode (instead of DATA's unstuffing). */
function feedBytes(parser: Parser, chunk: Buffer, done: Done): void {
  const mode = parser.mxBytes!;
  const n = Math.min(mode.remaining, chunk.length);
  mode.remaining -= n;
  const rest = chunk.subarray(n);
  const next = () => {
    if (mode.remaining > 0) return done(); // the chunk goes on in the next socket read
    parser.mxBytes = undefined;
    parser._dataMode = false;
    mode.end(rest, done);
  };
  const sink = mode.sink;
  if (n > 0 && sink && sink.writable && !sink.write(chunk.subarray(0, n))) {
    const go = () => { sink.off("drain", go); sink.off("close", go); next(); };
    sink.on("drain", go);
    sink.on("close", go);
  } else next();
}

/** Puts the parser in byte-count mode for `size` bytes; `end` runs once they are all in. */
function readBytes(conn: Conn, size: number, sink: PassThrough | undefined, end: (done: () => void) => void): void {
  const parser = conn._parser as Parser;
  // seen as "in DATA" by smtp-server's idle timeout and by the command-timeout guard in
  // smtp-server-patches.ts: a long chunk is not a slow command line
  conn._dataStream = sink ?? DISCARDING;
  parser._dataMode = true;
  parser.mxBytes = {
    remaining: size, sink,
    end: (rest, done) => end(() => parser._write(rest, "buffer", done)),
  };
}

function openTxn(conn: Conn): BdatTxn {
  const stream = new PassThrough() as MessageStream;
  stream.byteLength = 0;
  stream.sizeExceeded = false;
  stream.on("error", () => undefined); // destroyed on RSET or close: the reader sees it, nobody else must
  let settle!: (r: Reply) => void;
  const txn: BdatTxn = { stream, bytes: 0, replied: new Promise<Reply>((r) => { settle = r; }) };
  conn._server.onData(stream, conn.session, (err, message) => {
    txn.reply = { err, message };
    settle(txn.reply);
  });
  conn.mxBdat = txn;
  return txn;
}

/** The transaction is over (answered, or abandoned): the session is ready for the next MAIL. */
function closeTxn(conn: Conn): void {
  conn.mxBdat = undefined;
  conn._dataStream = false;
  conn._transactionCounter++;
  conn._unrecognizedCommands = 0;
  conn._resetSession();
}

/** Drops an unfinished transaction: the onData reader fails and removes what it stored. */
function abandonTxn(conn: Conn, why: string): void {
  const txn = conn.mxBdat;
  if (!txn) return;
  conn.mxBdat = undefined;
  const s = txn.stream;
  if (!s.writableEnded && !s.destroyed) s.destroy(Object.assign(new Error(why), { code: "ECONNECTION" }));
}

function sendReply(conn: Conn, r: Reply): void {
  if (r.err) conn.send(r.err.responseCode || 451, r.err.message);
  else conn.send(250, r.message || "2.0.0 Ok");
}

/** Sends onData's answer once it has decided (the 250 once durable), and ends the transaction. */
function answerWhenDecided(conn: Conn, txn: BdatTxn, done: () => void): void {
  void txn.replied.then((r) => {
    if (conn.mxBdat !== txn) return done(); // the connection closed first
    sendReply(conn, r);
    closeTxn(conn);
    done();
  });
}

function handlerBdat(this: Conn, command: Buffer, callback: () => void): void {
  const m = BDAT_SYNTAX.exec(command.toString("latin1"));
  if (!m || !this._parser) {
    this.send(501, "5.5.4 Syntax: BDAT count [LAST]");
    return callback();
  }
  const size = Number(m[1]);
  const last = Boolean(m[2]);
  const env = this.session.envelope;
  const finish = (after: () => void) => (done: () => void) => { after(); done(); };
  const chunk = (sink: PassThrough | undefined, end: (done: () => void) => void) => {
    if (size === 0) return end(callback);
    readBytes(this, size, sink, end);
    callback();
  };

  if (!env.mailFrom || !env.rcptTo.length) {
    const text = env.mailFrom ? "5.5.1 Error: need RCPT command" : "5.5.1 Error: need MAIL command";
    return chunk(undefined, finish(() => { this._dataStream = false; this.send(503, text); }));
  }
  const txn = this.mxBdat ?? openTxn(this);
  const limit = Number(this._server.options.size) || 0;
  if (limit && txn.bytes + size > limit) {
    // over the limit: the stored part goes now, the chunk is read and discarded, then 552
    txn.stream.sizeExceeded = true;
    txn.stream.end();
    return chunk(undefined, (done) => answerWhenDecided(this, txn, done));
  }
  chunk(txn.stream, (done) => {
    if (this.mxBdat !== txn) return done();
    txn.bytes += size;
    txn.stream.byteLength = txn.bytes;
    if (txn.reply?.err) {
      // onData gave up before the end (a store error): this chunk carries its answer
      sendReply(this, txn.reply);
      closeTxn(this);
      return done();
    }
    if (!last) {
      this._dataStream = false;
      this.send(250, `2.0.0 ${size} octets received`);
      return done();
    }
    this._dataStream = txn.stream; // waiting for onData is not client idleness
    txn.stream.end();
    answerWhenDecided(this, txn, done);
  });
}

let installed = false;

/** Adds BDAT to smtp-server's connection and parser; called from installSmtpServerPatches. */
export function installBdat(): void {
  if (installed) return;
  installed = true;
  // the prototypes' private methods, replaced by wrappers that call the originals
  type Method = (this: never, ...a: never[]) => unknown;
  const proto = SMTPConnection.prototype as unknown as Record<string, Method>;
  const stream = SMTPStream.prototype as unknown as Record<string, Method>;
  const call = (f: Method, self: unknown, ...args: unknown[]) => (f as (...a: unknown[]) => unknown).apply(self, args);

  const feed = stream._feedDataStream;
  stream._feedDataStream = function (this: Parser, chunk: Buffer, done: Done) {
    return this.mxBytes ? feedBytes(this, chunk, done) : call(feed, this, chunk, done);
  };

  proto.handler_BDAT = handlerBdat as Method;

  const ehlo = proto.handler_EHLO;
  proto.handler_EHLO = function (this: Conn & { send: Conn["send"] }, ...args: unknown[]) {
    const send = this.send;
    // handler_EHLO answers synchronously: its one 250 gets CHUNKING appended
    this.send = (code, data, context) => send.call(this, code, code === 250 && Array.isArray(data) ? [...data, "CHUNKING"] : data, context);
    try { return call(ehlo, this, ...args); } finally { delete (this as Partial<Conn>).send; }
  };

  for (const name of ["handler_DATA", "handler_RCPT"]) {
    const orig = proto[name];
    proto[name] = function (this: Conn, command: unknown, callback: () => void) {
      if (!this.mxBdat) return call(orig, this, command, callback);
      this.send(503, `5.5.1 Error: ${name === "handler_DATA" ? "DATA" : "RCPT"} after BDAT in the same transaction`);
      callback();
    };
  }

  // RSET, HELO and EHLO reset the session: an unfinished BDAT transaction is discarded
  const reset = proto._resetSession;
  proto._resetSession = function (this: Conn, ...args: unknown[]) {
    abandonTxn(this, "BDAT transaction reset before its LAST chunk");
    return call(reset, this, ...args);
  };

  const onClose = proto._onClose;
  proto._onClose = function (this: Conn, ...args: unknown[]) {
    abandonTxn(this, "Connection closed before the last BDAT chunk");
    return call(onClose, this, ...args);
  };
}

/**
 * smtp-server finds the end of DATA ("\r\n.\r\n") and the dot-stuffed lines ("\n..") by
 * looking at every byte of the message in a JavaScript loop: ~3% of the one process's CPU
 * when it accepts the realistic mix (README, "Benchmark"). This replaces that loop, and only
 * it, with Buffer.indexOf of "\n." (memmem in C): the same positions are examined, in the same
 * order, with the same bounds, so every decision — end of data, escape dot, bytes held back
 * for the next chunk, the start-of-DATA checks that stop command smuggling — is the original's.
 * test/unit/smtp/fast-data-scan.test.ts runs both on random input split at random places and
 * asserts the same data and the same commands after it.
 */
import { SMTPStream } from "smtp-server/lib/smtp-stream.js";

const LF_DOT = Buffer.from("\n.");
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

type Done = (err?: Error | null) => void;
interface Parser {
  _dataStream: import("node:stream").PassThrough & { writable: boolean; destroyed: boolean };
  _lastBytes: Buffer | false;
  _atDataStart: boolean;
  _countDataBytes(len: number): void;
  _endDataMode(chunk: Buffer | false, remainder: Buffer, done: Done): void;
  _feedDataStream(chunk: Buffer, done: Done): void;
}

/** smtp-server 3.21's SMTPStream._feedDataStream with its per-byte scan replaced by indexOf. */
export function feedDataStream(this: Parser, chunk: Buffer, done: Done): void {
  const dataStream = this._dataStream;
  if (this._lastBytes && this._lastBytes.length) {
    chunk = Buffer.concat([this._lastBytes, chunk], this._lastBytes.length + chunk.length);
    this._lastBytes = false;
  }
  let len = chunk.length;
  // a message that is only the terminator (see the original: _atDataStart, not dataBytes)
  if (this._atDataStart && len >= 3 && chunk[0] === DOT && chunk[1] === CR && chunk[2] === LF) {
    this._endDataMode(false, chunk.subarray(3), done);
    return;
  }
  if (this._atDataStart && len >= 2 && chunk[0] === DOT && chunk[1] === DOT) {
    chunk = chunk.subarray(1);
    len--;
    this._atDataStart = false;
  }
  // every dot i that starts a line, 2 <= i < len - 2 (the original's loop bounds), in order
  for (let lf = chunk.indexOf(LF_DOT, 1); lf !== -1 && lf + 1 < len - 2; lf = chunk.indexOf(LF_DOT, lf + 1)) {
    const i = lf + 1;
    if (chunk[i - 2] === CR && chunk[i + 1] === CR && chunk[i + 2] === LF) {
      const buf = chunk.subarray(0, i);
      this._countDataBytes(buf.length);
      this._endDataMode(buf, chunk.subarray(i + 3), done);
      return;
    }
    if (chunk[i + 1] === DOT) {
      const buf = chunk.subarray(0, i);
      this._lastBytes = false;
      this._countDataBytes(buf.length);
      if (dataStream.writable) dataStream.write(buf);
      const rest = chunk.subarray(i + 1);
      setImmediate(() => this._feedDataStream(rest, done));
      return;
    }
  }
  this._lastBytes = chunk.length < 4 ? chunk : chunk.subarray(chunk.length - 4);
  if (this._lastBytes.length >= chunk.length) return done();
  const buf = chunk.subarray(0, chunk.length - this._lastBytes.length);
  this._countDataBytes(buf.length);
  if (!dataStream.writable) return done();
  const handled = dataStream.write(buf);
  if (handled || dataStream.destroyed) return done();
  // a stream that the application destroys never drains, it only closes
  const onDrain = () => {
    dataStream.removeListener("drain", onDrain);
    dataStream.removeListener("close", onDrain);
    done();
  };
  dataStream.once("drain", onDrain);
  dataStream.once("close", onDrain);
}

let installed = false;

/** Installs the scan in smtp-server's parser; before BDAT's wrapper (src/smtp/bdat.ts), which calls it. */
export function installFastDataScan(): void {
  if (installed) return;
  installed = true;
  (SMTPStream.prototype as unknown as Parser)._feedDataStream = feedDataStream;
}

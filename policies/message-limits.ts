/**
 * Checks on the message bytes themselves, applied while they stream in (pure, no I/O):
 * message size, header size, line length, NUL bytes, mail loops (too many Received headers),
 * and bare LF normalised to CRLF (Postfix's smtpd_forbid_bare_newline = normalize: a lone LF
 * is never taken as a line end that could smuggle a second message). The size is counted
 * here, chunk by chunk, because smtp-server says a message was too big only at the end of
 * DATA: the verdict comes the moment the limit is passed, and the caller stops storing then.
 * Where the header ends is src/mail/header-end.ts's rule, the one the store's DSN quote uses.
 */
import { HeaderEndScanner } from "../src/mail/header-end.js";

export interface MessageLimits {
  /** smtp.maxMessageSize: bytes of DATA as sent (before bare LF → CRLF). */
  maxMessageSize: number;
  maxHeaderSize: number;
  maxLineLength: number;
  maxReceivedHeaders: number;
}

const CR = Buffer.from([13]);

import type { Refusal } from "./verdict.js";
export type LimitVerdict = Refusal;

export const TOO_BIG: LimitVerdict = { code: 552, enhanced: "5.3.4", text: "Message size exceeds fixed limit", reason: "message-too-big" };

export class MessageInspector {
  private inHeader = true;
  private headerBytes = 0;
  private lineLength = 0;
  private received = 0;
  private lineStart = "";
  private lastWasCR = false;
  private readonly headerEnd = new HeaderEndScanner();
  verdict?: LimitVerdict;
  /** Bytes pushed so far, as sent. */
  size = 0;
  bareLf = 0;
  /** The first line of the Subject header, as sent (for listings; not decoded). */
  subject = "";
  private subjectLine: number[] | null = null;

  constructor(private readonly limits: MessageLimits) {}

  /** Inspects one chunk; returns the bytes to store: the chunk itself, or a copy with bare LF → CRLF. */
  push(chunk: Buffer): Buffer {
    this.size += chunk.length;
    if (this.size > this.limits.maxMessageSize && !this.verdict) this.verdict = TOO_BIG;
    if (!this.inHeader) return this.pushBody(chunk);
    const end = this.headerEnd.push(chunk); // index just past the LF of the empty line, or -1
    let out: number[] | null = null; // built only when a bare LF must be rewritten
    for (let i = 0; i < chunk.length; i++) {
      if (!this.inHeader && !out) {
        // the header ended inside this chunk: the rest goes the body's faster way
        const body = chunk.subarray(i);
        const rest = this.pushBody(body);
        return rest === body ? chunk : Buffer.concat([chunk.subarray(0, i), rest]);
      }
      const b = chunk[i];
      if (b === 10 && !this.lastWasCR) {
        this.bareLf++;
        if (!out) out = Array.from(chunk.subarray(0, i));
        out.push(13);
      }
      if (out) out.push(b);
      if (this.inHeader) this.headerBytes++;
      if (b === 0 && !this.verdict) this.verdict = { code: 554, enhanced: "5.6.0", text: "Message contains NUL characters", reason: "nul-byte" };
      if (b === 10) this.endLine(i + 1 === end);
      else if (b !== 13) {
        if (this.lineLength === 0 && this.subjectOpen) {
          // a folded Subject goes on while lines start with white space
          if (b === 32 || b === 9) this.subjectLine?.push(32); else this.closeSubject();
        }
        this.lineLength++;
        let startedSubject = false;
        if (this.inHeader && this.lineStart.length < 9) {
          this.lineStart += String.fromCharCode(b);
          if (this.lineStart.length === 8 && /^subject:$/i.test(this.lineStart) && !this.subject && !this.subjectLine) { this.subjectLine = []; startedSubject = true; }
        }
        if (this.subjectLine && !startedSubject && this.inHeader && this.subjectLine.length < 998) this.subjectLine.push(b);
        if (this.lineLength > this.limits.maxLineLength && !this.verdict) {
          this.verdict = { code: 552, enhanced: "5.3.4", text: `Message line longer than ${this.limits.maxLineLength} characters`, reason: "line-too-long" };
        }
      }
      this.lastWasCR = b === 13;
    }
    return out ? Buffer.from(out) : chunk;
  }

  /**
   * The body needs only NUL, line length and bare LF: found with Buffer.indexOf (native)
   * line by line rather than byte by byte — most of a message is body. A CR counts towards
   * the line length unless it ends the line.
   */
  private pushBody(chunk: Buffer): Buffer {
    if (!this.verdict && chunk.indexOf(0) >= 0) this.verdict = { code: 554, enhanced: "5.6.0", text: "Message contains NUL characters", reason: "nul-byte" };
    // a CR that ended the previous chunk was held back; not followed by LF, it was inside the line
    if (this.lastWasCR && chunk.length && chunk[0] !== 10) this.lineLength++;
    let parts: Buffer[] | null = null; // built only when a bare LF must be rewritten
    let copied = 0;
    let pos = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, pos)) {
      const crBefore = nl > 0 ? chunk[nl - 1] === 13 : this.lastWasCR;
      // bytes of this line in this chunk, without the CR of its CRLF (a CR that ended the previous chunk was not counted)
      this.lineLength += nl - pos - (crBefore && nl > 0 ? 1 : 0);
      if (this.lineLength > this.limits.maxLineLength && !this.verdict) {
        this.verdict = { code: 552, enhanced: "5.3.4", text: `Message line longer than ${this.limits.maxLineLength} characters`, reason: "line-too-long" };
      }
      if (!crBefore) {
        this.bareLf++;
        (parts ??= []).push(chunk.subarray(copied, nl), CR);
        copied = nl;
      }
      this.lineLength = 0;
      this.lastWasCR = false;
      pos = nl + 1;
    }
    if (pos < chunk.length) {
      this.lastWasCR = chunk[chunk.length - 1] === 13;
      this.lineLength += chunk.length - pos - (this.lastWasCR ? 1 : 0);
      if (this.lineLength > this.limits.maxLineLength && !this.verdict) {
        this.verdict = { code: 552, enhanced: "5.3.4", text: `Message line longer than ${this.limits.maxLineLength} characters`, reason: "line-too-long" };
      }
    }
    if (!parts) return chunk;
    parts.push(chunk.subarray(copied));
    return Buffer.concat(parts);
  }

  private subjectOpen = false;

  private closeSubject(): void {
    if (this.subjectLine) this.subject = Buffer.from(this.subjectLine).toString("utf8").replace(/\s+/g, " ").trim();
    this.subjectLine = null;
    this.subjectOpen = false;
  }

  /** `headerEnds`: this LF ends the empty line that ends the header (src/mail/header-end.ts). */
  private endLine(headerEnds: boolean): void {
    if (this.subjectLine) this.subjectOpen = true;
    if (this.inHeader) {
      this.headerBytes++;
      if (headerEnds) { this.inHeader = false; this.closeSubject(); }
      else if (/^received:/i.test(this.lineStart)) {
        this.received++;
        if (this.received > this.limits.maxReceivedHeaders && !this.verdict) {
          this.verdict = { code: 554, enhanced: "5.4.6", text: `Too many hops (${this.received} Received headers): mail loop`, reason: "mail-loop" };
        }
      }
      if (this.headerBytes > this.limits.maxHeaderSize && !this.verdict) {
        this.verdict = { code: 552, enhanced: "5.3.4", text: `Message header exceeds ${this.limits.maxHeaderSize} bytes`, reason: "header-too-big" };
      }
    }
    this.lineLength = 0;
    this.lineStart = "";
  }
}

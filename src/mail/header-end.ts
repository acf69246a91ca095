/**
 * Where a message's header block ends: the one rule for every part of mxspool that splits
 * header from body — the ingress inspector (which applies maxHeaderSize, the Received count
 * and the Subject to the header only), the store (the original headers a DSN quotes) and the
 * webmail summary. Two rules once disagreed (`\r?\n\r?\n` in the store, "a line of nothing
 * but CRs" at ingress): a header ended by `\r\r\n` passed ingress as a short header, and the
 * store then quoted the body lines up to the next CRLF CRLF in a bounce to a forged sender.
 *
 * The rule: the header ends at the first empty line, and a line is empty when it holds
 * nothing but CRs before its LF. So CRLF CRLF, LF LF, CR CR LF and LF CR LF all end it; a
 * bare CR is no line end (in SMTP only LF can end a line; ingress rewrites a bare LF to
 * CRLF, which changes no answer of this rule). Pure, no I/O; streams across chunks.
 */

/** Feeds a message chunk by chunk and says where its header block ends. */
export class HeaderEndScanner {
  /** Bytes fed so far. */
  private offset = 0;
  /** Offset where the current line started. */
  private lineStart = 0;
  /** The current line holds a byte other than CR. */
  private lineHasText = false;
  /** Once found: the header's length (up to the empty line) and where the body starts. */
  end?: { headerEnd: number; bodyStart: number };

  /** Scans one chunk; returns the index in it just past the LF of the empty line, or -1 (not in this chunk, or found before). */
  push(chunk: Uint8Array): number {
    if (this.end) return -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === 10) {
        if (!this.lineHasText) {
          this.end = { headerEnd: this.lineStart, bodyStart: this.offset + i + 1 };
          this.offset += chunk.length;
          return i + 1;
        }
        this.lineStart = this.offset + i + 1;
        this.lineHasText = false;
      } else if (b !== 13) {
        this.lineHasText = true;
      }
    }
    this.offset += chunk.length;
    return -1;
  }
}

/**
 * The header block of a whole message (or of its first bytes): `headerEnd` is its length
 * including its last line's line end (where the empty line starts), `bodyStart` where the body
 * starts. null when there is no empty line: the bytes are header only (or a cut header).
 */
export function findHeaderEnd(message: Uint8Array | string): { headerEnd: number; bodyStart: number } | null {
  const s = new HeaderEndScanner();
  s.push(typeof message === "string" ? Buffer.from(message, "latin1") : message);
  return s.end ?? null;
}

/**
 * The header block of `head` (the first bytes of a message, latin1), without the empty line.
 * With no empty line in `head` it is all header; cut at its last line end when `cut` says
 * `head` is only the start of a longer message, so no partial line is returned.
 */
export function headerBlock(head: string, cut = false): string {
  const end = findHeaderEnd(head);
  if (end) return head.slice(0, end.headerEnd);
  if (!cut) return head;
  const lastLf = head.lastIndexOf("\n");
  return lastLf >= 0 ? head.slice(0, lastLf + 1) : "";
}

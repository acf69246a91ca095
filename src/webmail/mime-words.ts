/**
 * RFC 2047 encoded words ("=?UTF-8?B?…?=", "=?iso-8859-1?Q?…?=") decoded to text, for the
 * subject and sender shown in the inbox (the message record keeps the raw header value).
 * Charsets through TextDecoder (Node's ICU); an unknown charset is read as latin1. Never throws.
 */
const WORD = /=\?([^?\s*]+)(?:\*[^?]*)?\?([bqBQ])\?([^?\s]*)\?=/g;

function decoderFor(charset: string): TextDecoder {
  try { return new TextDecoder(charset.toLowerCase(), { fatal: false }); } catch { return new TextDecoder("latin1"); }
}

function bytesOf(encoding: string, text: string): Buffer {
  if (encoding.toUpperCase() === "B") return Buffer.from(text, "base64");
  const q = text.replace(/_/g, " ").replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(q, "latin1");
}

export function decodeMimeWords(value: string): string {
  // whitespace between two adjacent encoded words is not part of the text
  const joined = value.replace(/(\?=)\s+(?==\?)/g, "$1");
  // adjacent words in the same charset are decoded together (a character may span two words)
  let out = "";
  let last = 0;
  let pending: { charset: string; bytes: Buffer[] } | null = null;
  const flush = () => { if (pending) { out += decoderFor(pending.charset).decode(Buffer.concat(pending.bytes)); pending = null; } };
  for (const m of joined.matchAll(WORD)) {
    const between = joined.slice(last, m.index);
    if (between) { flush(); out += between; }
    const charset = m[1];
    if (pending && pending.charset.toLowerCase() !== charset.toLowerCase()) flush();
    pending ??= { charset, bytes: [] };
    pending.bytes.push(bytesOf(m[2], m[3]));
    last = m.index! + m[0].length;
  }
  flush();
  return (out + joined.slice(last)).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "");
}

/**
 * DKIM key material: a new RSA private key (2048 bits by default) and the DNS TXT record
 * that publishes its public half (RFC 6376 section 3.6.1). Ed25519 (RFC 8463) is not offered:
 * nodemailer's signer, the one mxspool ships, signs with RSA only.
 * `mxspool dkim keygen` writes the key and prints the record; the doctor compares the record
 * derived from the configured key with the one published. Pure but for the key generation.
 */
import crypto from "node:crypto";

/** A new RSA private key, PEM (PKCS#8). */
export function generateDkimKey(bits = 2048): string {
  return crypto.generateKeyPairSync("rsa", { modulusLength: bits }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** The TXT record's text for the private key `pem`: `v=DKIM1; k=rsa; p=<base64 public key>`. */
export function dkimTxtRecord(pem: string): string {
  const pub = crypto.createPublicKey(crypto.createPrivateKey(pem));
  return `v=DKIM1; k=rsa; p=${pub.export({ type: "spki", format: "der" }).toString("base64")}`;
}

/** The `p=` value of a published record (joined TXT strings), or null without one. */
export function publishedKey(txt: string): string | null {
  const m = /(?:^|;)\s*p=([^;]*)/.exec(txt);
  return m ? m[1].replace(/\s+/g, "") : null;
}

/** A TXT record's text in zone-file form: quoted strings of at most 255 characters. */
export function zoneStrings(text: string): string {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += 255) parts.push(`"${text.slice(i, i + 255)}"`);
  return parts.join(" ");
}

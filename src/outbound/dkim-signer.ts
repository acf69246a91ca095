/**
 * DKIM signing of outbound mail (RFC 6376): per configured domain with
 * `domains.<d>.dkim: { selector, privateKey }`, rsa-sha256, relaxed/relaxed, through
 * nodemailer's signer (RSA only). The keys are read once at start; a missing, unreadable or
 * non-RSA key fails the start naming the domain rather than sending unsigned.
 */
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import DKIM from "nodemailer/lib/dkim";
import type { Config } from "../config/schema.js";

export class DkimSigner {
  private readonly signers = new Map<string, DKIM>();

  constructor(config: Config) {
    for (const [domain, d] of Object.entries(config.domains)) {
      if (!d.dkim) continue;
      const file = path.resolve(config.dataDir, d.dkim.privateKey);
      let pem: string;
      try {
        pem = fs.readFileSync(file, "utf8");
        const type = crypto.createPrivateKey(pem).asymmetricKeyType;
        if (type !== "rsa") throw new Error(`a ${type} key; only RSA keys are supported`);
      } catch (err) {
        throw new Error(`domains.${domain}.dkim.privateKey: cannot read a private key from ${file} (${(err as Error).message})`);
      }
      this.signers.set(domain, new DKIM({ domainName: domain, keySelector: d.dkim.selector, privateKey: pem }));
    }
  }

  /** Whether mail from `domain` is signed. */
  has(domain: string): boolean { return this.signers.has(domain.toLowerCase()); }

  /** The message with a DKIM-Signature for `domain` prepended; unchanged when the domain has no key. */
  async sign(raw: Buffer, domain: string): Promise<Buffer> {
    const signer = this.signers.get(domain.toLowerCase());
    if (!signer) return raw;
    const out: Buffer[] = [];
    const stream = signer.sign(raw);
    for await (const chunk of stream) out.push(chunk as Buffer);
    return Buffer.concat(out);
  }
}

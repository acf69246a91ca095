import { describe, expect, it } from "vitest";
import { capabilitiesFromEhlo, normaliseBanner, primaryChanges, type PrimaryFingerprint } from "../../../policies/primary-change.js";

const NOW = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const cert = (fp: string, validTo = NOW + 90 * DAY) => ({ subject: "CN=mx1.example.test", issuer: "CN=Test CA", fingerprint: fp, validTo });
const base: PrimaryFingerprint = {
  endpoint: "10.0.0.1:25", banner: "mx1.example.test ESMTP Postfix",
  capabilities: ["8BITMIME", "CHUNKING", "PIPELINING", "SIZE 52428800", "SMTPUTF8", "STARTTLS"],
  cert: cert("AA"), certExpiresSoon: false, addresses: ["10.0.0.1:25"],
  mx: [{ priority: 10, exchange: "mx1.example.test" }, { priority: 20, exchange: "backup.example.net" }],
};
const facts = { hostname: "backup.example.net", certExpiryWarnDays: 14, now: NOW, queuedLargerThan: (n: number) => (n === 10 * 1048576 ? 12 : 0) };
const caps = (...c: string[]) => c;

describe("primary change", () => {
  it.each<[string, Partial<PrimaryFingerprint>, { field: string; old: unknown; new: unknown; severity: string; meaning: RegExp }[]]>([
    ["nothing changed", {}, []],
    ["SIZE down with larger messages queued", { capabilities: caps("8BITMIME", "CHUNKING", "PIPELINING", "SIZE 10485760", "SMTPUTF8", "STARTTLS") },
      [{ field: "size", old: 52428800, new: 10485760, severity: "warning", meaning: /fell from 50 MB to 10 MB: 12 queued message\(s\) are larger and will be refused/ }]],
    ["SIZE up is informational", { capabilities: caps("8BITMIME", "CHUNKING", "PIPELINING", "SIZE 104857600", "SMTPUTF8", "STARTTLS") },
      [{ field: "size", old: 52428800, new: 104857600, severity: "info", meaning: /changed from 50 MB to 100 MB/ }]],
    ["STARTTLS gone", { capabilities: caps("8BITMIME", "CHUNKING", "PIPELINING", "SIZE 52428800", "SMTPUTF8"), cert: null },
      [{ field: "starttls", old: true, new: false, severity: "warning", meaning: /STARTTLS no longer offered/ }]],
    ["SMTPUTF8 and CHUNKING gone", { capabilities: caps("8BITMIME", "PIPELINING", "SIZE 52428800", "STARTTLS") },
      [{ field: "capabilities", old: ["8BITMIME", "CHUNKING", "PIPELINING", "SMTPUTF8"], new: ["8BITMIME", "PIPELINING"], severity: "warning", meaning: /no longer offered: CHUNKING, SMTPUTF8 \(queued internationalised/ }]],
    ["certificate replaced", { cert: cert("BB") }, [{ field: "cert", old: cert("AA"), new: cert("BB"), severity: "info", meaning: /certificate changed/ }]],
    ["certificate expiring within the window", { certExpiresSoon: true, cert: cert("AA", NOW + 6 * DAY + 1000) },
      [{ field: "cert-expiry", old: NOW + 90 * DAY, new: NOW + 6 * DAY + 1000, severity: "warning", meaning: /certificate expires in 6 days/ }]],
    ["our hostname no longer in the MX set", { mx: [{ priority: 10, exchange: "mx1.example.test" }] },
      [{ field: "mx-missing-us", old: base.mx, new: [{ priority: 10, exchange: "mx1.example.test" }], severity: "warning", meaning: /no longer in the MX set/ }]],
    ["a new MX preferred over the primary", { mx: [{ priority: 5, exchange: "new.example.org" }, ...base.mx!] },
      [{ field: "mx-preferred", old: base.mx, new: [{ priority: 5, exchange: "new.example.org" }, ...base.mx!], severity: "warning", meaning: /lower preference than the primary now exists: 5 new.example.org/ }]],
    ["another MX below ours is informational", { mx: [...base.mx!, { priority: 30, exchange: "third.example.net" }] },
      [{ field: "mx", old: base.mx, new: [...base.mx!, { priority: 30, exchange: "third.example.net" }], severity: "info", meaning: /MX set changed/ }]],
    ["an unknown MX set (DNS trouble) is no change", { mx: null }, []],
    ["banner changed is informational", { banner: "mx1.example.test ESMTP Exim 4.98" },
      [{ field: "banner", old: "mx1.example.test ESMTP Postfix", new: "mx1.example.test ESMTP Exim 4.98", severity: "info", meaning: /banner changed/ }]],
  ])("%s", (_name, patch, want) => {
    const got = primaryChanges(base, { ...base, ...patch }, facts);
    expect(got.map(({ meaning, ...c }) => c)).toEqual(want.map(({ meaning, ...c }) => c));
    got.forEach((c, i) => expect(c.meaning).toMatch(want[i].meaning));
  });

  it("raises nothing for the first fingerprint", () => {
    expect(primaryChanges(null, base, facts)).toEqual([]);
  });

  it("drops dates and reply codes from the banner, keywords from EHLO", () => {
    expect(normaliseBanner("220 mx.example.test ESMTP Sendmail 8.17; Mon, 1 Dec 2026 23:25:36 +0000")).toBe("mx.example.test ESMTP Sendmail 8.17; <date>");
    expect(capabilitiesFromEhlo(["250-mx.example.test Hello [127.0.0.1]", "250-pipelining", "250-SIZE 1000", "250 STARTTLS"])).toEqual(["PIPELINING", "SIZE 1000", "STARTTLS"]);
  });
});

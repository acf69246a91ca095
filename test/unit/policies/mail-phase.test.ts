import { describe, expect, it } from "vitest";
import { mailPhase, type MailPhaseFacts } from "../../../policies/mail-phase.js";

const ok: Omit<MailPhaseFacts, "scannersSaturated"> & { saturated: boolean } = {
  hostname: "mx2.example.test", shuttingDown: false, helo: "client.example.test", clientIp: "192.0.2.7", secure: false,
  requireTlsFrom: ["198.51.100.0/24", "2001:db8::/32"], transactions: 0, maxTransactions: 3, saturated: false,
};

describe("MAIL FROM: whether it may open a transaction", () => {
  it.each([
    ["a valid session", {}, null, true],
    ["an address-literal HELO", { helo: "[192.0.2.7]" }, null, true],
    ["the last transaction allowed", { transactions: 2 }, null, true],
    ["a client that must use TLS and did", { clientIp: "198.51.100.9", secure: true }, null, true],
    ["shutting down", { shuttingDown: true }, [421, "4.3.2", "mx2.example.test Service shutting down, try again later", "shutting-down"], false],
    ["shutting down comes before every other rule", { shuttingDown: true, helo: "bad name", saturated: true }, [421, "4.3.2", "mx2.example.test Service shutting down, try again later", "shutting-down"], false],
    ["no HELO at all", { helo: undefined }, [501, "5.5.2", "<undefined>: Helo command rejected: Invalid name", "invalid-helo"], false],
    ["a HELO name with a space", { helo: "bad name" }, [501, "5.5.2", "<bad name>: Helo command rejected: Invalid name", "invalid-helo"], false],
    ["a bare IP as HELO name", { helo: "192.0.2.7" }, [501, "5.5.2", "<192.0.2.7>: Helo command rejected: Invalid name", "invalid-helo"], false],
    ["STARTTLS required (IPv4 list)", { clientIp: "198.51.100.9" }, [530, "5.7.0", "Must issue a STARTTLS command first", "tls-required"], false],
    ["STARTTLS required (IPv6 list)", { clientIp: "2001:db8::25" }, [530, "5.7.0", "Must issue a STARTTLS command first", "tls-required"], false],
    ["STARTTLS required (IPv4-mapped address)", { clientIp: "::ffff:198.51.100.9" }, [530, "5.7.0", "Must issue a STARTTLS command first", "tls-required"], false],
    ["one transaction too many", { transactions: 3 }, [421, "4.7.0", "mx2.example.test Too many transactions in this session, closing connection", "too-many-transactions"], true],
    ["an invalid HELO before the count: not a transaction", { transactions: 3, helo: "-bad-" }, [501, "5.5.2", "<-bad->: Helo command rejected: Invalid name", "invalid-helo"], false],
    ["scanners saturated", { saturated: true }, [451, "4.3.2", "Content scanners busy, try again later", "filters-saturated"], true],
    ["Redis unavailable (a failover, a restart)", { storageDown: true }, [451, "4.3.0", "Queue storage unavailable, try again later", "storage-down"], true],
    ["the scanners come before Redis", { storageDown: true, saturated: true }, [451, "4.3.2", "Content scanners busy, try again later", "filters-saturated"], true],
    ["the count comes before the scanners", { transactions: 3, saturated: true }, [421, "4.7.0", "mx2.example.test Too many transactions in this session, closing connection", "too-many-transactions"], true],
  ])("%s", (_label, over, refusal, counted) => {
    const f = { ...ok, ...over } as typeof ok;
    const v = mailPhase({ ...f, scannersSaturated: () => f.saturated });
    const r = refusal as [number, string, string, string] | null;
    expect(v.refusal).toEqual(r && { code: r[0], enhanced: r[1], text: r[2], reason: r[3] });
    expect(v.counted).toBe(counted);
  });

  it("asks whether the scanners are saturated only when every other rule passed (asking counts a refusal)", () => {
    let asked = 0;
    const ask = () => { asked++; return false; };
    mailPhase({ ...ok, helo: "bad name", scannersSaturated: ask });
    mailPhase({ ...ok, transactions: 3, scannersSaturated: ask });
    expect(asked).toBe(0);
    mailPhase({ ...ok, scannersSaturated: ask });
    expect(asked).toBe(1);
  });
});

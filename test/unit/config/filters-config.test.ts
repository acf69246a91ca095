import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../../src/config/load.js";
import { formatScannerAddress, parseScannerAddress } from "../../../src/config/scanner-address.js";

const minimal = { domains: { "example.com": { primary: ["mail.example.com:25"] } } };
function problems(raw: unknown): string[] {
  try { parseConfig(raw); } catch (err) { if (err instanceof ConfigError) return err.problems; throw err; }
  return [];
}

describe("scanner addresses", () => {
  it.each([
    ["unix:/run/clamav/clamd.ctl", { kind: "unix", path: "/run/clamav/clamd.ctl" }],
    ["tcp:127.0.0.1:3310", { kind: "tcp", host: "127.0.0.1", port: 3310 }],
    ["tcp:spamd:783", { kind: "tcp", host: "spamd", port: 783 }],
    ["tcp:[::1]:783", { kind: "tcp", host: "::1", port: 783 }],
  ])("reads %s and writes it back", (text, address) => {
    expect(parseScannerAddress(text)).toEqual(address);
    expect(formatScannerAddress(parseScannerAddress(text)!)).toBe(text);
  });
  it.each(["127.0.0.1:3310", "unix:relative.sock", "tcp:host", "tcp:host:0", "tcp:host:70000", "udp:h:1", ""])("refuses %j", (t) => expect(parseScannerAddress(t)).toBeNull());
});

describe("filters configuration", () => {
  it("has no scanner by default", () => {
    expect(parseConfig(minimal).filters).toEqual({ healthInterval: 30_000 });
  });

  it("fills every default of a configured scanner", () => {
    const c = parseConfig({ ...minimal, filters: { clamav: { address: "unix:/run/clamav/clamd.ctl" }, spamassassin: { address: "tcp:127.0.0.1:783" } } });
    expect(c.filters.clamav).toEqual({ address: { kind: "unix", path: "/run/clamav/clamd.ctl" }, connectTimeout: 2000, timeout: 60_000, onError: "tempfail",
      maxSize: 104_857_600, maxConcurrent: 8, maxQueued: 16, queueTimeout: 10_000 });
    expect(c.filters.spamassassin).toEqual({ address: { kind: "tcp", host: "127.0.0.1", port: 783 }, connectTimeout: 2000, timeout: 30_000, onError: "tempfail",
      maxSize: 512_000, tagScore: 5, rejectScore: 10, maxConcurrent: 4, maxQueued: 4, queueTimeout: 10_000 });
  });

  it("names the bad key and says why", () => {
    expect(problems({ ...minimal, filters: { clamav: {} } })).toEqual(["filters.clamav.address: is required"]);
    expect(problems({ ...minimal, filters: { clamav: { address: "localhost:3310" } } })).toEqual([expect.stringMatching(/^filters\.clamav\.address: expected "unix:\/absolute\/path" or "tcp:host:port", got "localhost:3310"/)]);
    expect(problems({ ...minimal, filters: { spamassassin: { address: "tcp:h:783", onError: "ignore" } } })).toEqual([expect.stringMatching(/^filters\.spamassassin\.onError: .*"tempfail"\|"accept"/)]);
    expect(problems({ ...minimal, filters: { spamassassin: { address: "tcp:h:783", tagScore: 8, rejectScore: 6 } } })).toEqual(["filters.spamassassin.rejectScore: rejectScore must be >= tagScore"]);
    expect(problems({ ...minimal, filters: { spamassassin: { address: "tcp:h:783", timeout: "soon" } } })).toEqual([expect.stringMatching(/^filters\.spamassassin\.timeout: expected a duration/)]);
    expect(problems({ ...minimal, filters: { rspamd: {} } })).toEqual(["filters.rspamd: unknown key"]);
    expect(problems({ ...minimal, filters: { clamav: { address: "unix:/x", maxConcurrent: 0 } } })).toEqual([expect.stringMatching(/^filters\.clamav\.maxConcurrent: /)]);
  });
});

/** The doctor's verdicts, from tables of facts (src/doctor/checks.ts). */
import { describe, expect, it } from "vitest";
import * as C from "../../../src/doctor/checks.js";

const ME = "mx2.example.test";
const mx = (...r: [number, string, boolean?][]) => r.map(([priority, exchange, resolves = true]) => ({ priority, exchange, resolves }));
const NOW = Date.parse("2026-12-01T12:00:00Z");
const DAY = 86_400_000;

describe("doctor checks", () => {
  it.each([
    ["the primary first, mxspool after", mx([10, "mx1.example.test"], [20, ME]), "ok", /preference 10, mx2\.example\.test 20/],
    ["mxspool preferred over the primary", mx([10, ME], [20, "mx1.example.test"]), "fail", /preference 10, the primary 20/],
    ["mxspool and the primary equal", mx([10, ME], [10, "mx1.example.test"]), "fail", /preference 10, the primary 10/],
    ["no MX records", [], "fail", /^no MX records$/],
    ["mxspool missing", mx([10, "mx1.example.test"]), "fail", /is not among the MX records/],
    ["only mxspool", mx([20, ME + "."]), "warn", /no primary MX/],
    ["an MX pointing at nothing", mx([10, "gone.example.test", false], [20, ME]), "fail", /gone\.example\.test has no address/],
    ["a DNS failure", { error: "ESERVFAIL" }, "fail", /look-up failed: ESERVFAIL/],
  ] as const)("mx: %s", (_what, facts, status, detail) => {
    const c = C.mxCheck("example.test", ME, facts as C.MxFact[] | { error: string });
    expect(c).toMatchObject({ name: "mx:example.test", status });
    expect(c.detail).toMatch(detail);
    if (status !== "ok") expect(c.hint).toBeTruthy();
  });

  const sentinel = (o: Partial<C.SentinelFacts> = {}): C.SentinelFacts => ({ master: "10.0.0.1:6379", masterDown: false, sentinels: 3, quorum: 2, downAfterMs: 5000, replicas: 2, replicasInSync: 2, ...o });
  it.each([
    ["a healthy set", sentinel(), 1, "ok", /^master 10\.0\.0\.1:6379, 2 of 2 replica\(s\) in sync, 3 sentinel\(s\) \(quorum 2\), down-after 5000 ms$/],
    ["no replica in sync, one acknowledgement asked", sentinel({ replicasInSync: 0 }), 1, "fail", /minReplicasAcked is 1, so every message is refused/],
    ["two asked, one in sync", sentinel({ replicasInSync: 1 }), 2, "fail", /every message is refused/],
    ["no replica in sync, none asked", sentinel({ replicasInSync: 0 }), 0, "ok", /0 of 2 replica/],
    ["exactly as many in sync as asked", sentinel({ replicasInSync: 1 }), 1, "warn", /one more replica lost and every message is refused/],
    ["two sentinels", sentinel({ sentinels: 2 }), 1, "warn", /2 sentinel\(s\): a failover needs a majority/],
    ["the master seen down", sentinel({ masterDown: true }), 1, "warn", /see the master down: a failover may be under way/],
    ["down-after 1 s", sentinel({ downAfterMs: 1000 }), 1, "warn", /can fail a just-promoted master over again/],
    ["down-after 2 s", sentinel({ downAfterMs: 2000 }), 1, "ok", /down-after 2000 ms$/],
    ["two weaknesses at once", sentinel({ sentinels: 1, downAfterMs: 500 }), 1, "warn", /1 sentinel\(s\).*; a down-after this short/],
    ["no sentinel answering", { error: "connect ECONNREFUSED 127.0.0.1:26379" }, 1, "fail", /^no sentinel answers: connect ECONNREFUSED/],
  ] as const)("sentinel: %s", (_what, facts, acked, status, detail) => {
    const c = C.sentinelCheck(facts, acked);
    expect(c).toMatchObject({ name: "redis:sentinel", status });
    expect(c.detail).toMatch(detail);
    if (status !== "ok") expect(c.hint).toBeTruthy();
  });

  const view = (epoch: number, failingOver: boolean, master: string): C.SentinelView => ({ epoch, failingOver, facts: sentinel({ master }) });
  it.each([
    ["all agree", [view(1, false, "a:1"), view(1, false, "a:1")], "a:1"],
    ["the newest epoch, though the others are more", [view(0, false, "old:1"), view(1, false, "new:1"), view(0, false, "old:1")], "new:1"],
    ["at the same epoch, the one not failing over", [view(1, true, "leader:1"), view(1, false, "new:1")], "new:1"],
    ["only the leader knows of the failover", [view(1, true, "promoted:1"), view(0, false, "old:1")], "promoted:1"],
    ["none answered", [], undefined],
  ] as const)("sentinel view: %s", (_what, views, master) => {
    expect(C.newestView([...views])?.facts.master).toBe(master);
  });

  it.each([
    [{ code: 250, recipient: "p@example.test" }, "ok"],
    [{ code: 550, recipient: "p@example.test" }, "fail"],
    [{ code: 450, recipient: "p@example.test" }, "fail"],
    [{ code: null, recipient: "p@example.test" }, "fail"],
    [{ code: 250, recipient: undefined }, "warn"],
  ] as const)("primary: %o is %s", (f, status) => {
    expect(C.primaryCheck("example.test", { endpoint: "10.0.0.1:25", text: `${f.code} x`, ...f }).status).toBe(status);
  });

  it.each([
    [{ aofEnabled: true, aofLastWriteOk: true, rdbOnly: false }, "ok"],
    [{ aofEnabled: false, aofLastWriteOk: true, rdbOnly: false }, "fail"],
    [{ aofEnabled: false, aofLastWriteOk: true, rdbOnly: true }, "fail"],
    [{ aofEnabled: true, aofLastWriteOk: false, rdbOnly: false }, "fail"],
  ])("redis persistence %o is %s", (f, status) => expect(C.redisPersistenceCheck(f).status).toBe(status));

  const MB = 1048576;
  it.each([
    // (maxmemory − used) / (bytes per message × messages per hour)
    [{ maxmemory: 1000 * MB, used: 0, policy: "noeviction", bytesPerMessage: 100 * 1024, messagesPerHour: 100 }, "ok", 102.4],
    [{ maxmemory: 100 * MB, used: 0, policy: "noeviction", bytesPerMessage: 100 * 1024, messagesPerHour: 100 }, "warn", 10.24],
    [{ maxmemory: 100 * MB, used: 90 * MB, policy: "noeviction", bytesPerMessage: 100 * 1024, messagesPerHour: 100 }, "fail", 1.024],
    [{ maxmemory: 100 * MB, used: 0, policy: "allkeys-lru", bytesPerMessage: 1024, messagesPerHour: 1 }, "fail", null],
    [{ maxmemory: 0, used: 0, policy: "noeviction", bytesPerMessage: 1024, messagesPerHour: 1 }, "warn", null],
    [{ maxmemory: null, used: 0, policy: null, bytesPerMessage: 1024, messagesPerHour: 1 }, "warn", null],
    [{ maxmemory: 100 * MB, used: 0, policy: "noeviction", bytesPerMessage: 1024, messagesPerHour: 0 }, "ok", null],
  ])("redis memory %o is %s, %s hours of outage", (m, status, hours) => {
    expect(C.redisMemoryCheck(m).status).toBe(status);
    if (hours !== null) expect(C.outageHours(m)).toBeCloseTo(hours, 3);
  });

  it.each([
    [{ path: "/d", freeBytes: 50, totalBytes: 100 }, "ok"],
    [{ path: "/d", freeBytes: 10, totalBytes: 100 }, "warn"],
    [{ path: "/d", freeBytes: 1, totalBytes: 100 }, "fail"],
    [{ path: "/d", error: "ENOENT" }, "warn"],
  ])("disk %o is %s", (f, status) => expect(C.diskCheck(f).status).toBe(status));

  it.each([
    [{ name: "clamav", answered: true, signatureDate: NOW - DAY }, "ok"],
    [{ name: "clamav", answered: true, signatureDate: NOW - 3 * DAY }, "warn"],
    [{ name: "clamav", answered: true, signatureDate: NOW - 8 * DAY }, "fail"],
    [{ name: "clamav", answered: true, signatureDate: null }, "warn"],
    [{ name: "spamassassin", answered: true }, "ok"],
    [{ name: "spamassassin", answered: false, error: "ECONNREFUSED" }, "fail"],
  ])("scanner %o is %s", (f, status) => expect(C.scannerCheck(f, NOW).status).toBe(status));

  it.each([
    ["ClamAV 1.0.3/27110/Tue Dec  1 08:21:43 2026\0", Date.parse("Tue Dec  1 08:21:43 2026")],
    ["ClamAV 1.0.3/27110/Tue Dec  1 08:21:43 2026\n", Date.parse("Tue Dec  1 08:21:43 2026")],
    ["ClamAV 1.0.3\0", null],
    ["ClamAV 1.0.3/27110/garbage\0", null],
  ])("clamd VERSION %j has signature date %s", (reply, date) => expect(C.clamdSignatureDate(reply)).toBe(date));

  it.each([
    [{ source: "c.pem", validTo: NOW + 90 * DAY }, "ok"],
    [{ source: "c.pem", validTo: NOW + 5 * DAY }, "warn"],
    [{ source: "c.pem", validTo: NOW - DAY }, "fail"],
    [{ source: "c.pem", error: "ENOENT" }, "fail"],
    [null, "ok"],
  ])("certificate %o is %s", (f, status) => expect(C.certCheck(f, NOW).status).toBe(status));

  it.each([
    [{ enabled: false as const }, "ok"],
    [{ enabled: true as const, file: "u", users: 2 }, "ok"],
    [{ enabled: true as const, file: "u", users: 0 }, "warn"],
    [{ enabled: true as const, file: "u", error: "EACCES" }, "fail"],
  ])("webmail users %o is %s", (f, status) => expect(C.webmailUsersCheck(f).status).toBe(status));

  it.each([[0, "ok"], [1_500, "ok"], [5_000, "warn"], [-120_000, "fail"]])("clock %i ms off is %s", (skew, status) => {
    expect(C.clockCheck(NOW + skew, NOW).status).toBe(status);
  });

  it.each([
    [undefined, null, "warn"],
    [undefined, NOW - 100 * DAY, "ok"],
    [7 * DAY, NOW - 2 * DAY, "ok"],
    [7 * DAY, NOW - 8 * DAY, "warn"],
    [7 * DAY, null, "warn"],
  ])("drill every %s, last passed %s: %s", (every, last, status) => {
    expect(C.drillCheck("example.test", every, last, NOW).status).toBe(status);
  });

  it.each([
    [{ configured: false as const }, "warn"],
    [{ configured: true as const, sent: null }, "ok"],
    [{ configured: true as const, sent: true }, "ok"],
    [{ configured: true as const, sent: false, error: "500" }, "fail"],
  ])("alerts %o is %s", (f, status) => expect(C.alertsCheck(f).status).toBe(status));

  it("exits 1 on any fail, 0 on warnings only", () => {
    expect(C.exitCode([{ name: "a", status: "ok", detail: "" }, { name: "b", status: "warn", detail: "" }])).toBe(0);
    expect(C.exitCode([{ name: "a", status: "ok", detail: "" }, { name: "b", status: "fail", detail: "" }])).toBe(1);
  });
});

describe("DKIM and SPF for outbound mail", () => {
  it.each([
    ["no key configured", { configured: false as const }, "warn"],
    ["the configured key published", { configured: true as const, selector: "s1", expected: "KEY", published: ["OTHER", "KEY"] }, "ok"],
    ["another key published", { configured: true as const, selector: "s1", expected: "KEY", published: ["OTHER"] }, "fail"],
    ["nothing published", { configured: true as const, selector: "s1", expected: "KEY", published: { error: "ENOTFOUND" } }, "fail"],
    ["a TXT without a key", { configured: true as const, selector: "s1", expected: "KEY", published: [] }, "fail"],
    ["the private key unreadable", { configured: true as const, selector: "s1", expected: null, published: ["KEY"] }, "fail"],
  ])("dkim: %s", (_n, facts, status) => {
    expect(C.dkimCheck("example.test", facts)).toMatchObject({ name: "dkim:example.test", status });
  });
  const base = { senders: ["192.0.2.25"], covered: [] as string[], unfollowed: [] as string[] };
  it.each([
    ["our address allowed", { ...base, record: "v=spf1 ip4:192.0.2.0/24 -all", covered: ["192.0.2.25"] }, "ok"],
    ["our address not allowed", { ...base, record: "v=spf1 ip4:198.51.100.1 -all" }, "fail"],
    ["not allowed, but an include not followed", { ...base, record: "v=spf1 include:_spf.example.net -all", unfollowed: ["include:_spf.example.net"] }, "warn"],
    ["no SPF record", { ...base, record: null }, "warn"],
    ["look-up failed", { ...base, record: { error: "ESERVFAIL" } }, "warn"],
    ["our hostname without an address", { ...base, record: "v=spf1 -all", senders: [] }, "warn"],
    ["through a relay", { ...base, record: "v=spf1 -all", relay: "smtp.example.net:587", senders: [] }, "ok"],
    ["one of two addresses missing", { ...base, record: "v=spf1 ip4:192.0.2.25 -all", senders: ["192.0.2.25", "2001:db8::25"], covered: ["192.0.2.25"] }, "fail"],
  ])("spf: %s", (_n, facts, status) => {
    expect(C.spfCheck("example.test", facts)).toMatchObject({ name: "spf:example.test", status });
  });
});

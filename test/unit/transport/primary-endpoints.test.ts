import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/config/load.js";
import { PrimaryEndpoints, primariesFromMx } from "../../../src/transport/primary-endpoints.js";
import { startDnsServer, type TestDnsServer } from "../../helpers/dns-server.js";

const mx = (priority: number, exchange: string) => ({ priority, exchange });

describe("primariesFromMx", () => {
  it("keeps only the records preferred over ours, best first", () => {
    expect(primariesFromMx([mx(20, "mx2.example.test"), mx(10, "mx1.example.test"), mx(5, "mx0.example.test")], "mx2.example.test"))
      .toEqual(["mx0.example.test", "mx1.example.test"]);
  });

  it("drops records at or below our preference", () => {
    expect(primariesFromMx([mx(10, "a.test"), mx(20, "mx2.test"), mx(20, "peer.test"), mx(30, "backup.test")], "mx2.test")).toEqual(["a.test"]);
  });

  it("without a record for us, all of them, sorted", () => {
    expect(primariesFromMx([mx(30, "c.test"), mx(10, "a.test"), mx(20, "b.test")], "mx2.example.test")).toEqual(["a.test", "b.test", "c.test"]);
  });

  it("keeps DNS order for ties", () => {
    expect(primariesFromMx([mx(10, "b.test"), mx(10, "a.test"), mx(20, "us.test")], "us.test")).toEqual(["b.test", "a.test"]);
    expect(primariesFromMx([mx(10, "a.test"), mx(10, "b.test"), mx(20, "us.test")], "us.test")).toEqual(["a.test", "b.test"]);
  });

  it("compares names without case or trailing dot, and returns them normalized", () => {
    expect(primariesFromMx([mx(10, "MX1.Example.Test."), mx(20, "Mx2.EXAMPLE.test.")], "mx2.example.test.")).toEqual(["mx1.example.test"]);
    expect(primariesFromMx([mx(10, "mx1.example.test"), mx(20, "mx2.example.test")], "MX2.Example.Test")).toEqual(["mx1.example.test"]);
  });

  it("uses our best preference when we appear more than once", () => {
    expect(primariesFromMx([mx(5, "a.test"), mx(15, "b.test"), mx(10, "us.test"), mx(30, "us.test")], "us.test")).toEqual(["a.test"]);
  });

  it("gives nothing when we are the best (or only) MX, or for a null MX", () => {
    expect(primariesFromMx([mx(10, "us.test"), mx(20, "b.test")], "us.test")).toEqual([]);
    expect(primariesFromMx([mx(10, "us.test")], "us.test")).toEqual([]);
    expect(primariesFromMx([], "us.test")).toEqual([]);
    expect(primariesFromMx([mx(0, "")], "us.test")).toEqual([]);
    expect(primariesFromMx([mx(0, ".")], "us.test")).toEqual([]);
  });

  it("lists a host named twice once", () => {
    expect(primariesFromMx([mx(10, "a.test"), mx(5, "A.test.")], "us.test")).toEqual(["a.test"]);
  });

  it("does not modify its input", () => {
    const records = [mx(20, "b.test"), mx(10, "a.test")];
    primariesFromMx(records, "us.test");
    expect(records).toEqual([mx(20, "b.test"), mx(10, "a.test")]);
  });
});

describe("PrimaryEndpoints with primary: mx", () => {
  let dns: TestDnsServer;
  const config = (extra: Record<string, unknown> = {}) => parseConfig({
    hostname: "mx2.example.test",
    domains: { "example.test": { primary: "mx" }, "static.test": { primary: ["10.0.0.1:2525", "[::1]:25"] } },
    dns: { servers: [dns.address], mxPort: 2526 },
    ...extra,
  });
  const zone = () => ({
    "example.test": { MX: [mx(20, "mx2.example.test"), mx(10, "mx1.example.test"), mx(5, "mx0.example.test")] },
    "mx0.example.test": { A: ["127.0.0.5"], AAAA: ["::1"] },
    "mx1.example.test": { A: ["127.0.0.1", "127.0.0.2"] },
    "mx2.example.test": { A: ["127.0.0.9"] },
  });

  beforeAll(async () => { dns = await startDnsServer(); });
  afterAll(async () => { await dns?.stop(); });

  it("returns a static list as configured, without DNS", async () => {
    dns.zone = zone();
    const before = dns.queries.length;
    expect(await new PrimaryEndpoints(config()).resolve("static.test")).toEqual([{ host: "10.0.0.1", port: 2525 }, { host: "::1", port: 25 }]);
    expect(dns.queries.length).toBe(before);
  });

  it("resolves the exchanges above ours to addresses through dns.servers (A, then AAAA), in MX order", async () => {
    dns.zone = zone();
    const eps = await new PrimaryEndpoints(config()).resolve("example.test", 0);
    expect(eps).toEqual([
      { host: "127.0.0.5", port: 2526 }, { host: "::1", port: 2526 },
      { host: "127.0.0.1", port: 2526 }, { host: "127.0.0.2", port: 2526 },
    ]);
    // the names mxspool would otherwise have handed to the system resolver were asked here
    const asked = dns.queries.map((q) => `${q.type} ${q.name}`);
    expect(asked).toEqual(expect.arrayContaining(["MX example.test", "A mx1.example.test", "AAAA mx1.example.test", "A mx0.example.test"]));
    expect(asked).not.toContain("A mx2.example.test"); // ours is never a primary
  });

  it("is empty when we are the best MX", async () => {
    dns.zone = { "example.test": { MX: [mx(20, "mx2.example.test")] }, "mx2.example.test": { A: ["127.0.0.9"] } };
    expect(await new PrimaryEndpoints(config()).resolve("example.test", 0)).toEqual([]);
  });

  it("skips an exchange without addresses (NXDOMAIN or no A/AAAA) and keeps the others", async () => {
    dns.zone = zone();
    dns.zone["example.test"].MX!.push(mx(1, "gone.example.test"), mx(2, "noaddr.example.test"));
    dns.zone["noaddr.example.test"] = {};
    const eps = await new PrimaryEndpoints(config()).resolve("example.test", 0);
    expect(eps.map((e) => e.host)).toEqual(["127.0.0.5", "::1", "127.0.0.1", "127.0.0.2"]);
  });

  it("caches for maxAge, then sees the zone change", async () => {
    dns.zone = zone();
    const p = new PrimaryEndpoints(config());
    const first = await p.resolve("example.test", 0);
    const n = dns.queries.length;
    dns.zone = { "example.test": { MX: [mx(10, "new.example.test"), mx(20, "mx2.example.test")] }, "new.example.test": { A: ["127.0.0.7"] } };
    expect(await p.resolve("example.test", 60_000)).toEqual(first);
    expect(dns.queries.length).toBe(n);
    expect(await p.resolve("example.test", 0)).toEqual([{ host: "127.0.0.7", port: 2526 }]);
  });

  it("keeps the last known answer through DNS trouble (SERVFAIL on the MX or on every exchange)", async () => {
    dns.zone = zone();
    const p = new PrimaryEndpoints(config());
    const known = await p.resolve("example.test", 0);
    expect(known.length).toBe(4);
    try {
      dns.servfail.add("example.test");
      expect(await p.resolve("example.test", 0)).toEqual(known);
      dns.servfail.clear();
      dns.servfail.add("mx0.example.test");
      dns.servfail.add("mx1.example.test");
      expect(await p.resolve("example.test", 0)).toEqual(known);
      // one exchange (mx1) in trouble: the other one (mx0) still counts
      dns.servfail.delete("mx0.example.test");
      expect(await p.resolve("example.test", 0)).toEqual([{ host: "127.0.0.5", port: 2526 }, { host: "::1", port: 2526 }]);
    } finally {
      dns.servfail.clear();
    }
    // with no answer ever known, trouble is simply no endpoint
    dns.servfail.add("example.test");
    try { expect(await new PrimaryEndpoints(config()).resolve("example.test", 0)).toEqual([]); } finally { dns.servfail.clear(); }
  });

  it("returns nothing for a domain that is not configured", async () => {
    expect(await new PrimaryEndpoints(config()).resolve("other.test")).toEqual([]);
  });

  describe("mailHosts (where a DSN to any sender goes)", () => {
    it("uses the MX hosts above ours, or the domain itself without MX records, on the given port", async () => {
      dns.zone = {
        ...zone(),
        "sender.test": { MX: [mx(10, "in.sender.test")] }, "in.sender.test": { A: ["192.0.2.10"], AAAA: ["2001:db8::10"] },
        "nomx.test": { A: ["192.0.2.20"] },
      };
      const p = new PrimaryEndpoints(config());
      expect(await p.mailHosts("sender.test", 25)).toEqual([{ host: "192.0.2.10", port: 25 }, { host: "2001:db8::10", port: 25 }]);
      expect(await p.mailHosts("nomx.test", 25)).toEqual([{ host: "192.0.2.20", port: 25 }]);
      // one of our domains: its primary, never us (MX 20 is mx2.example.test, our hostname);
      // on port 25 these loopback addresses would be our own default listener (0.0.0.0:25)
      expect((await p.mailHosts("example.test", 2526)).map((e) => e.host)).toEqual(["127.0.0.5", "::1", "127.0.0.1", "127.0.0.2"]);
      expect(await p.mailHosts("example.test", 25)).toEqual([]);
    });

    it("a null MX names nobody; DNS trouble is an error, not an empty answer", async () => {
      dns.zone = { "nullmx.test": { MX: [mx(0, ".")], A: ["192.0.2.30"] } };
      const p = new PrimaryEndpoints(config());
      expect(await p.mailHosts("nullmx.test", 25)).toEqual([]);
      dns.servfail.add("trouble.test");
      try { await expect(p.mailHosts("trouble.test", 25)).rejects.toBeTruthy(); } finally { dns.servfail.clear(); }
    });

    it("never returns one of our own listeners", async () => {
      dns.zone = { "loop.test": { MX: [mx(10, "self.loop.test")] }, "self.loop.test": { A: ["127.0.0.1"] } };
      const p = new PrimaryEndpoints(config({ smtp: { listen: ["0.0.0.0:25"] } }));
      expect(await p.mailHosts("loop.test", 25)).toEqual([]);
      expect(await p.mailHosts("loop.test", 2526)).toEqual([{ host: "127.0.0.1", port: 2526 }]);
    });
  });
});

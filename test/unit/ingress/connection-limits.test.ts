import { describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { parseConfig } from "../../../src/config/load.js";
import { ConnectionLimits, type ConnectionSlot } from "../../../src/ingress/connection-limits.js";
import { SmtpReply } from "../../../src/mail/reply.js";
import { Keyspace } from "../../../src/redis/keyspace.js";

/** A Redis whose rate INCR answers only when the test says so (a stalled Redis). */
function stalledRedis() {
  const pending: (() => void)[] = [];
  let n = 0;
  const redis = {
    multi: () => ({ incr: () => ({ expire: () => ({ exec: () => new Promise((resolve) => pending.push(() => resolve([[null, ++n], [null, 1]]))) }) }) }),
  } as unknown as Redis;
  return { redis, answerAll: () => pending.splice(0).forEach((f) => f()) };
}

function limits(smtp: Record<string, unknown>, redis = stalledRedis().redis, processes = 1) {
  const config = parseConfig({ domains: { "example.test": { primary: ["mx.example.test:25"] } }, smtp: { limitExemptions: [], ...smtp } });
  return new ConnectionLimits(config, redis, new Keyspace("mxspool"), processes);
}

const slot = (t: ConnectionSlot | SmtpReply): ConnectionSlot => { expect(t).not.toBeInstanceOf(SmtpReply); return t as ConnectionSlot; };

describe("connection limits", () => {
  it("counts a connection the moment it is taken, before the rate is known, and refuses the next one over the limit at once", () => {
    const l = limits({ maxConnectionsPerIp: 2, maxConnections: 3, connectionRatePerMinute: 10 });
    slot(l.take("192.0.2.1"));
    slot(l.take("192.0.2.1"));
    expect(l.counts()).toEqual({ total: 2, perIp: { "192.0.2.1": 2 } });
    const r = l.take("192.0.2.1");
    expect(r).toBeInstanceOf(SmtpReply);
    expect(r).toMatchObject({ responseCode: 421, enhanced: "4.7.0", reason: "too-many-connections-ip" });
    slot(l.take("192.0.2.2"));
    expect(l.take("192.0.2.3")).toMatchObject({ responseCode: 421, reason: "too-many-connections" });
    expect(l.counts().total).toBe(3);
  });

  it("releases a slot once however many exit paths call release(), in any order", () => {
    const l = limits({ maxConnectionsPerIp: 2 });
    const a = slot(l.take("192.0.2.1"));
    const b = slot(l.take("192.0.2.1"));
    a.release(); a.release(); a.release();
    expect(a.released).toBe(true);
    expect(l.counts()).toEqual({ total: 1, perIp: { "192.0.2.1": 1 } });
    b.release();
    expect(l.counts()).toEqual({ total: 0, perIp: {} });
  });

  it("gives the slot back whatever order the close and a stalled rate check finish in", async () => {
    const { redis, answerAll } = stalledRedis();
    const l = limits({ maxConnectionsPerIp: 5, connectionRatePerMinute: 100 }, redis);
    // the client resets while its rate INCR waits on Redis: the close releases first
    const early = slot(l.take("192.0.2.1"));
    const earlyRate = l.checkRate(early);
    early.release();
    // the normal order: the rate check answers, then the session closes
    const late = slot(l.take("192.0.2.1"));
    const lateRate = l.checkRate(late);
    answerAll();
    expect(await earlyRate).toBeNull();
    expect(await lateRate).toBeNull();
    late.release();
    early.release(); // the admission path releasing again changes nothing
    expect(l.counts()).toEqual({ total: 0, perIp: {} });
  });

  it("refuses over the per-minute rate, and a Redis error lets the connection in", async () => {
    const { redis, answerAll } = stalledRedis();
    const l = limits({ maxConnectionsPerIp: 10, connectionRatePerMinute: 2 }, redis);
    const verdicts = [1, 2, 3].map(() => l.checkRate(slot(l.take("192.0.2.1"))));
    answerAll();
    expect((await Promise.all(verdicts)).map((v) => v?.reason ?? null)).toEqual([null, null, "rate-limit"]);
    const broken = { multi: () => ({ incr: () => ({ expire: () => ({ exec: () => Promise.reject(new Error("down")) }) }) }) } as unknown as Redis;
    const l2 = limits({ connectionRatePerMinute: 1 }, broken);
    expect(await l2.checkRate(slot(l2.take("192.0.2.1")))).toBeNull();
  });

  it("counts exempt clients in the total but never refuses them nor asks Redis", async () => {
    const noRedis = {} as Redis; // any call would throw
    const config = parseConfig({ domains: { "example.test": { primary: ["mx.example.test:25"] } }, smtp: { maxConnectionsPerIp: 1, maxConnections: 1, connectionRatePerMinute: 1, limitExemptions: ["127.0.0.0/8"] } });
    const l = new ConnectionLimits(config, noRedis, new Keyspace("mxspool"), 1);
    const a = slot(l.take("127.0.0.1"));
    const b = slot(l.take("127.0.0.1"));
    expect(await l.checkRate(b)).toBeNull();
    expect(l.take("192.0.2.1")).toMatchObject({ responseCode: 421, reason: "too-many-connections" });
    a.release(); b.release();
    expect(l.counts()).toEqual({ total: 0, perIp: {} });
  });

  it("enforces each process's share of the node's limits", () => {
    const l = limits({ maxConnectionsPerIp: 3, maxConnections: 10 }, undefined, 2);
    slot(l.take("192.0.2.1"));
    slot(l.take("192.0.2.1"));
    expect(l.take("192.0.2.1")).toMatchObject({ reason: "too-many-connections-ip" }); // ceil(3 / 2) = 2
  });
});

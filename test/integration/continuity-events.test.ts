/**
 * The continuity event store against a real redis-server: events survive as written, list
 * newest first, and when several nodes (each its own connection) see the same change at
 * once, exactly one opens the event and exactly one records each transition.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Keyspace } from "../../src/redis/keyspace.js";
import { EventStore } from "../../src/continuity/event-store.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";

let redis: TestRedis;
const keys = new Keyspace("evtest");

beforeAll(async () => { redis = await startRedis({ persistence: false }); }, 60_000);
afterAll(async () => { await redis?.stop(); });

describe("continuity event store", () => {
  it("lets exactly one of two nodes open the outage of a domain, and exactly one record each transition", async () => {
    const a = new EventStore(redis.client(), keys);
    const b = new EventStore(redis.client(), keys);
    const base = { kind: "outage" as const, domain: "race.test", startedAt: 1000, detectedAt: 2000, summary: "primary down", data: { error: "refused" } };
    for (let round = 0; round < 5; round++) {
      const opened = await Promise.all([a.open(base), b.open(base), a.open(base), b.open(base)]);
      const winners = opened.filter((e) => e !== null);
      expect(winners).toHaveLength(1);
      const id = winners[0]!.id;
      expect((await b.current("outage", "race.test"))?.id).toBe(id);
      const recovered = await Promise.all([a.transition(id, "recovered", { recoveredAt: 3000 }), b.transition(id, "recovered", { recoveredAt: 3001 })]);
      expect(recovered.filter(Boolean)).toHaveLength(1);
      const closed = await Promise.all([b.transition(id, "drained", { drainedAt: 4000, closedAt: 4000, state: "closed", data: { messages: 3 } }),
        a.transition(id, "drained", { drainedAt: 4001, closedAt: 4001, state: "closed", data: { messages: 3 } })]);
      expect(closed.filter(Boolean)).toHaveLength(1);
      const ev = await a.get(id);
      expect(ev).toMatchObject({ id, kind: "outage", domain: "race.test", state: "closed", startedAt: 1000, detectedAt: 2000, data: { error: "refused", messages: 3 } });
      expect([3000, 3001]).toContain(ev!.recoveredAt);
      expect(await a.current("outage", "race.test")).toBeNull();
      expect(Object.keys(await a.transitions(id)).sort()).toEqual(["drained", "opened", "recovered"]);
    }
  });

  it("keeps kinds and domains apart, and lists newest first a page at a time", async () => {
    const s = new EventStore(redis.client(), keys);
    const x = await s.open({ kind: "outage", domain: "x.test", startedAt: 10_000, summary: "x down", data: {} });
    const y = await s.open({ kind: "outage", domain: "y.test", startedAt: 20_000, summary: "y down", data: {} });
    const q = await s.open({ kind: "queue-stale", domain: "x.test", startedAt: 30_000, summary: "x stale", data: {} });
    expect([x, y, q].every((e) => e !== null)).toBe(true);
    const first = await s.list({ limit: 2 });
    expect(first.items.map((e) => e.summary)).toEqual(["x stale", "y down"]);
    const second = await s.list({ limit: 2, cursor: first.next });
    expect(second.items[0]!.summary).toBe("x down");
    expect((await s.list({ limit: 10, kind: "outage", domain: "x.test" })).items.map((e) => e.id)).toContain(x!.id);
    expect((await s.list({ limit: 10, kind: "queue-stale" })).items.map((e) => e.id)).toEqual([q!.id]);
    expect(await s.transition("ev_none", "recovered", {})).toBe(false);
  });

  it("keeps the events across a restart of Redis (AOF)", async () => {
    const durable = await startRedis({ persistence: true });
    try {
      const s = new EventStore(durable.client(), keys);
      const ev = await s.open({ kind: "scanner-down", startedAt: 5, summary: "clamd down", data: { scanner: "clamd" } });
      await durable.kill9();
      await durable.restart();
      const again = new EventStore(durable.client(), keys);
      expect(await again.get(ev!.id)).toMatchObject({ kind: "scanner-down", state: "open", data: { scanner: "clamd" } });
      expect((await again.current("scanner-down"))?.id).toBe(ev!.id);
    } finally { await durable.stop(); }
  }, 90_000);
});

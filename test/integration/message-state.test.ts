/**
 * State changes of one record racing each other, against a real redis-server: a change is
 * computed from a read and written only if the record is still what was read. The races are
 * forced: the read happens, a second connection changes the record, then the first applies.
 * Checked: exactly one change wins, the loser writes nothing (a delivery result only reaches
 * the ledger), every message is in exactly one state index, and the counters reconcile per
 * message and per recipient (accepted = delivered + bounced + deleted + in queue).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { MessageRecords, STATES, type MessageRecord } from "../../src/store/message-records.js";
import { Keyspace } from "../../src/redis/keyspace.js";

const HOUR = 3_600_000;

/** Records whose next read is followed by `meanwhile` (another connection's change) before anything is written. */
class Interleaved extends MessageRecords {
  meanwhile?: () => Promise<unknown>;
  override async get(id: string): Promise<MessageRecord | null> {
    const r = await super.get(id);
    const m = this.meanwhile;
    this.meanwhile = undefined;
    if (m) await m();
    return r;
  }
}

describe("message state changes that race (real redis-server)", () => {
  let server: TestRedis;
  let one: Redis;
  let two: Redis;

  beforeAll(async () => {
    server = await startRedis({ persistence: false });
    one = new Redis({ port: server.port, host: "127.0.0.1", maxRetriesPerRequest: null });
    two = new Redis({ port: server.port, host: "127.0.0.1", maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    one?.disconnect();
    two?.disconnect();
    await server?.stop();
  });

  /** Two views of one spool (own prefix per test): `a` on one connection, `b` on another. */
  const spool = (prefix: string) => ({ a: new Interleaved(one, new Keyspace(prefix)), b: new MessageRecords(two, new Keyspace(prefix)), prefix });

  async function accept(records: MessageRecords, id: string, rcpts: string[]): Promise<void> {
    const m = records.redisMulti();
    records.addAccepted(m, { id, domain: "example.test", from: "s@sender.test", rcpts, subject: id, size: 100, receivedAt: Date.now(), flags: [], addedHeaders: "" }, {});
    await m.exec();
  }

  /** Each message in exactly the state index of its record's state; counters reconcile. */
  async function consistent(records: MessageRecords, prefix: string, ids: string[]): Promise<void> {
    let pending = 0;
    for (const id of ids) {
      const r = (await records.get(id))!;
      const indexed = [];
      for (const s of STATES) if ((await one.zscore(`${prefix}:idx:state:${s}`, id)) !== null) indexed.push(s);
      expect(indexed, id).toEqual([r.state]);
      pending += Object.values(r.outcomes).filter((o) => o.state === "pending").length;
    }
    const c = await records.counts();
    expect(c.accepted).toBe(ids.length);
    expect(c.accepted).toBe(c.delivered + c.bounced + c.deleted + c.state_queued + c.state_deferred + c.state_held);
    expect(c.rcpt_accepted).toBe(c.rcpt_delivered + c.rcpt_bounced + c.rcpt_deleted + pending);
  }

  const types = async (records: MessageRecords, id: string) => (await records.ledger(id)).map((e) => e.type);

  it("hold and delete at once: the delete lands first, the hold is refused and writes nothing", async () => {
    const { a, b, prefix } = spool("hd");
    await accept(a, "HD1", ["x@example.test", "y@example.test"]);
    a.meanwhile = () => b.transition("HD1", "delete", { type: "deleted", actor: "bob", reason: "deleted by bob" }, {}, HOUR);
    const held = await a.transition("HD1", "hold", { type: "held", actor: "alice" });
    expect(held?.refused?.code).toBe("ALREADY_FINAL");
    expect(held?.record.state).toBe("deleted");
    const r = await a.get("HD1");
    expect(r).toMatchObject({ state: "deleted", outcomes: { "x@example.test": { state: "deleted" }, "y@example.test": { state: "deleted" } } });
    expect(await types(a, "HD1")).toEqual(["received", "deleted"]);
    await consistent(a, prefix, ["HD1"]);
  });

  it("a delivery result on a message deleted while the primary answered: kept in the ledger, the message stays deleted", async () => {
    const { a, b, prefix } = spool("cd");
    await accept(a, "CD1", ["x@example.test", "y@example.test"]);
    const known = await a.get("CD1"); // as the worker reads it when the delivery begins
    await b.transition("CD1", "delete", { type: "deleted", actor: "bob", reason: "deleted by bob" }, {}, HOUR);
    const results = [{ rcpt: "x@example.test", outcome: "delivered", response: "250 ok" }, { rcpt: "y@example.test", outcome: "delivered", response: "250 ok" }];
    const state = await a.completeAttempt("CD1", "primary.test:25", results, { retentionMs: HOUR }, known);
    expect(state).toBe("deleted");
    expect((await a.get("CD1"))?.state).toBe("deleted");
    const ledger = await a.ledger("CD1");
    expect(ledger.map((e) => e.type)).toEqual(["received", "deleted", "attempt"]);
    expect(ledger[2]).toMatchObject({ refused: "ALREADY_FINAL", results: [{ rcpt: "x@example.test", outcome: "delivered" }, { rcpt: "y@example.test", outcome: "delivered" }] });
    await consistent(a, prefix, ["CD1"]);
  });

  it("an attempt that defers one recipient while an admin holds the message: recorded, the message stays held", async () => {
    const { a, b, prefix } = spool("ch");
    await accept(a, "CH1", ["x@example.test", "y@example.test"]);
    a.meanwhile = () => b.transition("CH1", "hold", { type: "held", actor: "bob" });
    const results = [{ rcpt: "x@example.test", outcome: "delivered", response: "250 ok" }, { rcpt: "y@example.test", outcome: "temporary", response: "451 later" }];
    expect(await a.completeAttempt("CH1", "primary.test:25", results, { retentionMs: HOUR })).toBe("held");
    expect(await a.get("CH1")).toMatchObject({ state: "held", attempts: 1, outcomes: { "x@example.test": { state: "delivered" }, "y@example.test": { state: "pending" } } });
    await consistent(a, prefix, ["CH1"]);
  });

  it("many changes at once from two connections: every message in one state index, counters reconcile", async () => {
    const { a, b, prefix } = spool("many");
    const ids = Array.from({ length: 8 }, (_, i) => `M${i}`);
    for (const id of ids) await accept(a, id, ["x@example.test", "y@example.test"]);
    const deferOne = [{ rcpt: "x@example.test", outcome: "delivered", response: "250 ok" }, { rcpt: "y@example.test", outcome: "temporary", response: "451 later" }];
    await Promise.all(ids.flatMap((id) => [
      a.transition(id, "hold", { type: "held", actor: "alice" }),
      b.transition(id, "delete", { type: "deleted", actor: "bob" }, {}, HOUR),
      a.completeAttempt(id, "primary.test:25", deferOne, { retentionMs: HOUR }),
      b.transition(id, "expire", { type: "expired", reason: "too old" }, {}, HOUR),
      a.transition(id, "retry", { type: "retry", actor: "alice" }),
    ]));
    await consistent(a, prefix, ids);
  });
});

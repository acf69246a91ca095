/**
 * The end of DATA against a real redis-server, without SMTP: MessageAcceptor writes the
 * bytes, their record and indexes in one MULTI, then adds the delivery job. Checked here: small and spilled (large) messages come back byte for byte
 * through MessageStore.open (with and without the size hint), a message for two domains
 * gets a copy, a record and a job per domain, a job is never found without its bytes,
 * and a failed write leaves nothing behind (no bytes, no record, no job, no index entry). A
 * short last chunk is its own stored frame (no copy of the whole message to join it).
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import type { ConnectionOptions } from "bullmq";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { MessageStore, SPOOL_CHUNK } from "../../src/store/message-store.js";
import { FRAME_HEADER, FRAME_MARK, frameHeader } from "../../src/store/frame-codec.js";
import { MessageRecords } from "../../src/store/message-records.js";
import { DeliveryQueues } from "../../queues/delivery-queue.js";
import { MessageAcceptor, type Envelope } from "../../src/ingress/accept-message.js";
import { Keyspace } from "../../src/redis/keyspace.js";

const PREFIX = "mxspool";
const keys = new Keyspace(PREFIX);
const LIMITS = { maxMessageSize: 10_000_000, maxHeaderSize: 65_536, maxLineLength: 100_000, maxReceivedHeaders: 50 };

function message(bodyBytes: number, tag: string): Buffer {
  const head = `From: <s@sender.test>\r\nTo: <a@one.test>\r\nSubject: ${tag}\r\nMessage-ID: <${tag}@sender.test>\r\n\r\n`;
  const line = Buffer.from("0123456789abcdefghijklmnopqrstuvwxyz\xe9\xe8\r\n", "latin1"); // 8-bit, 40 bytes
  const body = Buffer.alloc(bodyBytes);
  for (let o = 0; o < bodyBytes; o += line.length) line.copy(body, o, 0, Math.min(line.length, bodyBytes - o));
  return Buffer.concat([Buffer.from(head, "latin1"), body.subarray(0, bodyBytes - (bodyBytes % line.length))]);
}

/** The bytes as smtp-server hands them over: in pieces of 64 KB. */
const streamOf = (b: Buffer) => Readable.from((function* () { for (let o = 0; o < b.length; o += 65_536) yield b.subarray(o, o + 65_536); })());

const envelope = (id: string, byDomain: Record<string, string[]>): Envelope => ({
  id, from: "s@sender.test", byDomain: new Map(Object.entries(byDomain)), clientIp: "127.0.0.1", helo: "client.test", smtputf8: false, body8bit: true,
});

describe("accepting into the store (real redis-server)", () => {
  let server: TestRedis;
  let redis: Redis;
  let store: MessageStore;
  let records: MessageRecords;
  let queues: DeliveryQueues;
  let acceptor: MessageAcceptor;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis({ port: server.port, host: "127.0.0.1", maxRetriesPerRequest: null });
    store = new MessageStore(redis, keys, 86_400_000);
    records = new MessageRecords(redis, keys);
    queues = new DeliveryQueues({ host: "127.0.0.1", port: server.port, maxRetriesPerRequest: null } as ConnectionOptions, keys, ["one.test", "two.test"]);
    acceptor = new MessageAcceptor(store, queues, records, "mx2.test", LIMITS);
  });
  afterAll(async () => {
    await queues?.close();
    redis?.disconnect();
    await server?.stop();
  });

  const body = async (id: string, sizeHint?: number): Promise<Buffer | null> => {
    const r = await store.open(id, "", sizeHint);
    if (r === null || Buffer.isBuffer(r)) return r;
    const parts: Buffer[] = [];
    for await (const c of r()) parts.push(c as Buffer);
    return Buffer.concat(parts);
  };

  it("a small message: bytes, record, index and job written together; open() with and without the size hint", async () => {
    const raw = message(10_000, "small");
    const r = await acceptor.accept(streamOf(raw), envelope("SMALL1", { "one.test": ["a@one.test"] }));
    expect(r).toMatchObject({ ok: true, id: "SMALL1", size: raw.length });
    expect((await body("SMALL1"))!.equals(raw)).toBe(true);
    expect((await body("SMALL1", raw.length))!.equals(raw)).toBe(true);
    const rec = await records.get("SMALL1");
    expect(rec).toMatchObject({ state: "queued", domain: "one.test", rcpts: ["a@one.test"], size: raw.length });
    expect(rec!.addedHeaders).toMatch(/^Received: from client\.test/);
    expect(await redis.zscore(`${PREFIX}:idx:state:queued`, "SMALL1")).not.toBeNull();
    const job = await queues.get("one.test").getJob("SMALL1");
    expect(job?.data).toMatchObject({ id: "SMALL1", rcpts: ["a@one.test"], size: raw.length });
    expect(await redis.pttl(keys.messageRaw("SMALL1"))).toBeGreaterThan(0);
  });

  it("a large message (spilled to Redis while it arrived) comes back byte for byte, streamed, even with a wrong size hint", async () => {
    const raw = message(5 * SPOOL_CHUNK + 12_345, "large");
    const r = await acceptor.accept(streamOf(raw), envelope("LARGE1", { "one.test": ["a@one.test"] }));
    expect(r.ok).toBe(true);
    expect(await redis.exists(keys.messagePart("LARGE1"))).toBe(0);
    const opened = await store.open("LARGE1");
    expect(typeof opened).toBe("function"); // streamed, not one Buffer
    expect((await body("LARGE1"))!.equals(raw)).toBe(true);
    expect((await body("LARGE1", 1000))!.equals(raw)).toBe(true);
    expect(await store.open("NO-SUCH-ID", "", 1000)).toBeNull();
  });

  it("a short last chunk (smtp-server's held-back bytes) is framed on its own, as it is, small or spilled; the bytes come back the same", async () => {
    // the chunks as smtp-server hands them over when ".\r\n" arrives in a read of its own
    const inPieces = (b: Buffer, tail: number) => Readable.from([b.subarray(0, b.length - tail), b.subarray(b.length - tail)]);
    const frames = (v: Buffer) => {
      const out: { kind: number; raw: number }[] = [];
      for (let o = FRAME_MARK.length, h = frameHeader(v, o); h; o += FRAME_HEADER + h.storedLength, h = frameHeader(v, o)) out.push({ kind: h.kind, raw: h.rawLength });
      return out;
    };
    const small = message(30_000, "tail-small");
    expect((await acceptor.accept(inPieces(small, 4), envelope("TAIL1", { "one.test": ["a@one.test"] }))).ok).toBe(true);
    expect(frames((await redis.getBuffer(keys.messageRaw("TAIL1")))!)).toEqual([{ kind: 1, raw: small.length - 4 }, { kind: 0, raw: 4 }]);
    expect((await body("TAIL1"))!.equals(small)).toBe(true);
    expect((await body("TAIL1", small.length))!.equals(small)).toBe(true);
    const large = message(SPOOL_CHUNK + 40_000, "tail-large");
    const viaStream = Readable.from([...(function* () { for (let o = 0; o < large.length - 3; o += 65_536) yield large.subarray(o, Math.min(o + 65_536, large.length - 3)); })(), large.subarray(large.length - 3)]);
    expect((await acceptor.accept(viaStream, envelope("TAIL2", { "one.test": ["a@one.test"] }))).ok).toBe(true);
    expect(frames((await redis.getBuffer(keys.messageRaw("TAIL2")))!).at(-1)).toEqual({ kind: 0, raw: 3 });
    expect((await body("TAIL2"))!.equals(large)).toBe(true);
    // a message that is one chunk stays one frame
    const whole = message(30_000, "tail-none");
    expect((await acceptor.accept(Readable.from([whole]), envelope("TAIL3", { "one.test": ["a@one.test"] }))).ok).toBe(true);
    expect(frames((await redis.getBuffer(keys.messageRaw("TAIL3")))!)).toEqual([{ kind: 1, raw: whole.length }]);
  });

  it("a message for two domains: a copy, a record and a job per domain", async () => {
    const raw = message(20_000, "two-domains");
    const r = await acceptor.accept(streamOf(raw), envelope("MULTI1", { "one.test": ["a@one.test", "b@one.test"], "two.test": ["c@two.test"] }));
    expect(r.ok).toBe(true);
    for (const [id, domain, rcpts] of [["MULTI1", "one.test", ["a@one.test", "b@one.test"]], ["MULTI1.2", "two.test", ["c@two.test"]]] as const) {
      expect((await body(id, raw.length))!.equals(raw)).toBe(true);
      expect(await records.get(id)).toMatchObject({ domain, rcpts, state: "queued" });
      expect((await queues.get(domain).getJob(id))?.data.rcpts).toEqual(rcpts);
      expect(await redis.pttl(keys.messageRaw(id))).toBeGreaterThan(0);
    }
  });

  it("every job has its bytes, also when many messages are accepted at once", async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `BURST${i}`);
    const results = await Promise.all(ids.map((id, i) => acceptor.accept(streamOf(message(2_000 + i * 37, id)), envelope(id, { "one.test": [`u${i}@one.test`] }))));
    expect(results.every((r) => r.ok)).toBe(true);
    const jobs = await queues.get("one.test").getJobs(["wait", "delayed", "prioritized"]);
    const burst = jobs.filter((j) => j.id!.startsWith("BURST"));
    expect(burst.length).toBe(200);
    const missing = (await Promise.all(burst.map((j) => redis.exists(keys.messageRaw(j.id!))))).filter((e) => e !== 1).length;
    expect(missing).toBe(0);
  });

  it("a write that fails leaves nothing: no bytes, no record, no job, no index entry, counters unchanged", async () => {
    // the copy for the second domain must go to a fresh key: one that exists makes COPY fail
    await redis.set(keys.messageRaw("FAIL1.2"), "in the way");
    const before = await records.counts();
    const raw = message(5_000, "fail");
    await expect(acceptor.accept(streamOf(raw), envelope("FAIL1", { "one.test": ["a@one.test"], "two.test": ["c@two.test"] }))).rejects.toThrow(/copy/);
    expect(await redis.exists(keys.messageRaw("FAIL1"))).toBe(0);
    expect(await records.get("FAIL1")).toBeNull();
    expect(await records.get("FAIL1.2")).toBeNull();
    expect(await queues.get("one.test").getJob("FAIL1")).toBeUndefined();
    expect(await queues.get("two.test").getJob("FAIL1.2")).toBeUndefined();
    expect(await redis.zscore(`${PREFIX}:idx:all`, "FAIL1")).toBeNull();
    expect(await records.counts()).toEqual(before);
  });
});

/**
 * The whole Redis layout in one table, the hash-slot facts a Redis Cluster move relies on,
 * and a scan that no other file under src/ or queues/ builds a key by hand. The expected
 * strings are the names an existing spool holds: a change here strands its data.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ALERTS_QUEUE, DSN_QUEUE, Keyspace, OUTBOUND_QUEUE, deliveryQueueName } from "../../../src/redis/keyspace.js";

const ks = new Keyspace("mxspool");
const ID = "0LZ3K9QF2A7XH4M8N2PB";
const sha = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

/** Every key pattern the code can write, for sample inputs. */
const LAYOUT: [string, string, string][] = [
  // method                           actual                                          expected
  ["bullPrefixOf", ks.bullPrefixOf(deliveryQueueName("example.test")), "{mxspool}"],
  ["shards", ks.shards().join(","), "0"],
  ["shardOf", String(ks.shardOf(`${ID}.2`)), "0"],
  ["deliveryJob", ks.deliveryJob("example.test", ID), `{mxspool}:delivery-example.test:${ID}`],
  ["outboundActive", ks.outboundActive(), "{mxspool}:outbound:active"],
  ["messageRaw", ks.messageRaw(ID), `mxspool:msg:{${ID}}:raw`],
  ["messageRaw (copy)", ks.messageRaw(`${ID}.2`), `mxspool:msg:{${ID}.2}:raw`],
  ["messagePart", ks.messagePart(ID), `mxspool:msg:{${ID}}:part`],
  ["messageMeta", ks.messageMeta(ID), `mxspool:msg:{${ID}}:meta`],
  ["messageLedger", ks.messageLedger(ID), `mxspool:msg:{${ID}}:ledger`],
  ["indexAll", ks.indexAll(0), "mxspool:idx:all"],
  ["indexPurge", ks.indexPurge(0), "mxspool:idx:purge"],
  ["indexState", ks.indexState(0, "deferred"), "mxspool:idx:state:deferred"],
  ["indexDomain", ks.indexDomain(0, "example.test"), "mxspool:idx:domain:example.test"],
  ["indexRcpt", ks.indexRcpt(0, "Alice@Example.TEST"), "mxspool:idx:rcpt:alice@example.test"],
  ["indexOutbound", ks.indexOutbound(0), "mxspool:idx:direction:outbound"],
  ["counters", ks.counters(0), "mxspool:stats:counters"],
  ["alertStats", ks.alertStats(), "mxspool:stats:alerts"],
  ["rejected", ks.rejected(), "mxspool:stats:rejected"],
  ["attempts", ks.attempts(0), "mxspool:stats:attempts"],
  ["latency", ks.latency(0), "mxspool:stats:latency"],
  ["scanners", ks.scanners(), "mxspool:stats:scanners"],
  ["backupDeferred", ks.backupDeferred(), "mxspool:stats:backupDeferred"],
  ["primary", ks.primary("example.test"), "mxspool:primary:example.test"],
  ["probeChannel", ks.probeChannel(), "mxspool:probe"],
  ["pace", ks.pace("example.test"), "mxspool:pace:example.test"],
  ["primaryFingerprint", ks.primaryFingerprint("example.test"), "mxspool:primary:fp:example.test"],
  ["primaryHistory", ks.primaryHistory("example.test"), "mxspool:primary:fph:example.test"],
  ["connRate", ks.connRate("192.0.2.7", 29_000_000), "mxspool:rate:conn:192.0.2.7:29000000"],
  ["connRate (v6)", ks.connRate("2001:db8::1", 29_000_000), "mxspool:rate:conn:2001:db8::1:29000000"],
  ["backupWindow", ks.backupWindow("example.test", 4_800_000), "mxspool:backup:example.test:4800000"],
  ["recipientCache", ks.recipientCache("example.test", "Bob@Example.test"), "mxspool:rcpt:{example.test}:bob@example.test"],
  ["traffic", ks.traffic("example.test", 300, 4_900_000), "mxspool:traffic:{example.test}:300:4900000"],
  ["baselineTurn", ks.baselineTurn("example.test", 5_900_000), "mxspool:traffic:{example.test}:turn:5900000"],
  ["traffic (global)", ks.traffic("*", 300, 7), "mxspool:traffic:{*}:300:7"],
  ["trafficTotals", ks.trafficTotals("example.test"), "mxspool:traffic:{example.test}:total"],
  ["dsnPending", ks.dsnPending(ID, "failed"), `mxspool:dsn:{${ID}}:failed`],
  ["dsnPendingRcpts", ks.dsnPendingRcpts(ID, "delayed"), `mxspool:dsn:{${ID}}:delayed:rcpts`],
  ["format", ks.format(), "mxspool:format"],
  ["replicaAck", ks.replicaAck(), "mxspool:replica-ack"],
  ["replicaAckOn", `${ks.replicaAckOn({ message: ID })} ${ks.replicaAckOn({ queue: "dsn" })}`, "mxspool:replica-ack mxspool:replica-ack"],
  ["spoolPatterns", ks.spoolPatterns().join(" "), "mxspool:* {mxspool}:*"],
  ["sweepDelayWarned", ks.sweepDelayWarned(), "mxspool:sweep:delayWarnedUpTo"],
  ["sweepOrphansChecked", ks.sweepOrphansChecked(), "mxspool:sweep:orphansCheckedUpTo"],
  ["continuityEvent", ks.continuityEvent("ev_1"), "mxspool:cont:ev:ev_1"],
  ["continuityIndex", ks.continuityIndex(), "mxspool:cont:idx"],
  ["continuityOpen", ks.continuityOpen("outage", "example.test"), "mxspool:cont:open:outage:example.test"],
  ["continuityStats", ks.continuityStats(), "mxspool:cont:stats"],
  ["continuityOpen (no domain)", ks.continuityOpen("scanner-down"), "mxspool:cont:open:scanner-down:-"],
  ["webmailSession", ks.webmailSession("tok"), `mxspool:webmail:session:${sha("tok")}`],
  ["webmailLogin fail acct", ks.webmailLogin("fail", "acct", "a@example.test"), `mxspool:webmail:fail:acct:${sha("a@example.test").slice(0, 32)}`],
  ["webmailLogin lock ip", ks.webmailLogin("lock", "ip", "192.0.2.7"), `mxspool:webmail:lock:ip:${sha("192.0.2.7").slice(0, 32)}`],
  ["consoleSession", ks.consoleSession("tok"), `mxspool:console:session:${sha("tok")}`],
  ["consoleLogin fail acct", ks.consoleLogin("fail", "acct", "admin"), `mxspool:console:fail:acct:${sha("admin").slice(0, 32)}`],
  ["consoleSample", ks.consoleSample(42), "mxspool:console:sample:42"],
  ["drillLast", ks.drillLast("example.test"), "mxspool:drill:last:example.test"],
  ["drillLastPassed", ks.drillLastPassed("example.test"), "mxspool:drill:passed:example.test"],
  ["drillLock", ks.drillLock(42), "mxspool:drill:lock:42"],
  ["outboundMessage", ks.outboundMessage("ID1"), "mxspool:out:{ID1}:msg"],
  ["outboundSent", ks.outboundSent("A@example.test"), "mxspool:out:sent:a@example.test"],
  ["outboundRate", ks.outboundRate("*", 7), "mxspool:rate:out:*:7"],
];

/** Redis Cluster's hash slot: CRC16 (XMODEM) of the key, or of its first non-empty {tag}, mod 16384. */
function slot(key: string): number {
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const b of Buffer.from(key)) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

describe("the Redis keyspace", () => {
  it.each(LAYOUT)("names %s as it always has", (_name, actual, expected) => {
    expect(actual).toBe(expected);
  });

  it("covers every key method of the Keyspace in the layout table", () => {
    const methods = Object.getOwnPropertyNames(Keyspace.prototype).filter((m) => m !== "constructor" && !m.startsWith("key") && !["index", "own", "sharded", "msg"].includes(m));
    const listed = new Set(LAYOUT.map(([name]) => name.split(" ")[0]));
    expect(methods.filter((m) => !listed.has(m))).toEqual([]);
  });

  it("names the queues BullMQ keeps under the bull prefix", () => {
    expect(deliveryQueueName("example.test")).toBe("delivery-example.test");
    expect(DSN_QUEUE).toBe("dsn");
    expect(ALERTS_QUEUE).toBe("alerts");
    expect(OUTBOUND_QUEUE).toBe("outbound");
  });

  it("keeps another prefix apart", () => {
    const other = new Keyspace("big");
    expect([other.messageRaw(ID), other.indexAll(0), other.bullPrefixOf(DSN_QUEUE)]).toEqual([`big:msg:{${ID}}:raw`, "big:idx:all", "{big}"]);
  });
});

describe("hash slots for Redis Cluster", () => {
  it("computes Redis's slot (known values)", () => {
    expect(slot("foo")).toBe(12182);
    expect(slot("{user1000}.following")).toBe(slot("{user1000}.followers"));
  });

  it("puts all of one message's keys in one slot", () => {
    const keys = [ks.messageRaw(ID), ks.messagePart(ID), ks.messageMeta(ID), ks.messageLedger(ID)];
    expect(new Set(keys.map(slot)).size).toBe(1);
    expect(slot(ks.messageRaw(ID))).toBe(slot(ID));
  });

  it("spreads messages over slots (each has its own tag)", () => {
    const ids = Array.from({ length: 20 }, (_, i) => `${ID.slice(0, 18)}${String(i).padStart(2, "0")}`);
    expect(new Set(ids.map((id) => slot(ks.messageMeta(id)))).size).toBeGreaterThan(10);
  });

  it("puts every BullMQ key (queues, jobs) in the prefix's slot", () => {
    const bull = [ks.deliveryJob("example.test", ID), ks.deliveryJob("other.test", "X"), `${ks.bullPrefixOf(DSN_QUEUE)}:${DSN_QUEUE}:wait`, `${ks.bullPrefixOf(deliveryQueueName("example.test"))}:${deliveryQueueName("example.test")}:meta`];
    expect(new Set(bull.map(slot))).toEqual(new Set([slot("mxspool")]));
  });

  it("keeps one DSN gathering in one slot", () => {
    expect(slot(ks.dsnPending(ID, "failed"))).toBe(slot(ks.dsnPendingRcpts(ID, "failed")));
  });

  it("keeps one domain's traffic chunks in one slot, with its recipient cache", () => {
    const keys = [ks.traffic("example.test", 300, 1), ks.traffic("example.test", 300, 99), ks.trafficTotals("example.test"), ks.recipientCache("example.test", "a@example.test")];
    expect(new Set(keys.map(slot)).size).toBe(1);
  });
});

/**
 * A Redis key literal, outside src/redis/keyspace.ts, is any code line (comments skipped) with:
 * - a string or template literal holding a key segment of ours — `:msg:`, `:idx:`, `:stats:`,
 *   `:rate:`, `:primary:`, `:pace:`, `:dsn:`, `:rcpt:`, `:sweep:`, `:webmail:`, `:cont:`, `:traffic:`, or ending in `:probe`;
 * - a template that glues a segment to a prefix (`${prefix}:`, `${this.prefix}:`, `${x.prefix}:`;
 *   a prefix named in a message, `(prefix ${keys.prefix})`, is no key);
 * - `redis.prefix` anywhere but `new Keyspace(config.redis.prefix)` (the composition root);
 * - a hand-made BullMQ prefix: `bullPrefix(` or a `{${` template.
 */
const ROOT = path.resolve(import.meta.dirname, "../../..");
const KEYSPACE = "src/redis/keyspace.ts";
const LITERAL_RULES: [string, RegExp][] = [
  ["key segment in a literal", /["'`][^"'`\n]*:(msg|idx|stats|rate|primary|pace|dsn|rcpt|sweep|webmail|cont|traffic):/],
  ["probe channel literal", /["'`][^"'`\n]*:probe["'`]/],
  ["prefix glued to a key segment", /\$\{[\w.]*prefix\}:/i],
  ["redis.prefix outside the Keyspace", /redis\.prefix(?<!new Keyspace\(config\.redis\.prefix)/],
  ["hand-made BullMQ prefix", /bullPrefix\(|`\{\$\{/],
];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(rel);
    return /\.(ts|js|mjs)$/.test(e.name) ? [rel] : [];
  });
}

/** `file:line: rule: text` for each key literal outside the Keyspace. */
function keyLiterals(files: string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    if (file === KEYSPACE) continue;
    fs.readFileSync(path.join(ROOT, file), "utf8").split("\n").forEach((line, i) => {
      const code = line.trim();
      if (code.startsWith("*") || code.startsWith("//") || code.startsWith("/*")) return;
      for (const [rule, re] of LITERAL_RULES) {
        if (re.test(line.replace(/new Keyspace\(config\.redis\.prefix\)/g, ""))) found.push(`${file}:${i + 1}: ${rule}: ${code}`);
      }
    });
  }
  return found;
}

describe("one keyspace", () => {
  it("finds a key literal when one is written (the scan works)", () => {
    const samples = ["const k = `${this.prefix}:idx:${name}`;", "redis.get(`${prefix}:stats:rejected`)", "x(config.redis.prefix)", "prefix: bullPrefix(p)", "`mxspool:probe`", "`${keys.prefix}:format`"];
    for (const s of samples) expect(LITERAL_RULES.some(([, re]) => re.test(s)), s).toBe(true);
    expect(LITERAL_RULES.some(([, re]) => re.test("const keys = new Keyspace(config.redis.prefix);".replace(/new Keyspace\(config\.redis\.prefix\)/g, "")))).toBe(false);
  });

  it("builds every Redis key in src/redis/keyspace.ts (no key literal under src/ or queues/)", () => {
    const files = [...sourceFiles("src"), ...sourceFiles("queues")];
    expect(files).toContain(KEYSPACE);
    expect(keyLiterals(files), "build these keys with the Keyspace (src/redis/keyspace.ts)").toEqual([]);
  });
});

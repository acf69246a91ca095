/**
 * mxspool on a real Redis Cluster (3 masters started by the test, test/helpers/redis-cluster.ts),
 * one `mxspool start` process with every role and `redis.cluster`, two domains (a message to
 * both is stored once with a copy per domain). With the primary down: the 250s, the keys of
 * one message (and of its copy) in one slot, the keys spread over more than one master (the
 * per-master DBSIZE is printed), the admin API paging over every shard and the webmail inbox;
 * then the primary comes up and the queue drains to it, every message once per domain. Last,
 * the features written for one Redis: GET /api/traffic and /metrics (traffic, outbound gauges),
 * a webmail send to a colleague and to an outside MX (the outbound queue, DNS by a test server)
 * listed with direction=outbound, the admin console's overview; and no *_FAILED / *_ERROR line.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisCluster, type TestCluster } from "../helpers/redis-cluster.js";
import { startWebmailStack, WebClient, mail, type WebmailStack } from "../helpers/webmail-stack.js";
import type { TestRedis } from "../helpers/redis-server.js";
import { freePort, waitFor } from "../helpers/net.js";
import { startDnsServer, type TestDnsServer } from "../helpers/dns-server.js";
import { RecordingPrimary } from "../helpers/recording-primary.js";
import { Keyspace, deliveryQueueName } from "../../src/redis/keyspace.js";

const PREFIX = "cl";
const ks = new Keyspace(PREFIX, true);
const PW = "alice-secret-password";
const COUNT = 24;

describe("Redis Cluster (3 masters)", () => {
  let cluster: TestCluster;
  let s: WebmailStack;
  let token: string;
  let dns: TestDnsServer;
  let outside: RecordingPrimary;
  /** testId → queue id, in sending order (oldest first) */
  const ids = new Map<string, string>();
  const twoDomains = (i: number) => i % 4 === 0;

  const api = async (p: string) => {
    const res = await fetch(s.base + p, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: await res.json() as any };
  };

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    // outbound mail to an outside domain: its MX is a recording peer
    outside = new RecordingPrimary({ port: await freePort() });
    await outside.start();
    dns = await startDnsServer({ "remote.test": { MX: [{ priority: 10, exchange: "mx.remote.test" }] }, "mx.remote.test": { A: ["127.0.0.1"] } });
    // the stack's own redis-server is not wanted: redis.cluster replaces redis.url
    s = await startWebmailStack({ redis: { url: "redis://unused" } as TestRedis, config: {
      redis: { cluster: cluster.nodes, prefix: PREFIX }, outbound: { enabled: true, mxPort: outside.port }, dns: { servers: [`127.0.0.1:${dns.port}`] }, admin: { sampleEvery: "1s" },
    } });
    token = fs.readFileSync(path.join(s.mx.dir, "data", "admin.token"), "utf8").trim();
    await s.addUser("alice@example.test", PW);
    await s.addUser("bob@example.test", PW);
    for (let i = 0; i < COUNT; i++) {
      const to = twoDomains(i) ? ["alice@example.test", "zed@other.test"] : ["alice@example.test"];
      const testId = `cl-${i}`;
      ids.set(testId, await s.send("s@sender.test", to, await mail({ from: "s@sender.test", to, subject: `Cluster ${i}`, text: `n ${i}`, date: new Date(Date.now() - (COUNT - i) * 1000) })));
    }
  }, 180_000);

  afterAll(async () => {
    await s?.stop();
    await cluster?.stop();
    await outside?.stop();
    await dns?.stop();
  });

  it("accepts with the primary down and keeps the keys of one message (and its copy) in one slot", async () => {
    expect(ids.size).toBe(COUNT);
    const node = cluster.node(cluster.ports[0]!);
    for (const [i, id] of [...ids.values()].entries()) {
      const copy = twoDomains(i) ? [`${id}.2`] : [];
      const keys = [id, ...copy].flatMap((x) => [ks.messageRaw(x), ks.messageMeta(x), ks.messageLedger(x)]);
      const shard = ks.shardOf(id);
      keys.push(ks.indexAll(shard), ks.indexState(shard, "queued"), ks.indexDomain(shard, "example.test"), ks.indexRcpt(shard, "alice@example.test"), ks.counters(shard));
      const slots = new Set(await Promise.all(keys.map((k) => node.cluster("KEYSLOT", k) as Promise<number>)));
      expect(slots.size, keys.join(" ")).toBe(1);
    }
    // and they exist where the Cluster keeps that slot (a cluster client follows MOVED)
    const first = [...ids.values()][0]!;
    const { Cluster } = await import("ioredis");
    const client = new Cluster(cluster.nodes.map((n) => ({ host: "127.0.0.1", port: Number(n.split(":")[1]) })));
    try {
      expect(await Promise.all([client.exists(ks.messageRaw(first)), client.exists(ks.messageMeta(first)), client.exists(ks.messageLedger(first)), client.exists(ks.messageRaw(`${first}.2`))])).toEqual([1, 1, 1, 1]);
      expect(await client.exists(ks.deliveryJob("other.test", `${first}.2`))).toBe(1);
    } finally {
      client.disconnect();
    }
  });

  it("spreads the spool over more than one master (per-master key counts)", async () => {
    const sizes = await Promise.all(cluster.ports.map((p) => cluster.node(p).dbsize()));
    console.log(`Redis Cluster: keys per master after ${COUNT} messages: ${cluster.ports.map((p, i) => `${p}=${sizes[i]}`).join(", ")}`);
    expect(sizes.filter((n) => n > 0).length).toBeGreaterThan(1);
    // the two delivery queues have their own slots
    const node = cluster.node(cluster.ports[0]!);
    const [a, b] = await Promise.all(["example.test", "other.test"].map((d) => node.cluster("KEYSLOT", ks.bullPrefixOf(deliveryQueueName(d))) as Promise<number>));
    expect(a).not.toBe(b);
  });

  it("lists every message once, newest first, through the admin API paging over the shards", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const r = await api(`/api/messages?limit=5${cursor ? `&cursor=${cursor}` : ""}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((m: { id: string }) => m.id));
      cursor = r.body.next;
      if (!cursor) break;
    }
    const copies = [...ids.values()].filter((_, i) => twoDomains(i)).map((id) => `${id}.2`);
    expect(seen.filter((id) => !id.includes("."))).toEqual([...ids.values()].reverse());
    expect(seen.length).toBe(COUNT + copies.length);
    expect(new Set(seen)).toEqual(new Set([...ids.values(), ...copies]));
    const status = await api("/api/messages?domain=other.test&limit=100");
    expect(status.body.items.map((m: { id: string }) => m.id).sort()).toEqual(copies.sort());
  });

  it("shows the inbox in the webmail", async () => {
    const c = new WebClient(s.base);
    expect((await c.login("alice@example.test", PW)).status).toBe(303);
    const page = await (await c.get("/")).text();
    const listed = [...page.matchAll(/data-id="([^"]+)"/g)].map((m) => m[1]);
    expect(listed.length).toBeGreaterThan(0);
    // newest first, all of them alice's
    expect(listed).toEqual([...ids.values()].reverse().slice(0, listed.length));
  });

  it("drains to the primary once it is up: every message once per domain, the counters add up over the shards", async () => {
    await s.primary.start();
    const expected = COUNT + [...ids.keys()].filter((_, i) => twoDomains(i)).length;
    await waitFor("the drain", () => s.primary.received.length >= expected, 120_000, 200);
    const perSubject = new Map<string, number>();
    for (const r of s.primary.received) {
      const subject = /^Subject: (.*)$/m.exec(r.body)?.[1] ?? "";
      perSubject.set(subject, (perSubject.get(subject) ?? 0) + 1);
    }
    for (let i = 0; i < COUNT; i++) expect(perSubject.get(`Cluster ${i}`), `Cluster ${i}`).toBe(twoDomains(i) ? 2 : 1);
    await waitFor("every record delivered", async () => (await api("/api/status")).body.totals.delivered === expected || undefined, 30_000, 200);
    const status = (await api("/api/status")).body;
    expect(status.totals).toMatchObject({ accepted: expected, delivered: expected });
    expect((await api("/api/messages?state=delivered&limit=100")).body.items).toHaveLength(expected);
    // the outage report reads every spooled record (HMGET of records on several masters)
    const outage = await waitFor("the outage of example.test closed", async () => (await api("/api/events?limit=50")).body.items
      .find((e: { kind: string; domain: string; state: string }) => e.kind === "outage" && e.domain === "example.test" && e.state === "closed"), 30_000, 200);
    expect(outage.data.spooled.messages).toBe(COUNT);
    expect(outage.data.facts).toMatchObject({ messages: COUNT, delivered: COUNT, waiting: 0 });
  });

  // the features written for one Redis: traffic series, outbound mail, the admin console
  it("serves the traffic series, /metrics, outbound mail and the admin console, logging no error", async () => {
    const hour = 3_600_000, now = Date.now();
    const accepted = (body: { points?: { accepted: number }[] }) => (body.points ?? []).reduce((a, p) => a + p.accepted, 0);
    const traffic = await waitFor("the accepted counts (written once a second)", async () => {
      const r = await api(`/api/traffic?domain=example.test&from=${now - hour}&to=${now + hour}&step=${2 * hour}&metrics=accepted`);
      return r.status !== 200 || accepted(r.body) >= COUNT ? r : undefined;
    }, 10_000, 200);
    expect(traffic.status, JSON.stringify(traffic.body)).toBe(200);
    expect(traffic.body.points.reduce((a: number, p: { accepted: number }) => a + p.accepted, 0)).toBe(COUNT);
    // a user sends to a colleague (webmail compose): spooled at once, listed as outbound
    const web = new WebClient(s.base);
    expect((await web.login("alice@example.test", PW)).status).toBe(303);
    const form = new FormData();
    form.set("_csrf", await web.csrf("/compose"));
    for (const [k, v] of [["to", "bob@example.test, carol@remote.test"], ["subject", "Cluster outbound"], ["body", "sent over the cluster"]]) form.set(k, v!);
    const cookie = [...web.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const sent = await fetch(`${s.base}/compose`, { method: "POST", body: form, redirect: "manual", headers: { origin: s.base, cookie } });
    expect(sent.status, await sent.text()).toBe(303);
    await waitFor("OUTBOUND_ACCEPTED", () => s.mx.events("OUTBOUND_ACCEPTED").length > 0, 30_000);
    const out = await api("/api/messages?direction=outbound&limit=10");
    expect(out.status).toBe(200);
    expect(out.body.items.map((m: { subject: string; direction: string }) => [m.subject, m.direction])).toContainEqual(["Cluster outbound", "outbound"]);
    // the outside recipient's copy goes through the outbound queue (its own slot) to the outside MX
    await waitFor("the outside MX", () => outside.received.length > 0, 60_000, 200);
    expect(outside.received[0]!.rcpts).toEqual(["carol@remote.test"]);
    // every outbound record final (the primary is up): the gauge below reads no job in flight
    const outItems = await waitFor("outbound delivered", async () => {
      const items = (await api("/api/messages?direction=outbound&limit=10")).body.items as { state: string }[];
      return items.length >= 2 && items.every((m) => m.state === "delivered") ? items : undefined;
    }, 60_000, 200);
    const metrics = await fetch(`${s.base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    const text = await metrics.text();
    expect(metrics.status, text.slice(0, 300)).toBe(200);
    expect(text).toContain(`mxspool_traffic_total{domain="example.test",kind="accepted",reason=""} ${COUNT}`);
    // the colleague's copy (and the sender's own copy): as many as the API lists
    const outbound = [...text.matchAll(/^mxspool_outbound_messages\{state="\w+"\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(outbound).toBe(outItems.length);
    // the admin console's overview, after a login with the admin token
    const c = new WebClient(s.base);
    const login = await c.post("/admin/login", { _csrf: await c.csrf("/admin/login"), secret: token });
    expect(login.status).toBe(303);
    const overview = await c.get("/admin");
    expect(overview.status, (await overview.clone().text()).slice(0, 300)).toBe(200);
    await c.get("/admin/charts");
    // and nothing of this logged an error (TRAFFIC_WRITE_FAILED, CONSOLE_ERROR, CROSSSLOT, ...)
    // (TRAFFIC_WRITE_FAILED is a warning: any *_FAILED or *_ERROR event counts, and every ERROR-level line)
    const trouble = s.mx.logs.filter((l) => l.level >= 50 || /_(FAILED|ERROR)$/.test(String(l.event ?? "")) || /CROSSSLOT|same slots allocation/i.test(JSON.stringify(l)));
    expect(trouble.map((l) => JSON.stringify(l))).toEqual([]);
  });
});

/**
 * redis.minReplicasAcked on Cluster: WAIT covers only the master it is sent to, so the accept
 * WAITs on every master it wrote — the records' shard and the delivery queue's. The prefix
 * "ack" puts the global tag {ack} on the third master and example.test's queue on the first
 * (asserted below): stopping only the first master's replica must turn the 250 into a 451, which
 * one WAIT on the global marker's master would not.
 */
describe("Redis Cluster with replicas: the 250 waits for every master written", () => {
  let cluster: TestCluster;
  let s: WebmailStack;
  const ack = new Keyspace("ack", true);

  beforeAll(async () => {
    cluster = await startRedisCluster(3, 1);
    s = await startWebmailStack({ redis: { url: "redis://unused" } as TestRedis, config: { redis: { cluster: cluster.nodes, prefix: "ack", minReplicasAcked: 1, replicaAckTimeout: "1s" } } });
  }, 180_000);

  afterAll(async () => {
    await s?.stop();
    await cluster?.stop();
  });

  it("answers 250 with the replicas up, and 451 4.3.0 when the delivery queue's master has no replica acknowledging", async () => {
    const to = ["alice@example.test"];
    // right after start-up the cluster client may still be settling: MAIL answers 451 4.3.0 then, and a sender retries
    const first = await waitFor("a first 250 with the replicas up", async () => {
      try { return await s.send("s@sender.test", to, await mail({ from: "s@sender.test", to, subject: "acked", text: "a" })); } catch (err) {
        if (/451 4\.3\.0/.test((err as Error).message)) return undefined;
        throw err;
      }
    }, 30_000, 500);
    expect(first).toMatch(/^[0-9A-Z]{20}$/);
    const node = cluster.node(cluster.ports[0]!);
    const queueSlot = await node.cluster("KEYSLOT", ack.bullPrefixOf(deliveryQueueName("example.test"))) as number;
    const globalSlot = await node.cluster("KEYSLOT", ack.replicaAck()) as number;
    const [queueReplicas, globalReplicas] = await Promise.all([cluster.replicasOfSlot(queueSlot), cluster.replicasOfSlot(globalSlot)]);
    expect(queueReplicas).toHaveLength(1);
    expect(globalReplicas).not.toEqual(queueReplicas); // two different masters
    const pid = cluster.pid(queueReplicas[0]!);
    process.kill(pid, "SIGSTOP");
    let reply: string;
    try {
      reply = await s.send("s@sender.test", to, await mail({ from: "s@sender.test", to, subject: "unacked", text: "u" })).catch((e: Error) => e.message);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    console.log(`Redis Cluster, the queue master's replica stopped: ${reply}`);
    expect(reply).toMatch(/451 4\.3\.0/);
  });
});

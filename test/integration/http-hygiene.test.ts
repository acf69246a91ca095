/**
 * The HTTP listener's bounds against a real mxspool process, with raw sockets and the default
 * config (http.headersTimeout 10 s, http.maxConnections 256): headers trickled a line every
 * 500 ms are cut within the timeout plus a second or two (Node's default 30 s check interval
 * cut them only after ~33 s), and connections over the cap are closed at once while the
 * ones under it stay; once they are gone a normal request gets 200.
 */
import net from "node:net";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { MxspoolProcess } from "../helpers/mxspool-process.js";
import { testMxspoolConfig } from "../helpers/mxspool-config.js";

const TOKEN = "hygiene-admin-token-0123456";
const MAX_CONNECTIONS = 256; // the default of http.maxConnections

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.on("error", () => { /* a refused or reset connection shows as "close" */ });
    s.once("connect", () => resolve(s));
    s.once("close", () => resolve(s));
  });
}

/** GET path on a fresh connection (no keep-alive agent, so no connection of ours lingers). */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      let body = "";
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error("no answer in 10 s")));
  });
}

describe("HTTP hygiene", () => {
  let redis: TestRedis;
  let mx: MxspoolProcess;
  let httpPort: number;

  beforeAll(async () => {
    redis = await startRedis();
    httpPort = await freePort();
    mx = new MxspoolProcess(await testMxspoolConfig(
      { smtpPort: await freePort(), redisUrl: redis.url, primaryPort: await freePort(), processes: 1 },
      { http: { listen: `127.0.0.1:${httpPort}`, adminToken: TOKEN } },
    ));
    await mx.start();
  });

  afterAll(async () => {
    await mx?.stop();
    await redis?.stop();
    mx?.cleanup();
  });

  it("closes a connection whose headers trickle in a line every 500 ms soon after headersTimeout (10 s), not after 33 s", async () => {
    const s = await connect(httpPort);
    let closed = false;
    let answer = "";
    s.on("data", (d: Buffer) => { answer += d.toString("latin1"); });
    s.on("close", () => { closed = true; });
    s.write("GET /api/health HTTP/1.1\r\nHost: mx2.example.test\r\n");
    // at most 40 lines, 20 s: the old server (timeouts checked every 30 s) was still reading then
    for (let i = 0; i < 40 && !closed; i++) {
      await sleep(500);
      if (!closed) s.write(`X-Trickle-${i}: ${"a".repeat(20)}\r\n`);
    }
    const open = !closed;
    s.destroy();
    expect(open, "the connection was still open after 20 s of trickled headers").toBe(false);
    expect(answer === "" || /^HTTP\/1\.1 408/.test(answer), answer.slice(0, 100)).toBe(true);
  });

  it("keeps at most http.maxConnections connections: the extra ones are closed at once, and afterwards a request gets 200", async () => {
    const EXTRA = 6;
    const socks: net.Socket[] = [];
    const closedAt = new Set<number>();
    try {
      for (let i = 0; i < MAX_CONNECTIONS + EXTRA; i++) {
        const s = await connect(httpPort);
        s.on("close", () => closedAt.add(i));
        if (s.destroyed) closedAt.add(i);
        socks.push(s);
      }
      await waitFor(`${EXTRA} connections over the cap to be closed`, () => closedAt.size >= EXTRA, 8_000);
      // the ones under the cap are still open (idle sockets are only cut by headersTimeout, 10 s)
      expect([...closedAt].filter((i) => i < MAX_CONNECTIONS)).toEqual([]);
      expect(closedAt.size).toBe(EXTRA);
    } finally {
      for (const s of socks) s.destroy();
    }
    const health = await waitFor("a request to succeed once our connections are gone", async () => {
      const r = await get(httpPort, "/api/health");
      return r.status === 200 ? r : undefined;
    }, 15_000);
    expect(JSON.parse(health.body).status).toMatch(/^(ok|degraded)$/);
    expect(mx.events("HTTP_CONNECTIONS_FULL").length).toBeGreaterThanOrEqual(1);
  });
});

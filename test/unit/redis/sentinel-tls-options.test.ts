/**
 * redis.tls and redis.sentinelTls reach the right ioredis options with redis.sentinels:
 * ioredis's `tls` applies to the master and replicas the sentinels name only together with
 * enableTLSForSentinelMode, and `sentinelTLS` is TLS to the sentinels themselves. Before, the
 * sentinels' setting turned on TLS to the master and nothing turned it on for the sentinels.
 */
import { describe, expect, it } from "vitest";
import { configuredTarget, redisOptions } from "../../../src/redis/connection.js";
import type { Config } from "../../../src/config/schema.js";

const optionsFor = (tls: boolean, sentinelTls: boolean) => {
  const target = configuredTarget({ sentinels: ["10.0.0.1:26379"], name: "mxspool", tls, sentinelTls, minReplicasAcked: 1, replicaAckTimeout: 2000, prefix: "mxspool" } as unknown as Config["redis"]);
  const o = redisOptions(target as Parameters<typeof redisOptions>[0]);
  return { master: Boolean(o.tls && o.enableTLSForSentinelMode), sentinels: Boolean(o.sentinelTLS) };
};

describe("TLS options with redis.sentinels", () => {
  it.each([
    [false, false, { master: false, sentinels: false }],
    [true, false, { master: true, sentinels: false }],
    [false, true, { master: false, sentinels: true }],
    [true, true, { master: true, sentinels: true }],
  ])("redis.tls %s, redis.sentinelTls %s", (tls, sentinelTls, expected) => {
    expect(optionsFor(tls, sentinelTls)).toEqual(expected);
  });
});

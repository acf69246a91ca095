/**
 * "250 only once `minReplicasAcked` replicas hold the message" (redis.minReplicasAcked).
 * Redis WAIT blocks until the replicas have acknowledged the replication offset of the
 * *calling connection's* last write; the message's bytes, records (our MULTI) and jobs
 * (BullMQ's own connection) were written on other connections. So each round writes a marker
 * (INCR) on this connection after those writes returned, and WAITs for it: the marker's offset
 * is past every write that completed before it, whichever connection made it.
 * Rounds are group commits: callers that arrive while a round is in flight share the next one,
 * so one blocked connection serves every session of the process. A round that times out or
 * fails resolves its callers with false: the caller answers 451 4.3.0 and promises nothing.
 * WAIT is not consensus: see the README's high-availability section for what it guarantees.
 * Redis Cluster: WAIT covers the master it is sent to. The caller names the markers of every
 * shard it wrote (Keyspace.replicaAck(tag) — the message's shard, each job's queue); each marker
 * key routes its round to that shard's master, and confirm() is true only when all are.
 */
import type { Redis } from "ioredis";
import { deliveryQueueName, type Keyspace } from "./keyspace.js";

type Waiter = (acked: boolean) => void;

export class ReplicaAck {
  /** Per marker key: the callers waiting for its next round, and whether one is in flight. */
  private readonly rounds = new Map<string, { waiting: Waiter[]; running: boolean }>();

  /** `redis`: a connection of its own (WAIT blocks it for up to `timeoutMs`). */
  constructor(private readonly redis: Redis, private readonly keys: Keyspace, readonly replicas: number, private readonly timeoutMs: number) {}

  /**
   * Resolves true once `replicas` replicas hold every write that returned before this call.
   * `markers`: the marker keys of the shards written (default: the one global marker, which is
   * every write's master on a single Redis or Sentinel).
   */
  async confirm(markers: string[] = [this.keys.replicaAck()]): Promise<boolean> {
    if (this.replicas <= 0) return true;
    const acked = await Promise.all([...new Set(markers)].map((m) => this.confirmOn(m)));
    return acked.every(Boolean);
  }

  /** After an accept: every master it wrote — the records' shard and each job's queue (one marker on a single Redis). */
  confirmMessage(id: string, domains: string[]): Promise<boolean> {
    return this.confirm([this.keys.replicaAckOn({ message: id }), ...domains.map((d) => this.keys.replicaAckOn({ queue: deliveryQueueName(d) }))]);
  }

  private confirmOn(marker: string): Promise<boolean> {
    let r = this.rounds.get(marker);
    if (!r) this.rounds.set(marker, r = { waiting: [], running: false });
    const round = r;
    return new Promise((resolve) => {
      round.waiting.push(resolve);
      if (!round.running) void this.round(marker, round);
    });
  }

  private async round(marker: string, r: { waiting: Waiter[]; running: boolean }): Promise<void> {
    r.running = true;
    while (r.waiting.length) {
      const batch = r.waiting;
      r.waiting = [];
      let acked = false;
      try {
        const res = await withTimeout(this.redis.pipeline().incr(marker).wait(this.replicas, this.timeoutMs).exec(), this.timeoutMs + 1000);
        const [incrErr] = res?.[0] ?? [new Error("no reply")];
        const [waitErr, n] = res?.[1] ?? [new Error("no reply")];
        acked = !incrErr && !waitErr && Number(n) >= this.replicas;
      } catch { /* Redis unavailable: not acknowledged */ }
      for (const w of batch) w(acked);
    }
    r.running = false;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(undefined), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

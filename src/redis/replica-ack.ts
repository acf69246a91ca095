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
 */
import type { Redis } from "ioredis";
import type { Keyspace } from "./keyspace.js";

type Waiter = (acked: boolean) => void;

export class ReplicaAck {
  private waiting: Waiter[] = [];
  private running = false;

  /** `redis`: a connection of its own (WAIT blocks it for up to `timeoutMs`). */
  constructor(private readonly redis: Redis, private readonly keys: Keyspace, readonly replicas: number, private readonly timeoutMs: number) {}

  /** Resolves true once `replicas` replicas hold every write that returned before this call. */
  confirm(): Promise<boolean> {
    if (this.replicas <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (!this.running) void this.round();
    });
  }

  private async round(): Promise<void> {
    this.running = true;
    while (this.waiting.length) {
      const batch = this.waiting;
      this.waiting = [];
      let acked = false;
      try {
        const res = await withTimeout(this.redis.pipeline().incr(this.keys.replicaAck()).wait(this.replicas, this.timeoutMs).exec(), this.timeoutMs + 1000);
        const [incrErr] = res?.[0] ?? [new Error("no reply")];
        const [waitErr, n] = res?.[1] ?? [new Error("no reply")];
        acked = !incrErr && !waitErr && Number(n) >= this.replicas;
      } catch { /* Redis unavailable: not acknowledged */ }
      for (const w of batch) w(acked);
    }
    this.running = false;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(undefined), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

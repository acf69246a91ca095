/**
 * A batch of writes that Redis applies only if a record hash still holds the values it was
 * read with — compare-and-set for a state change computed in JavaScript. One small Lua script
 * checks the guard fields and runs the batch, atomically; it answers 0 (nothing written) when
 * the record moved on, and the caller reads it again and asks the state policy again.
 *
 * Why not WATCH/MULTI: WATCH belongs to a connection, and mxspool's callers share one ioredis
 * connection — another caller's EXEC would drop our WATCH. Every key is passed in KEYS; on
 * Redis Cluster they must share one slot, which the Keyspace's shard tags give a message's
 * record, ledger, indexes and counters (test/unit/redis/cluster-slots.test.ts).
 */
import type { Redis } from "ioredis";
import { LuaScript } from "../redis/lua-script.js";

// KEYS[1]: the record hash; KEYS[2..]: the other keys the batch writes.
// ARGV: n, then n pairs (field, expected value; "" = absent), then the commands, each as
// (argument count, command name, index into KEYS, arguments...).
// Returns 1 when the batch ran, 0 when a guard field differed (nothing written).
const SCRIPT = new LuaScript(`
local n = tonumber(ARGV[1])
local i = 2
for _ = 1, n do
  if (redis.call('HGET', KEYS[1], ARGV[i]) or '') ~= ARGV[i + 1] then return 0 end
  i = i + 2
end
while i <= #ARGV do
  local argc = tonumber(ARGV[i])
  local cmd = { ARGV[i + 1], KEYS[tonumber(ARGV[i + 2])] }
  for j = 3, argc - 1 do cmd[#cmd + 1] = ARGV[i + j] end
  redis.call(unpack(cmd))
  i = i + argc
end
return 1
`);

type Arg = string | number;

export class GuardedWrite {
  private readonly keys: string[];
  private readonly commands: Arg[] = [];

  /** `guard`: fields of `record` (a hash key) and the values they must still have. */
  constructor(record: string, private readonly guard: Record<string, string>) {
    this.keys = [record];
  }

  private add(name: string, key: string, ...args: Arg[]): this {
    let k = this.keys.indexOf(key);
    if (k < 0) k = this.keys.push(key) - 1;
    this.commands.push(args.length + 3, name, k + 1, ...args);
    return this;
  }

  hset(key: string, fields: Record<string, string>): this {
    const flat = Object.entries(fields).flat();
    return flat.length ? this.add("HSET", key, ...flat) : this;
  }
  hdel(key: string, ...fields: string[]): this { return this.add("HDEL", key, ...fields); }
  hincrby(key: string, field: string, by: number): this { return this.add("HINCRBY", key, field, by); }
  rpush(key: string, ...values: string[]): this { return this.add("RPUSH", key, ...values); }
  zadd(key: string, score: number, member: string): this { return this.add("ZADD", key, score, member); }
  zrem(key: string, member: string): this { return this.add("ZREM", key, member); }
  pexpire(key: string, ms: number): this { return this.add("PEXPIRE", key, ms); }
  persist(key: string): this { return this.add("PERSIST", key); }

  /** True when the guard held and everything was written; false when nothing was. */
  async apply(redis: Redis): Promise<boolean> {
    const guard = Object.entries(this.guard).flat();
    return await SCRIPT.run(redis, this.keys, [guard.length / 2, ...guard, ...this.commands]) === 1;
  }
}

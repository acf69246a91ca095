/**
 * How a delivery that found the primary unreachable asks the monitor to probe it now rather
 * than at its next interval: the domain, published on the probe channel that the monitor
 * subscribes to (it runs in the supervisor; deliveries run in the children). Added to the
 * caller's MULTI, so that it goes out with the caller's other writes in one round trip.
 */
import type { ChainableCommander } from "ioredis";
import type { Keyspace } from "../redis/keyspace.js";

export function requestProbe(m: ChainableCommander, keys: Keyspace, domain: string): void {
  m.publish(keys.probeChannel(), domain);
}

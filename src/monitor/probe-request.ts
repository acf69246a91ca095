/**
 * How a delivery that found the primary unreachable asks the monitor to probe it now rather
 * than at its next interval: the domain, published on the probe channel that the monitor
 * subscribes to (it runs in the supervisor; deliveries run in the children). Added to the
 * caller's MULTI, so that it goes out with the caller's other writes in one round trip.
 */
import type { ChainableCommander } from "ioredis";
import { keys } from "../../queues/names.js";

export function requestProbe(m: ChainableCommander, prefix: string, domain: string): void {
  m.publish(keys.probeChannel(prefix), domain);
}

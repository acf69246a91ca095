/**
 * How long an outage of the primaries still fits in Redis: the memory left under the limit
 * (`maxmemory`, or the machine's memory when Redis has no limit), divided by what one queued
 * message costs now, divided by the usual arrival rate. Pure: facts in, figures out; a figure
 * that cannot be known (nothing queued to measure, no mail in the window) is null, not a guess.
 */
export interface CapacityFacts {
  /** Redis `used_memory`. */
  usedMemory: number;
  /** Redis `maxmemory` (0: no limit). */
  maxMemory: number;
  /** Redis `total_system_memory` (the machine Redis runs on). */
  systemMemory: number;
  /** Redis bytes per queued message, measured now; null when nothing is queued. */
  bytesPerQueuedMessage: number | null;
  /** Messages accepted over the window (copies per recipient domain counted, as they are queued). */
  acceptedInWindow: number;
  windowHours: number;
}

export interface Capacity {
  usedMemory: number;
  limitBytes: number;
  limitFrom: "maxmemory" | "system";
  freeBytes: number;
  bytesPerQueuedMessage: number | null;
  /** More messages that fit under the limit at today's cost per message. */
  messagesLeft: number | null;
  acceptedPerHour: number;
  outageHoursLeft: number | null;
}

export function outageCapacity(f: CapacityFacts): Capacity {
  const limitFrom = f.maxMemory > 0 ? "maxmemory" : "system";
  const limitBytes = f.maxMemory > 0 ? f.maxMemory : f.systemMemory;
  const freeBytes = Math.max(0, limitBytes - f.usedMemory);
  const per = f.bytesPerQueuedMessage && f.bytesPerQueuedMessage > 0 ? Math.round(f.bytesPerQueuedMessage) : null;
  const messagesLeft = per ? Math.floor(freeBytes / per) : null;
  const acceptedPerHour = f.windowHours > 0 ? Math.round(f.acceptedInWindow / f.windowHours * 100) / 100 : 0;
  const outageHoursLeft = messagesLeft !== null && acceptedPerHour > 0 ? Math.round(messagesLeft / acceptedPerHour * 10) / 10 : null;
  return { usedMemory: f.usedMemory, limitBytes, limitFrom, freeBytes, bytesPerQueuedMessage: per, messagesLeft, acceptedPerHour, outageHoursLeft };
}

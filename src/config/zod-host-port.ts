/** A zod field for "host:port" / "[v6]:port" (listeners, primaries, relays); parse it with host-port.ts. */
import { z } from "zod";

export const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):\d{1,5}$/, 'expected "host:port"');

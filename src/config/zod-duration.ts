/** A zod field for a duration string ("90s", "5m", ...) with a default; parses to milliseconds. */
import { z } from "zod";
import { parseDuration } from "./duration.js";

export const duration = (def: string) =>
  z
    .string()
    .default(def)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null) {
        ctx.addIssue({ code: "custom", message: `expected a duration like "90s", "5m", "4h" or "5d", got "${text}"` });
        return z.NEVER;
      }
      return ms;
    });

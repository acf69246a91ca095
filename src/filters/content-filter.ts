/**
 * The seam between the SMTP session and the content scanners (ClamAV, SpamAssassin, ...).
 * A filter sees the message bytes as they arrive (write), gives its verdict at the end of
 * DATA (end), before anything is stored for delivery; it can add headers, never change the
 * message. `saturated()` lets the session refuse a new transaction at MAIL FROM with
 * 451 4.3.2 instead of letting it wait for a scanner slot.
 */
export type FilterVerdict =
  | { action: "accept"; headers?: string; flags?: string[] }
  | { action: "reject" | "tempfail"; code: number; enhanced: string; text: string; reason: string };

export interface FilterSession {
  write(chunk: Buffer): void;
  end(): Promise<FilterVerdict>;
  abort(): void;
}

export interface ContentFilter {
  /** True when no scan slot is free: new transactions should be deferred. */
  saturated(): boolean;
  begin(facts: { id: string; from: string; rcpts: string[]; clientIp: string }): FilterSession;
  close(): Promise<void>;
}

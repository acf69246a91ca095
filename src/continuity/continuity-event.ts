/**
 * What a continuity event is (an outage of a domain's primary, a stale queue, a scanner down,
 * Redis memory, disk/AOF, a certificate about to expire, a drill, traffic unlike its learned
 * baseline) and the store every node
 * records them in. The shape is the contract between the events, alerts and doctor parts:
 * change it only with all three. Implemented by ./event-store.ts.
 */
export type ContinuityKind = "outage" | "queue-stale" | "scanner-down" | "redis-memory" | "aof" | "cert-expiry" | "drill" | "backup-traffic" | "primary-change"
  // learned baselines (policies/baseline.ts, ./baseline-watch.ts)
  | "traffic-surge" | "traffic-silent" | "dictionary-attack" | "queue-growth";
export interface ContinuityEvent {
  id: string;                 // stable, e.g. "ev_<ulid-ish>", used by receivers to de-duplicate
  kind: ContinuityKind;
  domain?: string;            // per-domain kinds
  state: "open" | "closed";
  startedAt: number;          // ms
  detectedAt?: number;
  recoveredAt?: number;       // outage: primary back
  drainedAt?: number;         // outage: queue for that domain empty
  closedAt?: number;
  summary: string;            // one line for people
  data: Record<string, unknown>; // kind-specific facts (counts, reasons, figures)
}
export interface ContinuityEvents {            // implemented by src/continuity/event-store.ts
  /** Opens an event; returns null if one of this kind+domain is already open (only one node wins). */
  open(e: Omit<ContinuityEvent, "id" | "state">): Promise<ContinuityEvent | null>;
  /** Records a transition (e.g. "detected", "recovered", "drained", "closed") exactly once across nodes; returns false if already recorded. */
  transition(id: string, name: string, patch: Partial<ContinuityEvent>): Promise<boolean>;
  get(id: string): Promise<ContinuityEvent | null>;
  list(opts: { limit: number; cursor?: string; kind?: ContinuityKind; domain?: string }): Promise<{ items: ContinuityEvent[]; next?: string }>;
  current(kind: ContinuityKind, domain?: string): Promise<ContinuityEvent | null>;
}

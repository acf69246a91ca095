/**
 * The message state machine, as data: which event moves a message from which state to which,
 * and which are refused (with the conflict code the admin API answers). Pure: the record in
 * src/store/message-records.ts asks nextState() before every write and writes only if the
 * record is still in the state it asked about, so the rules live here, not in a reader's head.
 *
 *   queued ─attempt─▶ deferred ⇄ (attempts) ─▶ delivered | bounced        (expire: → bounced)
 *   queued/deferred ─hold─▶ held ─release─▶ queued;  any waiting state ─delete─▶ deleted
 *   delivered | bounced ─redeliver─▶ queued (a new life);  final states are otherwise final
 *
 * "active" is never stored: it is a waiting message whose BullMQ job is being delivered right
 * now. The row says what that means: the attempt may finish, nobody else may touch it
 * (BEING_DELIVERED). A delivery result is a fact: on a final message (e.g. deleted while the
 * primary was answering) it is kept in the ledger and the state stays; on a held one it is
 * recorded, and a message with no recipient left pending leaves held for its final state.
 */
export type MessageState = "queued" | "deferred" | "active" | "held" | "delivered" | "bounced" | "deleted";
export const STATES: MessageState[] = ["queued", "deferred", "active", "held", "delivered", "bounced", "deleted"];
export const FINAL: MessageState[] = ["delivered", "bounced", "deleted"];

/** An attempt's outcome is folded from its per-recipient results first (foldAttempt). */
export type AttemptEvent = "attempt-deferred" | "attempt-delivered" | "attempt-bounced";
export type MessageEvent = AttemptEvent | "expire" | "hold" | "release" | "retry" | "redeliver" | "delete";
export const EVENTS: MessageEvent[] = ["attempt-deferred", "attempt-delivered", "attempt-bounced", "expire", "hold", "release", "retry", "redeliver", "delete"];

export type RefusalCode = "ALREADY_FINAL" | "ALREADY_HELD" | "NOT_HELD" | "HELD" | "NOT_REDELIVERABLE" | "BEING_DELIVERED";
export type Verdict = { ok: true; to: MessageState } | { ok: false; code: RefusalCode; why: string };

const to = (s: MessageState): Verdict => ({ ok: true, to: s });

/** Whether `event` may happen to message `m` now, and the state it leads to. */
export function nextState(m: { id: string; state: MessageState }, event: MessageEvent): Verdict {
  const { id, state } = m;
  const refuse = (code: RefusalCode, why: string): Verdict => ({ ok: false, code, why });
  const final = FINAL.includes(state);
  const busy = () => refuse("BEING_DELIVERED", `message ${id} is being delivered right now; try again when the attempt ends`);
  switch (event) {
    case "attempt-deferred":
    case "attempt-delivered":
    case "attempt-bounced": {
      if (final) return refuse("ALREADY_FINAL", `message ${id} is already ${state}`);
      const result = event === "attempt-deferred" ? "deferred" : event === "attempt-delivered" ? "delivered" : "bounced";
      return to(state === "held" && result === "deferred" ? "held" : result);
    }
    case "expire":
      if (final) return refuse("ALREADY_FINAL", `message ${id} is already ${state}`);
      if (state === "held") return refuse("HELD", `message ${id} is held; it stays held until released or deleted, whatever its age`);
      return state === "active" ? busy() : to("bounced");
    case "hold":
      if (state === "held") return refuse("ALREADY_HELD", `message ${id} is already held`);
      if (final) return refuse("ALREADY_FINAL", `message ${id} is already ${state}`);
      return state === "active" ? busy() : to("held");
    case "release":
      return state === "held" ? to("queued") : refuse("NOT_HELD", `message ${id} is ${state}, not held`);
    case "retry":
      if (state === "held") return refuse("HELD", `message ${id} is held; release it instead`);
      if (final) return refuse("ALREADY_FINAL", `message ${id} is already ${state}`);
      return state === "active" ? busy() : to(state);
    case "redeliver":
      return state === "delivered" || state === "bounced" ? to("queued")
        : refuse("NOT_REDELIVERABLE", `only a delivered or bounced message can be redelivered; message ${id} is ${state}`);
    case "delete":
      if (final) return refuse("ALREADY_FINAL", `message ${id} is already ${state}`);
      return state === "active" ? busy() : to("deleted");
  }
}

export interface RecipientOutcome { state: "pending" | "delivered" | "bounced" | "deleted"; reply?: string; at?: number }
export interface RecipientResult { rcpt: string; outcome: string; response: string }

/**
 * One attempt's per-recipient results folded into the message's outcomes: delivered and
 * permanent results settle a recipient (every result does once the message has `expired`),
 * temporary ones leave it pending. The event says what the attempt means for the message:
 * something still pending → deferred; else delivered if anyone got it, else bounced.
 * `settled` counts recipients that left pending (for the per-recipient counters).
 */
export function foldAttempt(outcomes: Record<string, RecipientOutcome>, results: RecipientResult[], expired: boolean, now: number):
    { outcomes: Record<string, RecipientOutcome>; event: AttemptEvent; settled: { delivered: number; bounced: number } } {
  const next = { ...outcomes };
  const settled = { delivered: 0, bounced: 0 };
  for (const x of results) {
    const done = x.outcome === "delivered" ? "delivered" : x.outcome === "permanent" || expired ? "bounced" : null;
    if (!done) continue;
    if (next[x.rcpt]?.state === "pending") settled[done]++;
    next[x.rcpt] = { state: done, reply: x.response, at: now };
  }
  const all = Object.values(next);
  const event: AttemptEvent = all.some((o) => o.state === "pending") ? "attempt-deferred"
    : all.some((o) => o.state === "delivered") ? "attempt-delivered" : "attempt-bounced";
  return { outcomes: next, event, settled };
}

/**
 * The recipients still pending when a message reaches a final state by an admin or the
 * sweeper (not by an attempt) get that state as their outcome, with the reason as reply.
 */
export function closePending(outcomes: Record<string, RecipientOutcome>, final: "delivered" | "bounced" | "deleted", reply: string, now: number):
    { outcomes: Record<string, RecipientOutcome>; closed: number } {
  const next = { ...outcomes };
  let closed = 0;
  for (const [rcpt, o] of Object.entries(outcomes)) {
    if (o.state !== "pending") continue;
    next[rcpt] = { state: final, at: now, reply };
    closed++;
  }
  return { outcomes: next, closed };
}

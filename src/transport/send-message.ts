/**
 * One SMTP transaction to a list of endpoints: tries each in order until one takes it, sends
 * the envelope and the bytes unchanged, and reports an outcome per recipient. The drain uses
 * it toward a domain's primary, the DSN worker toward a sender's MX. Never throws for SMTP or
 * network trouble: those are results.
 */
import type { Readable } from "node:stream";
import type { ConnectionPool, Pooled } from "./connection-pool.js";
import { isPositive, type Reply, type SmtpError, type Transaction } from "./smtp-client.js";
import { classifyConnectionError, classifyReplyCode, type Outcome } from "../../policies/primary-reply.js";

export interface RecipientResult { rcpt: string; outcome: Outcome; code?: number; response: string }
export type AttemptResult =
  | { kind: "unreachable"; error: string }
  | { kind: "attempted"; endpoint: string; results: RecipientResult[] };

/** `raw`: the stored bytes, or for large messages a fresh stream of them per try. */
export interface OutgoingMessage { from: string; rcpts: string[]; raw: Buffer | (() => Readable); body8bit: boolean }

const firstLine = (s: string | undefined) => (s ?? "").split(/\r?\n/)[0].slice(0, 500);

/** The per-recipient results, and whether the connection is in a clean state for reuse. */
type SendOutcome = { results: RecipientResult[]; clean: boolean } | "stale";

const result = (rcpt: string, reply: Reply): RecipientResult => ({ rcpt, outcome: classifyReplyCode(reply.code), code: reply.code, response: firstLine(reply.text) });

/** Each recipient's result from the replies of a transaction that ran to its end. */
export function recipientResults(rcpts: string[], t: Transaction): { results: RecipientResult[]; clean: boolean } {
  const accepted = (r: Reply | undefined) => r !== undefined && isPositive(r);
  // MAIL FROM refused: its reply is every recipient's (the RCPTs' 503s after it say nothing)
  if (!accepted(t.mail)) return { clean: false, results: rcpts.map((rcpt) => result(rcpt, t.mail)) };
  // a recipient's own refusal is its result; the others share the end-of-data reply (the only
  // one that can mean delivered), or DATA's refusal when no body was sent
  const shared = t.final ?? (t.data && t.data.code >= 400 ? t.data : undefined);
  return {
    // after the end-of-data reply the server starts afresh; before it, it may still hold our MAIL FROM
    clean: t.final !== undefined,
    results: rcpts.map((rcpt, i) => {
      const own = t.rcpts[i];
      if (!accepted(own)) return own ? result(rcpt, own) : { rcpt, outcome: "temporary", response: "no reply to RCPT TO" };
      return shared ? result(rcpt, shared) : { rcpt, outcome: "temporary", response: "no recipient accepted" };
    }),
  };
}

async function sendOnce(pooled: Pooled, msg: OutgoingMessage, timeoutMs: number): Promise<SendOutcome> {
  // our deadline beside the client's per-reply timeout: a server that trickles replies must
  // not hold a delivery, and its slot, forever
  let late = false;
  let deadline: NodeJS.Timeout | undefined;
  // closing the connection ends the transaction's waits; the race is there in case one does not
  const timedOut = new Promise<never>((_, reject) => {
    deadline = setTimeout(() => { late = true; pooled.broken = true; pooled.conn.close(); reject(new Error("delivery timed out")); }, timeoutMs);
  });
  try {
    const t = await Promise.race([pooled.conn.transaction({ from: msg.from, rcpts: msg.rcpts, body8bit: msg.body8bit }, typeof msg.raw === "function" ? msg.raw() : msg.raw), timedOut]);
    return recipientResults(msg.rcpts, t);
  } catch (err) {
    pooled.broken = true;
    const e = err as SmtpError;
    // no SMTP command can carry this envelope: retrying will not change that
    if (e.code === "EENVELOPE") return { clean: false, results: msg.rcpts.map((rcpt) => ({ rcpt, outcome: "permanent" as const, response: e.message })) };
    // a cached connection the primary already closed fails before MAIL FROM's reply: not an attempt
    if (pooled.messages > 0 && e.command === "MAIL FROM") return "stale";
    const why = late || e.code === "ETIMEDOUT" ? "delivery timed out" : `connection to the primary lost: ${e.message}`;
    return { clean: false, results: msg.rcpts.map((rcpt) => ({ rcpt, outcome: "temporary" as const, response: why })) };
  } finally {
    clearTimeout(deadline);
  }
}

export async function sendMessage(pools: ConnectionPool[], msg: OutgoingMessage): Promise<AttemptResult> {
  const errors: string[] = [];
  for (const pool of pools) {
    const ep = `${pool.endpoint.host}:${pool.endpoint.port}`;
    for (let tries = 0; tries < 3; tries++) {
      let pooled: Pooled;
      try {
        pooled = await pool.acquire();
      } catch (err) {
        const e = err as SmtpError;
        if (classifyConnectionError(e) !== "unreachable") errors.push(`${ep}: ${firstLine(e.response) || e.message}`);
        else errors.push(`${ep}: ${e.message}`);
        break; // next endpoint: no recipient got an answer here
      }
      const sent = await sendOnce(pooled, msg, pool.timeoutMs);
      if (sent === "stale") { pool.release(pooled, false); continue; }
      // after a failed transaction the server may still hold our MAIL FROM: never reuse it
      pool.release(pooled, sent.clean);
      return { kind: "attempted", endpoint: ep, results: sent.results };
    }
  }
  return { kind: "unreachable", error: errors.join("; ") || "no primary endpoint" };
}

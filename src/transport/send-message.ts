/**
 * One SMTP transaction to a list of endpoints: tries each in order until one takes it, sends
 * the envelope and the bytes unchanged, and reports an outcome per recipient. The drain uses
 * it toward a domain's primary, the DSN worker toward a sender's MX. Never throws for SMTP or
 * network trouble: those are results.
 */
import type { Readable } from "node:stream";
import type { ConnectionPool, Pooled } from "./connection-pool.js";
import { classifyConnectionError, classifyReplyCode, type Outcome } from "../../policies/primary-reply.js";

export interface RecipientResult { rcpt: string; outcome: Outcome; code?: number; response: string }
export type AttemptResult =
  | { kind: "unreachable"; error: string }
  | { kind: "attempted"; endpoint: string; results: RecipientResult[] };

/** `raw`: the stored bytes, or for large messages a fresh stream of them per try. */
export interface OutgoingMessage { from: string; rcpts: string[]; raw: Buffer | (() => Readable); body8bit: boolean }

type SmtpError = Error & { code?: string; responseCode?: number; command?: string; response?: string; rejectedErrors?: SmtpError[]; recipient?: string };

const firstLine = (s: string | undefined) => (s ?? "").split(/\r?\n/)[0].slice(0, 500);

/** The per-recipient results, and whether the connection is in a clean state for reuse. */
type SendOutcome = { results: RecipientResult[]; clean: boolean } | "stale";

function sendOnce(pooled: Pooled, msg: OutgoingMessage, timeoutMs: number): Promise<SendOutcome> {
  return new Promise((finish) => {
    // settle exactly once: nodemailer's callback, or the connection dying without calling it,
    // or our deadline — a delivery must never hang with its slot taken
    let settled = false;
    const resolve = (r: SendOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      pooled.conn.removeListener("end", onEnd);
      finish(r);
    };
    const lost = (why: string): SendOutcome => ({ clean: false, results: msg.rcpts.map((rcpt) => ({ rcpt, outcome: "temporary" as const, response: why })) });
    const onEnd = () => resolve(lost("connection to the primary lost"));
    const deadline = setTimeout(() => { pooled.broken = true; pooled.conn.close(); resolve(lost("delivery timed out")); }, timeoutMs);
    pooled.conn.once("end", onEnd);
    pooled.conn.send({ from: msg.from, to: msg.rcpts, use8BitMime: msg.body8bit } as never, typeof msg.raw === "function" ? msg.raw() : msg.raw, (err, info) => {
      if (!err) {
        const rejected = new Map<string, SmtpError>();
        for (const r of (info.rejectedErrors ?? []) as SmtpError[]) if (r.recipient) rejected.set(r.recipient, r);
        resolve({ clean: true, results: msg.rcpts.map((rcpt) => {
          const r = rejected.get(rcpt);
          if (r) return { rcpt, outcome: classifyReplyCode(r.responseCode), code: r.responseCode, response: firstLine(r.response) };
          return { rcpt, outcome: "delivered", code: 250, response: firstLine(info.response) };
        }) });
        return;
      }
      const e = err as SmtpError;
      if (e.rejectedErrors?.length && e.command === "RCPT TO") {
        const byRcpt = new Map(e.rejectedErrors.map((r) => [r.recipient, r]));
        resolve({ clean: false, results: msg.rcpts.map((rcpt) => {
          const r = byRcpt.get(rcpt) ?? e;
          return { rcpt, outcome: classifyReplyCode(r.responseCode), code: r.responseCode, response: firstLine(r.response) };
        }) });
        return;
      }
      // a cached connection the primary already closed fails before any reply: not an attempt
      if (!e.responseCode && pooled.messages > 0 && e.command !== "DATA" && e.command !== "DATA_END") return resolve("stale");
      // MAIL FROM or DATA refused, or the connection broke mid-transaction: the same answer for
      // every recipient without a confirmed delivery
      const outcome: Outcome = e.responseCode ? classifyReplyCode(e.responseCode) : "temporary";
      resolve({ clean: false, results: msg.rcpts.map((rcpt) => ({ rcpt, outcome, code: e.responseCode, response: firstLine(e.response) || e.message })) });
    });
  });
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

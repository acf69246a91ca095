/**
 * The JSON shape of a message in the API: the list item (envelope, subject, size, state,
 * attempts, last error, next attempt, direction: inbound or sent by a user) and the detail (everything known, ledger included).
 * Times are milliseconds since the epoch, as everywhere in the API.
 */
import { directionOf, type MessageRecord } from "../store/message-records.js";
import type { MessageDetail } from "../admin/message-query.js";

export function messageSummary(r: MessageRecord) {
  return {
    id: r.id,
    domain: r.domain,
    envelope: { from: r.from, to: r.rcpts },
    subject: r.subject,
    size: r.size,
    receivedAt: r.receivedAt,
    state: r.state,
    attempts: r.attempts,
    lastError: r.lastError ?? null,
    nextAttempt: r.state === "queued" || r.state === "deferred" ? r.nextAttempt ?? null : null,
    flags: r.flags,
    direction: directionOf(r),
  };
}

export function messageDetail(d: MessageDetail, headers: string | null) {
  return {
    ...messageSummary(d),
    finalAt: d.finalAt ?? null,
    recipients: Object.entries(d.outcomes).map(([address, o]) => ({ address, state: o.state, reply: o.reply ?? null, at: o.at ?? null })),
    client: d.client ?? null,
    addedHeaders: d.addedHeaders,
    headers,
    bytes: d.bytes,
    job: d.job,
    ledger: d.ledger,
  };
}

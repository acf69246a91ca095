/**
 * Rebuilds the delivery job (SpooledMessage) of a message from its record, for a release or
 * a redelivery: the envelope and our added headers from the record, the recipients still to
 * deliver, and the two facts the record does not keep (SMTPUTF8 from the addresses, 8BITMIME
 * from the bytes) — unless the job data saved at hold time is at hand, which wins.
 */
import type { Readable } from "node:stream";
import type { MessageRecord } from "../store/message-records.js";
import type { MessageStore } from "../store/message-store.js";
import type { SpooledMessage } from "../../queues/delivery-queue.js";

const nonAscii = /[^\x00-\x7f]/;

async function has8bit(store: MessageStore, id: string): Promise<boolean> {
  const body = await store.open(id);
  if (!body) return false;
  const high = (b: Buffer) => b.some((x) => x >= 0x80);
  if (Buffer.isBuffer(body)) return high(body);
  for await (const chunk of (body as () => Readable)()) if (high(chunk as Buffer)) return true;
  return false;
}

export async function spooledFromRecord(r: MessageRecord, rcpts: string[], store: MessageStore,
                                        opts: { saved?: SpooledMessage; receivedAt?: number } = {}): Promise<SpooledMessage> {
  const saved = opts.saved;
  return {
    id: r.id,
    domain: r.domain,
    from: r.from,
    rcpts,
    allRcpts: r.rcpts,
    headers: r.addedHeaders,
    size: r.size,
    receivedAt: opts.receivedAt ?? saved?.receivedAt ?? r.receivedAt,
    client: r.client?.ip !== undefined ? r.client : { ip: "" },
    tls: saved?.tls,
    smtputf8: saved?.smtputf8 ?? (nonAscii.test(r.from) || r.rcpts.some((x) => nonAscii.test(x))),
    body8bit: saved?.body8bit ?? await has8bit(store, r.id),
    flags: r.flags,
    delayWarned: opts.receivedAt ? undefined : saved?.delayWarned,
    lastError: r.lastError,
  };
}

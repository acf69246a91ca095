/**
 * Handlers of /api/messages: list (filter + cursor pages, newest first), one message with
 * its ledger, its raw bytes (message/rfc822: our added headers + the stored bytes), the
 * single-message actions and the bulk action. Validation here, work in src/admin.
 */
import { runBulk } from "../admin/bulk-actions.js";
import type { MessageAction } from "../admin/message-actions.js";
import type { Handler } from "./api-deps.js";
import { messageDetail, messageSummary } from "./message-view.js";
import { apiError, fromFailure, json } from "./reply.js";
import { parseBulk, parseId, parseListQuery } from "./validate.js";

export const listMessages: Handler = async (req, d) => {
  const q = parseListQuery(req.query, d.queues.domains());
  if (!q.ok) return fromFailure(q);
  const page = await d.query.list(q.value.filter, q.value.cursor, q.value.limit);
  return json(200, { items: page.items.map(messageSummary), count: page.items.length, next: page.next ?? null });
};

export const getMessage: Handler = async (req, d) => {
  const id = parseId(req.params.id);
  if (!id.ok) return fromFailure(id);
  const detail = await d.query.detail(id.value);
  if (!detail) return apiError(404, "NOT_FOUND", `no message ${id.value}`);
  const headers = detail.bytes.stored ? await d.store.headers(id.value) : null;
  return json(200, messageDetail(detail, headers));
};

export const getRaw: Handler = async (req, d) => {
  const id = parseId(req.params.id);
  if (!id.ok) return fromFailure(id);
  const r = await d.records.get(id.value);
  if (!r) return apiError(404, "NOT_FOUND", `no message ${id.value}`);
  const body = await d.store.open(id.value, r.addedHeaders);
  if (!body) return apiError(410, "BYTES_GONE", `the bytes of message ${id.value} are no longer stored (it is ${r.state})`);
  const size = Buffer.byteLength(r.addedHeaders, "latin1") + r.size; // the stored value may be compressed: the record has the message size
  return { status: 200, bytes: body, contentType: "message/rfc822", headers: { "content-length": String(size), "content-disposition": `inline; filename="${id.value}.eml"` } };
};

const action = (name: MessageAction): Handler => async (req, d) => {
  const id = parseId(req.params.id);
  if (!id.ok) return fromFailure(id);
  const done = await d.actions.run(name, id.value, req.actor);
  return done.ok ? json(200, done.value) : fromFailure(done);
};

export const holdMessage = action("hold");
export const releaseMessage = action("release");
export const retryMessage = action("retry");
export const redeliverMessage = action("redeliver");
export const deleteMessage = action("delete");

export const bulkAction: Handler = async (req, d) => {
  const b = parseBulk(req.body, d.queues.domains());
  if (!b.ok) return fromFailure(b);
  const result = await runBulk(d.query, d.actions, b.value.scope, b.value.action, req.actor);
  d.log.info({ event: "ADMIN_BULK", ...result, ...b.value.scope, actor: req.actor.name, ip: req.actor.ip }, `admin bulk ${b.value.action}`);
  return json(200, result);
};

/**
 * GET / — the inbox page: one page of the user's visible messages (search `q`, cursor
 * `after`), a summary per row (cached), and the state of the user's mail server.
 */
import { MessageRecords } from "../../store/message-records.js";
import { domainOf } from "../address.js";
import { inboxPage, type InboxRow } from "../pages/inbox-page.js";
import { sendPage } from "../respond.js";
import type { Ctx, Deps } from "./context.js";

export async function inbox(deps: Deps, ctx: Ctx): Promise<void> {
  const address = ctx.session!.address;
  const q = (ctx.url.searchParams.get("q") ?? "").trim().slice(0, 200);
  const afterText = ctx.url.searchParams.get("after") ?? undefined;
  const after = afterText && afterText.length < 100 && MessageRecords.parseCursor(afterText) ? afterText : undefined;
  const domain = domainOf(address);
  const [page, serverState] = await Promise.all([
    deps.mailbox.page(address, { q: q || undefined, after, limit: deps.config.webmail.pageSize }),
    deps.redis.hget(deps.keys.primary(domain), "state"),
  ]);
  const rows: InboxRow[] = await Promise.all(page.items.map(async (it) => ({
    id: it.record.id, badge: it.badge, subject: it.subject, envelopeFrom: it.record.from,
    summary: await deps.summaries.get(it.record.id), size: it.record.size + it.record.addedHeaders.length, receivedAt: it.record.receivedAt,
  })));
  sendPage(ctx.res, 200, inboxPage(ctx.viewer!, { rows, q, after, next: page.next, serverState: serverState ?? "unknown", domain }));
}

/**
 * One action over every message a filter matches (the list query's filter): for a virus
 * wave, `hold` or `delete` everything with that subject in one call. Walks the listing page
 * by page (newest first) and runs the single-message action on each, a few at a time;
 * messages the action does not apply to (already final, being delivered...) are counted by
 * reason, never fail the whole run. Every message only when the scope says `all` in so many
 * words: a filter that selects everything (bulk-scope.ts) is refused here too, whoever calls.
 */
import type { ListFilter } from "../store/message-records.js";
import { MessageRecords } from "../store/message-records.js";
import type { MessageActions, MessageAction } from "./message-actions.js";
import type { MessageQuery } from "./message-query.js";
import type { Actor } from "./outcome.js";
import { normaliseFilter, type BulkScope } from "./bulk-scope.js";

export type BulkAction = Extract<MessageAction, "hold" | "release" | "retry" | "delete">;
export const BULK_ACTIONS: BulkAction[] = ["hold", "release", "retry", "delete"];

export interface BulkResult { action: BulkAction; matched: number; touched: number; skipped: Record<string, number> }

const PAGE = 200;
const PARALLEL = 8;

export async function runBulk(query: MessageQuery, actions: MessageActions, scope: BulkScope<ListFilter>, action: BulkAction, actor: Actor): Promise<BulkResult> {
  const filter: ListFilter = "all" in scope ? {} : scope.filter;
  if (!("all" in scope) && normaliseFilter({ ...scope.filter }).selectsEverything) throw new Error("runBulk: a filter that selects every message needs scope { all: true }");
  const result: BulkResult = { action, matched: 0, touched: 0, skipped: {} };
  let cursor: { score: number; id: string } | undefined;
  for (;;) {
    const page = await query.list(filter, cursor, PAGE);
    result.matched += page.items.length;
    const ids = page.items.map((r) => r.id);
    for (let i = 0; i < ids.length; i += PARALLEL) {
      const outcomes = await Promise.all(ids.slice(i, i + PARALLEL).map((id) => actions.run(action, id, { ...actor, name: `${actor.name} (bulk)` })));
      for (const o of outcomes) {
        if (o.ok) result.touched++;
        else result.skipped[o.code] = (result.skipped[o.code] ?? 0) + 1;
      }
    }
    if (!page.next) return result;
    cursor = MessageRecords.parseCursor(page.next) ?? undefined;
    if (!cursor) return result;
  }
}

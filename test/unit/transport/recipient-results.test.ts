import { describe, expect, it } from "vitest";
import { recipientResults } from "../../../src/transport/send-message.js";
import type { Reply, Transaction } from "../../../src/transport/smtp-client.js";

const r = (code: number, text = `${code} x`): Reply => ({ code, text });
const RCPTS = ["a@example.test", "b@example.test"];

describe("each recipient's result from a transaction's replies", () => {
  it.each<[string, Transaction, boolean, [string, number | undefined][]]>([
    ["all accepted, 250 at the end", { mail: r(250), rcpts: [r(250), r(250)], data: r(354), final: r(250) }, true, [["delivered", 250], ["delivered", 250]]],
    ["one refused 550, one delivered", { mail: r(250), rcpts: [r(550), r(250)], data: r(354), final: r(250) }, true, [["permanent", 550], ["delivered", 250]]],
    ["one 452, one delivered", { mail: r(250), rcpts: [r(452), r(250)], data: r(354), final: r(250) }, true, [["temporary", 452], ["delivered", 250]]],
    ["MAIL FROM refused: its reply for all (the RCPTs' 503s say nothing)", { mail: r(553), rcpts: [r(503), r(503)], data: r(503) }, false, [["permanent", 553], ["permanent", 553]]],
    ["MAIL FROM 421: temporary for all", { mail: r(421), rcpts: [] }, false, [["temporary", 421], ["temporary", 421]]],
    ["DATA refused: the accepted share it, the refused keep theirs", { mail: r(250), rcpts: [r(550), r(250)], data: r(451) }, false, [["permanent", 550], ["temporary", 451]]],
    ["end of data refused 554", { mail: r(250), rcpts: [r(250), r(250)], data: r(354), final: r(554) }, true, [["permanent", 554], ["permanent", 554]]],
    ["end of data 451", { mail: r(250), rcpts: [r(250), r(250)], data: r(354), final: r(451) }, true, [["temporary", 451], ["temporary", 451]]],
    ["a 250 to DATA is no delivery without the end-of-data reply", { mail: r(250), rcpts: [r(250), r(250)], data: r(250) }, false, [["temporary", undefined], ["temporary", undefined]]],
    ["every RCPT refused, no DATA sent", { mail: r(250), rcpts: [r(550), r(550)] }, false, [["permanent", 550], ["permanent", 550]]],
    ["a RCPT reply missing (the connection went)", { mail: r(250), rcpts: [r(250)] }, false, [["temporary", undefined], ["temporary", undefined]]],
  ])("%s", (_name, t, clean, want) => {
    const got = recipientResults(RCPTS, t);
    expect(got.clean).toBe(clean);
    expect(got.results.map((x) => [x.outcome, x.code])).toEqual(want);
    expect(got.results.map((x) => x.rcpt)).toEqual(RCPTS);
  });
});

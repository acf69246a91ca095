/**
 * Outbound mail in the admin API (issue 15, item 6): the real CLI (worker, API) on a real
 * Redis; the test DNS server names remote.test's MX, a recording SMTP peer that starts down.
 * Messages enter through the submitter (src/outbound-wiring.ts's createOutbound, as the webmail
 * uses it). Checked: listing with direction=outbound, the ledger of a failed attempt, hold
 * (a held message is not delivered once the MX is up), release (it arrives), delete, and the
 * mxspool_outbound_messages gauge.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/net.js";
import { OUTBOUND_ADMIN_TOKEN as TOKEN, startOutboundStack, type OutboundStack } from "../helpers/outbound-stack.js";
import type { RecordingPrimary } from "../helpers/recording-primary.js";
import type { OutboundParts } from "../../src/outbound-wiring.js";

const ALICE = "alice@example.test";

const message = (to: string, subject: string) => Buffer.from([
  `From: Alice <${ALICE}>`, `To: ${to}`, `Subject: ${subject}`, `X-Test-Id: ${subject}`, "", "Sent during the outage.", "",
].join("\r\n"));

interface Item { id: string; domain: string; state: string; direction: string; flags: string[]; subject: string }
interface Detail extends Item { ledger: { type: string; results?: { rcpt: string; outcome: string; reply: string }[] }[]; recipients: { address: string; state: string }[] }

describe("outbound mail in the admin API: listed, ledger, hold, release, delete, metrics", () => {
  let stack: OutboundStack;
  let outside: RecordingPrimary;
  let parts: OutboundParts;
  let api: string;
  const call = async (method: string, p: string) => {
    const res = await fetch(`${api}${p}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
    const text = await res.text();
    return { status: res.status, text, body: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : undefined };
  };
  const send = async (to: string, subject: string) => {
    const res = await parts.submitter.submit({ user: ALICE, envelopeFrom: ALICE, via: "webmail", raw: message(to, subject), recipients: [to] });
    if (!res.ok) throw new Error(res.message);
    return `${res.queueId}.1`; // the job (and record) of its one outside domain
  };
  const detail = async (id: string) => (await call("GET", `/api/messages/${id}`)).body as Detail;
  const failedAttempt = (id: string) => waitFor(`a failed attempt in ${id}'s ledger`, async () => {
    const d = await detail(id);
    return d.state === "deferred" && d.ledger.some((e) => e.type === "attempt") ? d : null;
  }, 60_000);
  const gauge = async (state: string) => {
    const m = new RegExp(`^mxspool_outbound_messages\\{state="${state}"\\} (\\d+)$`, "m").exec((await call("GET", "/metrics")).text);
    return m ? Number(m[1]) : undefined;
  };

  beforeAll(async () => {
    // the outside MX is down until the hold is in place
    stack = await startOutboundStack({ name: "outbound-admin", outbound: { sentCopies: "none" } });
    ({ outside, parts, api } = stack);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 120_000);

  let held = "";
  let deleted = "";

  it("lists outbound mail with direction=outbound and shows the ledger of a failed attempt per recipient", async () => {
    held = await send("ext@remote.test", "held-one");
    const list = (await call("GET", "/api/messages?direction=outbound")).body as { items: Item[] };
    expect(list.items.find((i) => i.id === held)).toMatchObject({ domain: "remote.test", direction: "outbound", state: expect.stringMatching(/queued|deferred|active/) });
    expect(((await call("GET", "/api/messages?direction=inbound")).body as { items: Item[] }).items.map((i) => i.id)).not.toContain(held);
    expect((await call("GET", "/api/messages?direction=sideways")).body).toMatchObject({ error: { code: "INVALID_DIRECTION" } });
    const d = await failedAttempt(held);
    const attempt = d.ledger.find((e) => e.type === "attempt")!;
    expect(attempt.results).toEqual([expect.objectContaining({ rcpt: "ext@remote.test", outcome: "temporary" })]);
    expect(d.recipients).toEqual([expect.objectContaining({ address: "ext@remote.test", state: "pending" })]);
    expect(d.direction).toBe("outbound");
  }, 90_000);

  it("holds one and deletes another: neither is delivered once the MX is up; released, the held one arrives", async () => {
    expect((await call("POST", `/api/messages/${held}/hold`)).body).toMatchObject({ state: "held" });
    deleted = await send("other@remote.test", "deleted-one");
    await failedAttempt(deleted);
    expect((await call("DELETE", `/api/messages/${deleted}`)).body).toMatchObject({ state: "deleted" });
    expect(await gauge("held")).toBe(1);
    await outside.start();
    // a message sent now arrives: the worker runs and the MX is up; the held and the deleted one have no job
    await send("third@remote.test", "control-one");
    await waitFor("the control message at the outside MX", () => outside.received.find((r) => /X-Test-Id: control-one/.test(r.body)), 60_000);
    expect(outside.received.filter((r) => /X-Test-Id: (held|deleted)-one/.test(r.body))).toEqual([]);
    expect((await detail(held)).state).toBe("held");
    expect((await call("POST", `/api/messages/${held}/release`)).body).toMatchObject({ state: "queued" });
    await waitFor("the released message at the outside MX", () => outside.received.find((r) => /X-Test-Id: held-one/.test(r.body)), 60_000);
    const d = await waitFor("the released message delivered in its record", async () => { const x = await detail(held); return x.state === "delivered" ? x : null; }, 30_000);
    expect(d.ledger.map((e) => e.type)).toEqual(expect.arrayContaining(["received", "attempt", "held", "released", "delivered"]));
    expect(outside.received.filter((r) => /X-Test-Id: deleted-one/.test(r.body))).toEqual([]);
    expect((await detail(deleted)).state).toBe("deleted");
  }, 120_000);

  it("counts outbound messages per state in mxspool_outbound_messages", async () => {
    expect(await gauge("delivered")).toBe(2);
    expect(await gauge("deleted")).toBe(1);
    expect(await gauge("held")).toBe(0);
  });
});

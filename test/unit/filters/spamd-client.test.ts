/** The SPAMC/1.5 client against scripted fake spamd servers: exact request bytes, replies in tiny pieces, failures. */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { fakeServers } from "../../helpers/fake-servers.js";
import { SpamdEngine } from "../../../src/filters/spamd-client.js";

const { track, closeAll } = fakeServers();
afterEach(async () => { await closeAll(); });

/** A fake spamd: records the request, then `answer` it (or not). */
async function fakeSpamd(answer: (socket: net.Socket, request: Buffer) => void): Promise<{ port: number; requests: Buffer[] }> {
  const requests: Buffer[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const parts: Buffer[] = [];
    s.on("data", (d) => parts.push(d));
    s.on("end", () => { const req = Buffer.concat(parts); requests.push(req); answer(s, req); });
    s.on("error", () => undefined);
  });
  track(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as net.AddressInfo).port, requests };
}

const engine = (port: number, timeout = 2000) => new SpamdEngine({ address: { kind: "tcp", host: "127.0.0.1", port }, connectTimeout: 1000, timeout });

/** Writes `data` a few bytes at a time, as a slow network would deliver it. */
async function dribble(s: net.Socket, data: Buffer, size = 1): Promise<void> {
  for (let i = 0; i < data.length; i += size) {
    s.write(data.subarray(i, i + size));
    if (i % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  s.end();
}

const longReport = (n: number) => " pts rule name              description\n---- ---------------------- ----------\n" +
  Array.from({ length: n }, (_, i) => `${(i % 3 === 0 ? -1 : 1) * ((i % 7) + 0.5)} RULE_${i}`.padEnd(28) + ` Description of rule ${i} \xe9\n`).join("") + "\n";

describe("spamd client (SPAMC/1.5)", () => {
  it("sends the exact bytes of a binary message with their Content-length", async () => {
    const fake = await fakeSpamd((s) => s.end("SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; -0.5 / 5.0\r\n\r\n"));
    const message = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256).filter((b) => b !== 0));
    const out = await engine(fake.port).check(message);
    expect(out).toEqual({ status: "scored", score: -0.5, threshold: 5, rules: [] });
    const head = `REPORT SPAMC/1.5\r\nContent-length: ${message.length}\r\n\r\n`;
    expect(fake.requests[0].subarray(0, head.length).toString("latin1")).toBe(head);
    expect(fake.requests[0].subarray(head.length).equals(message)).toBe(true);
  });

  it("reads a long 8-bit report delivered one byte per packet", async () => {
    const body = Buffer.from(longReport(120), "latin1");
    const reply = Buffer.concat([Buffer.from(`SPAMD/1.1 0 EX_OK\r\nContent-length: ${body.length}\r\nSpam: True ; 77.7 / 5.0\r\n\r\n`), body]);
    const fake = await fakeSpamd((s) => void dribble(s, reply, 1));
    const out = await engine(fake.port, 10_000).check(Buffer.from("Subject: x\r\n\r\nx\r\n"));
    expect(out.status).toBe("scored");
    if (out.status !== "scored") return;
    expect(out.score).toBe(77.7);
    expect(out.rules).toHaveLength(120);
    expect(out.rules[119]).toEqual({ name: "RULE_119", score: 0.5, description: "Description of rule 119 \xe9" });
    expect(out.rules[0].score).toBe(-0.5);
  });

  it.each([
    ["an error status", (s: net.Socket) => s.end("SPAMD/1.0 76 Bad header line\r\n"), "failed", /spamd error 76/],
    ["a reply cut short", (s: net.Socket) => s.end("SPAMD/1.1 0 EX_OK\r\nContent-length: 900\r\nSpam: True ; 9.0 / 5.0\r\n\r\nabc"), "failed", /cut short/],
    ["no Spam header", (s: net.Socket) => s.end("SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n"), "failed", /without a Spam header/],
    ["a closed connection", (s: net.Socket) => s.end(), "failed", /empty reply/],
    ["a hung spamd", () => undefined, "timeout", /no answer within 300 ms/],
  ] as const)("reports %s as a failure value", async (_name, answer, error, detail) => {
    const fake = await fakeSpamd(answer);
    const out = await engine(fake.port, 300).check(Buffer.from("x"));
    expect(out).toMatchObject({ status: "error", error });
    if (out.status === "error") expect(out.detail).toMatch(detail);
  });

  it("reports a refused connection as down, and PING", async () => {
    const closed = await fakeSpamd(() => undefined);
    const port = closed.port;
    await closeAll();
    expect(await engine(port).check(Buffer.from("x"))).toEqual({ status: "error", error: "down", detail: "ECONNREFUSED" });
    expect(await engine(port).ping()).toMatchObject({ error: "down" });
    const pong = await fakeSpamd((s, req) => s.end(req.toString() === "PING SPAMC/1.5\r\n\r\n" ? "SPAMD/1.5 0 PONG\r\n" : "SPAMD/1.5 76 Bad\r\n"));
    expect(await engine(pong.port).ping()).toBeNull();
  });

  it("reaches spamd on a unix socket too", async () => {
    const path = `/tmp/mxspool-fake-spamd-${process.pid}.sock`;
    const server = net.createServer({ allowHalfOpen: true }, (s) => { s.resume(); s.on("end", () => s.end("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 12.5 / 5.0\r\n\r\n")); });
    track(server);
    await new Promise<void>((r) => server.listen(path, () => r()));
    const out = await new SpamdEngine({ address: { kind: "unix", path }, connectTimeout: 1000, timeout: 2000 }).check(Buffer.from("x"));
    expect(out).toMatchObject({ status: "scored", score: 12.5 });
  });
});

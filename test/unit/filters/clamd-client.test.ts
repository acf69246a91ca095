/** The INSTREAM client against scripted fake clamd servers: framing, one write per frame, early answers, failures. */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { fakeServers } from "../../helpers/fake-servers.js";
import { ClamdEngine } from "../../../src/filters/clamd-client.js";

const { track, closeAll } = fakeServers();
afterEach(async () => { await closeAll(); });

interface Seen { bytes: Buffer; packets: number }

/** A fake clamd that decodes the INSTREAM frames; `answer` gets the chunks once the 0-length frame came. */
async function fakeClamd(answer: (s: net.Socket, chunks: Buffer[]) => void, early?: (s: net.Socket, total: number) => boolean): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    const chunks: Buffer[] = [];
    const rec: Seen = { bytes: Buffer.alloc(0), packets: 0 };
    seen.push(rec);
    let total = 0;
    let done = false;
    s.on("error", () => undefined);
    s.on("data", (d: Buffer) => {
      rec.packets++;
      rec.bytes = Buffer.concat([rec.bytes, d]);
      buf = Buffer.concat([buf, d]);
      if (buf.subarray(0, 10).toString("latin1") === "zINSTREAM\0") buf = buf.subarray(10);
      while (!done && buf.length >= 4) {
        const n = buf.readUInt32BE(0);
        if (buf.length < 4 + n) break;
        if (n === 0) { done = true; answer(s, chunks); break; }
        chunks.push(buf.subarray(4, 4 + n));
        total += n;
        buf = buf.subarray(4 + n);
        if (early?.(s, total)) { done = true; break; }
      }
    });
  });
  track(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as net.AddressInfo).port, seen };
}

const engine = (port: number, timeout = 2000) => new ClamdEngine({ address: { kind: "tcp", host: "127.0.0.1", port }, connectTimeout: 1000, timeout });

describe("clamd client (INSTREAM)", () => {
  it("frames every chunk, written before or after the connection is up, and ends with a zero-length frame", async () => {
    const fake = await fakeClamd((s, chunks) => s.end(Buffer.concat(chunks).toString() === "hello, world, again" ? "stream: OK\0" : "stream: Wrong.Bytes FOUND\0"));
    const scan = engine(fake.port).open();
    scan.write(Buffer.from("hello, "));   // before the connection: sent with the command
    scan.write(Buffer.alloc(0));           // empty chunks must not end the stream
    await new Promise((r) => setTimeout(r, 50));
    scan.write(Buffer.from("world, "));
    scan.write(Buffer.from("again"));
    expect(await scan.end()).toEqual({ status: "clean" });
    expect(fake.seen[0].bytes.subarray(0, 10).toString("latin1")).toBe("zINSTREAM\0");
  });

  it("sends each frame (length and bytes) in one packet", async () => {
    const fake = await fakeClamd((s) => s.end("stream: OK\0"));
    const scan = engine(fake.port).open();
    await new Promise((r) => setTimeout(r, 50)); // connected
    for (let i = 0; i < 5; i++) { scan.write(Buffer.alloc(100, 65 + i)); await new Promise((r) => setTimeout(r, 20)); }
    expect(await scan.end()).toEqual({ status: "clean" });
    expect(fake.seen[0].packets).toBeLessThanOrEqual(1 + 5 + 1); // command, one per frame, the end frame
  });

  it("reports a virus, clamd's early size-limit answer, a hung clamd and a refused connection", async () => {
    const found = await fakeClamd((s) => s.end("stream: Eicar-Signature FOUND\0"));
    const a = engine(found.port).open();
    a.write(Buffer.from("x"));
    expect(await a.end()).toEqual({ status: "infected", signature: "Eicar-Signature" });

    const limit = await fakeClamd(() => undefined, (s, total) => { if (total > 1000) { s.end("INSTREAM size limit exceeded. ERROR\0"); return true; } return false; });
    const b = engine(limit.port).open();
    for (let i = 0; i < 50; i++) { b.write(Buffer.alloc(100, 1)); await new Promise((r) => setImmediate(r)); }
    expect(await b.end()).toMatchObject({ status: "error", error: "failed", detail: expect.stringMatching(/size limit exceeded/) });

    const hung = await fakeClamd(() => undefined);
    const c = engine(hung.port, 300).open();
    c.write(Buffer.from("x"));
    expect(await c.end()).toMatchObject({ status: "error", error: "timeout" });

    const port = hung.port;
    await closeAll();
    const d = engine(port).open();
    d.write(Buffer.from("x"));
    expect(await d.end()).toEqual({ status: "error", error: "down", detail: "ECONNREFUSED" });
  });

  it("closes the connection when aborted", async () => {
    let closed = false;
    const server = net.createServer((s) => { s.resume(); s.on("close", () => { closed = true; }); });
    track(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const scan = engine((server.address() as net.AddressInfo).port).open();
    scan.write(Buffer.from("x"));
    await new Promise((r) => setTimeout(r, 50));
    scan.abort();
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(true);
  });
});

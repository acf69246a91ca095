/**
 * Why mxspool keeps its own INSTREAM client (src/filters/clamd-client.ts) instead of the
 * `clamscan` npm package (2.4.0, on the design card): both run here against the same real
 * clamd (test/helpers/clamd.ts, a sigtool-built database), through a loopback proxy that counts
 * connections and bytes each way, and against fake clamd servers that stall. Each test states
 * a fact from behaviour, for both clients side by side: the same verdicts, the same streaming
 * and one socket per scan, and where they differ — what a timeout means, a stalled clamd, a
 * sender that pauses mid-DATA, a sender that disconnects, an empty message.
 */
import net from "node:net";
import { PassThrough, Writable } from "node:stream";
import NodeClam, { type ClamscanResult } from "clamscan";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, sleep, waitFor } from "../helpers/net.js";
import { EICAR, SIGNATURES, ZIP_PAYLOAD, startClamd, zip, type TestClamd } from "../helpers/clamd.js";
import { ClamdEngine } from "../../src/filters/clamd-client.js";
import type { VirusOutcome } from "../../policies/scan-outcome.js";

/** One proxied connection: bytes client -> clamd (`up`) and back (`down`), and its state. */
interface Conn { up: number; down: number; clientEnded: boolean; open: boolean }

interface Proxy { port: number; conns: Conn[]; openCount(): number; stop(): Promise<void> }

/** A TCP proxy in front of clamd's TCP port that records what each connection carried. */
async function startProxy(targetPort: number): Promise<Proxy> {
  const conns: Conn[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const c: Conn = { up: 0, down: 0, clientEnded: false, open: true };
    conns.push(c);
    const upstream = net.createConnection({ host: "127.0.0.1", port: targetPort, allowHalfOpen: true });
    for (const s of [client, upstream]) { sockets.add(s); s.on("error", () => undefined); s.on("close", () => sockets.delete(s)); }
    client.on("data", (d: Buffer) => { c.up += d.length; upstream.write(d); });
    upstream.on("data", (d: Buffer) => { c.down += d.length; client.write(d); });
    client.on("end", () => { c.clientEnded = true; upstream.end(); });
    upstream.on("end", () => client.end());
    client.on("close", () => { c.open = false; upstream.destroy(); });
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    conns,
    openCount: () => conns.filter((c) => c.open).length,
    stop: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/** A clamd that accepts and reads but never answers; `halfOpen` keeps the socket open after the client's FIN. */
async function startStalledClamd(halfOpen: boolean): Promise<{ port: number; finSeen: () => boolean; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let fins = 0;
  const server = net.createServer({ allowHalfOpen: halfOpen }, (s) => {
    sockets.add(s);
    s.resume();
    s.on("end", () => { fins++; });
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    finSeen: () => fins > 0,
    stop: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/** A promise's outcome, readable without awaiting it. */
function track<T>(p: Promise<T>): { settled: boolean; value?: T; error?: Error } {
  const t: { settled: boolean; value?: T; error?: Error } = { settled: false };
  p.then((v) => { t.settled = true; t.value = v; }, (e: Error) => { t.settled = true; t.error = e; });
  return t;
}

const ourEngine = (port: number, timeout: number) =>
  new ClamdEngine({ address: { kind: "tcp", host: "127.0.0.1", port }, connectTimeout: 2000, timeout });

async function clamscanOn(port: number, timeout: number): Promise<NodeClam> {
  return new NodeClam().init({
    preference: "clamdscan",
    clamscan: { active: false },
    clamdscan: { host: "127.0.0.1", port, timeout, localFallback: false, bypassTest: true },
  });
}

/** Our client, fed chunk by chunk as the SMTP session does. */
async function oursScan(port: number, chunks: Buffer[], timeout = 10_000): Promise<VirusOutcome> {
  const scan = ourEngine(port, timeout).open();
  for (const c of chunks) scan.write(c);
  return scan.end();
}

/** clamscan's scanStream over a stream fed the same chunks. */
async function theirScan(clam: NodeClam, chunks: Buffer[]): Promise<ClamscanResult> {
  const input = new PassThrough();
  const result = clam.scanStream(input);
  for (const c of chunks) input.write(c);
  input.end();
  return result;
}

const split = (b: Buffer): Buffer[] => [b.subarray(0, Math.floor(b.length / 2)), b.subarray(Math.floor(b.length / 2))];
/** A MIME message: a text part, and EICAR as a base64 attachment if `infected` (the test database matches whole files, which clamd cuts out of the mail). */
const message = (text: string, infected = false) => Buffer.from([
  "From: a@sender.test", "To: b@example.test", "Subject: t", "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="b1"', "",
  "--b1", "Content-Type: text/plain", "", text,
  ...(infected ? ["--b1", "Content-Type: application/octet-stream", 'Content-Disposition: attachment; filename="eicar.com"', "Content-Transfer-Encoding: base64", "", Buffer.from(EICAR, "latin1").toString("base64")] : []),
  "--b1--", "",
].join("\r\n"), "latin1");

describe("the clamscan npm package next to our INSTREAM client, against a real clamd", () => {
  let clamd: TestClamd;
  let proxy: Proxy;
  let clam: NodeClam;

  beforeAll(async () => {
    clamd = await startClamd();
    proxy = await startProxy(clamd.tcpPort);
    clam = await clamscanOn(proxy.port, 10_000);
  });

  afterAll(async () => {
    await proxy?.stop();
    await clamd?.stop();
  });

  it("gives the same verdicts on the same inputs: clean, EICAR, EICAR zipped, the zipped test payload", async () => {
    const cases: [string, Buffer, string | null][] = [
      ["clean", message("hello"), null],
      ["EICAR attached", message("hello", true), `${SIGNATURES.eicar}.UNOFFICIAL`],
      ["EICAR zipped", zip([{ name: "readme.txt", data: Buffer.from("hi\r\n") }, { name: "eicar.com", data: Buffer.from(EICAR, "latin1") }]), `${SIGNATURES.eicar}.UNOFFICIAL`],
      ["payload zipped", zip([{ name: "p.txt", data: ZIP_PAYLOAD }]), `${SIGNATURES.payload}.UNOFFICIAL`],
    ];
    for (const [name, data, signature] of cases) {
      const ours = await oursScan(proxy.port, split(data));
      const theirs = await theirScan(clam, split(data));
      expect({ name, ours }).toEqual({ name, ours: signature ? { status: "infected", signature } : { status: "clean" } });
      expect({ name, theirs: { isInfected: theirs.isInfected, viruses: theirs.viruses } })
        .toEqual({ name, theirs: { isInfected: signature !== null, viruses: signature ? [signature] : [] } });
    }
  });

  it("both stream while the data arrives; clamd answers only after the end, for either client", async () => {
    const data = message("x".repeat(20_000), true);
    const [first, rest] = split(data);

    const before = proxy.conns.length;
    const scan = ourEngine(proxy.port, 10_000).open();
    scan.write(first);
    const ourConn = await waitFor("our first half at clamd", () => proxy.conns.slice(before).find((c) => c.up >= first.length), 10_000);

    const input = new PassThrough();
    const theirs = track(clam.scanStream(input));
    input.write(first);
    const theirConn = await waitFor("clamscan's first half at clamd", () => proxy.conns.slice(before).find((c) => c !== ourConn && c.up >= first.length), 10_000);

    await sleep(500); // clamd keeps the stream until the 0-length frame: nothing comes back meanwhile
    expect([ourConn.down, theirConn.down]).toEqual([0, 0]);
    expect(theirs.settled).toBe(false);

    scan.write(rest);
    input.end(rest);
    expect(await scan.end()).toEqual({ status: "infected", signature: `${SIGNATURES.eicar}.UNOFFICIAL` });
    await waitFor("clamscan's verdict", () => theirs.settled, 10_000);
    expect(theirs.value?.viruses).toEqual([`${SIGNATURES.eicar}.UNOFFICIAL`]);
  });

  it("clamscan's passthrough() forks the bytes to another consumer as they come, and reports after the end", async () => {
    const data = message("y".repeat(20_000), true);
    const [first, rest] = split(data);
    const stored: Buffer[] = [];
    const av = clam.passthrough();
    const complete = new Promise<ClamscanResult>((resolve) => av.on("scan-complete", resolve));
    av.pipe(new Writable({ write(chunk: Buffer, _e, cb) { stored.push(chunk); cb(); } }));
    av.write(first);
    await waitFor("the first half at the other consumer", () => Buffer.concat(stored).length >= first.length, 10_000);
    av.end(rest);
    const result = await complete;
    expect(result.viruses).toEqual([`${SIGNATURES.eicar}.UNOFFICIAL`]);
    expect(Buffer.concat(stored).equals(data)).toBe(true);
  });

  it("both open one socket per scan and do not serialise: 5 scans are at clamd at once", async () => {
    const [head, tail] = split(message("part one", true));
    const before = proxy.conns.length;
    const ours = Array.from({ length: 5 }, () => ourEngine(proxy.port, 10_000).open());
    ours.forEach((s) => s.write(head));
    await waitFor("our 5 connections open with data", () => proxy.conns.slice(before).filter((c) => c.open && c.up > 0).length === 5, 10_000);
    const oursDone = Promise.all(ours.map((s) => { s.write(tail); return s.end(); }));
    expect((await oursDone).map((o) => o.status)).toEqual(Array(5).fill("infected"));

    const mid = proxy.conns.length;
    const inputs = Array.from({ length: 5 }, () => new PassThrough());
    const theirs = inputs.map((i) => clam.scanStream(i));
    inputs.forEach((i) => i.write(head));
    await waitFor("clamscan's 5 connections open with data", () => proxy.conns.slice(mid).filter((c) => c.open && c.up > 0).length === 5, 10_000);
    inputs.forEach((i) => i.end(tail));
    expect((await Promise.all(theirs)).map((r) => r.isInfected)).toEqual(Array(5).fill(true));
  });

  it("a sender that pauses mid-DATA longer than the timeout: ours still gets the verdict, clamscan's idle timeout has ended the scan", async () => {
    const timeout = 500; // both configured alike; ours counts it from the end of DATA, clamscan from the last socket activity
    const quick = await clamscanOn(proxy.port, timeout);
    const [head, tail] = split(message("start", true));
    const before = proxy.conns.length;

    const scan = ourEngine(proxy.port, timeout).open();
    scan.write(head);
    const input = new PassThrough();
    const theirs = track(quick.scanStream(input));
    input.write(head);
    await waitFor("both connections at clamd", () => proxy.conns.slice(before).filter((c) => c.up > 0).length === 2, 10_000);

    // the sender pauses; clamscan's socket times out and half-closes its connection to clamd
    const theirConn = await waitFor("clamscan's FIN at the proxy", () => proxy.conns.slice(before).find((c) => c.clientEnded), 10_000);
    expect(proxy.conns.slice(before).filter((c) => c.clientEnded)).toEqual([theirConn]); // not ours
    // clamd, given a FIN in mid-stream, closes without an answer: clamscan's scan fails while the sender is still paused
    await waitFor("clamscan's outcome", () => theirs.settled, 10_000);
    expect(theirs.value).toBeUndefined();
    expect(theirs.error?.message).toMatch(/^Scan aborted/);
    // the sender resumes with the EICAR attachment: ours finds it
    scan.write(tail);
    expect(await scan.end()).toEqual({ status: "infected", signature: `${SIGNATURES.eicar}.UNOFFICIAL` });
  });

  it("a sender that disconnects mid-DATA: our abort() closes the clamd connection, clamscan leaves it open", async () => {
    const before = proxy.conns.length;
    const scan = ourEngine(proxy.port, 10_000).open();
    scan.write(message("part\r\n"));
    const ourConn = await waitFor("our connection", () => proxy.conns.slice(before).find((c) => c.up > 0), 10_000);
    scan.abort();
    await waitFor("our connection closed", () => !ourConn.open, 10_000);

    const mid = proxy.conns.length;
    const input = new PassThrough();
    const theirs = track(clam.scanStream(input));
    input.write(message("part\r\n"));
    const theirConn = await waitFor("clamscan's connection", () => proxy.conns.slice(mid).find((c) => c.up > 0), 10_000);
    input.destroy(new Error("client went away"));
    await waitFor("scanStream rejected", () => theirs.settled, 10_000);
    expect(theirs.error?.message).toBe("client went away");
    await sleep(1000);
    expect(theirConn).toMatchObject({ open: true, clientEnded: false }); // held until clamd's ReadTimeout (120 s by default)
  });

  it("an empty message: ours gets clean, clamscan's scanStream sends no command, passthrough() never finishes", async () => {
    expect(await oursScan(proxy.port, [])).toEqual({ status: "clean" });

    const before = proxy.conns.length;
    const theirs = await theirScan(clam, []);
    await waitFor("clamscan's connection closed", () => proxy.conns.slice(before).some((c) => !c.open), 10_000);
    expect(theirs.isInfected).toBeNull(); // clamd got a 0-length frame with no INSTREAM before it
    expect(theirs.resultString).toMatch(/UNKNOWN COMMAND/);

    const av = clam.passthrough();
    let finished = false;
    av.on("finish", () => { finished = true; });
    av.on("scan-complete", () => { finished = true; });
    av.resume();
    av.end();
    await sleep(1000);
    expect(finished).toBe(false);
  });
});

describe("the clamscan npm package next to our INSTREAM client, against a clamd that stops answering", () => {
  it("no clamd at all: ours reports it down; clamscan's passthrough() errors and passes no byte on, so nothing could be stored unscanned", async () => {
    const port = await freePort(); // nothing listens here
    expect(await oursScan(port, [message("hello")])).toMatchObject({ status: "error", error: "down" });

    const av = (await clamscanOn(port, 2000)).passthrough();
    const stored: Buffer[] = [];
    const failed = new Promise<Error>((resolve) => av.on("error", resolve));
    av.pipe(new Writable({ write(chunk: Buffer, _e, cb) { stored.push(chunk); cb(); } }));
    av.write(message("hello"));
    expect((await failed as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
    expect(stored).toHaveLength(0);
  });

  it("keeps the socket open after the client's FIN: ours reports a timeout, clamscan's promise never settles", async () => {
    const stalled = await startStalledClamd(true);
    try {
      const ours = await oursScan(stalled.port, [message("hello", true)], 500);
      expect(ours).toMatchObject({ status: "error", error: "timeout" });

      const clam = await clamscanOn(stalled.port, 500);
      const theirs = track(theirScan(clam, [message("hello", true)]));
      await waitFor("clamscan's timeout (its FIN at the fake clamd)", stalled.finSeen, 10_000);
      await sleep(2000);
      expect(theirs.settled).toBe(false);
    } finally {
      await stalled.stop();
    }
  });

  it("closes after the client's FIN: ours reports a timeout, clamscan resolves isInfected null, not an error", async () => {
    const stalled = await startStalledClamd(false);
    try {
      expect(await oursScan(stalled.port, [message("hello", true)], 500)).toMatchObject({ status: "error", error: "timeout" });

      const clam = await clamscanOn(stalled.port, 500);
      const theirs = track(theirScan(clam, [message("hello", true)]));
      await waitFor("clamscan's outcome", () => theirs.settled, 10_000);
      expect(theirs.error).toBeUndefined();
      expect(theirs.value).toMatchObject({ isInfected: null, viruses: [] });
    } finally {
      await stalled.stop();
    }
  });
});

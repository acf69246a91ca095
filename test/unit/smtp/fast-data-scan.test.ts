/**
 * The indexOf scan for the end of DATA against smtp-server's own per-byte loop: the same
 * message bytes, the same commands after the terminator (what a smuggling attempt would turn
 * into), on hand-picked edge cases and on 3,000 random sessions split at random places.
 */
import { SMTPStream } from "smtp-server/lib/smtp-stream.js";
import { describe, expect, it } from "vitest";
import { prng } from "../../helpers/prng.js";
import { feedDataStream } from "../../../src/smtp/fast-data-scan.js";

type Feed = (this: unknown, chunk: Buffer, done: (err?: Error | null) => void) => void;
const original = (SMTPStream.prototype as unknown as { _feedDataStream: Feed })._feedDataStream;

/** What a parser made of `chunks`: each command line, and each message's bytes, in order. */
async function parse(feed: Feed, chunks: Buffer[]): Promise<string[]> {
  const events: string[] = [];
  const s = new SMTPStream() as SMTPStream & { _feedDataStream: Feed; oncommand: (c: Buffer, cb?: () => void) => void };
  s._feedDataStream = feed; // this instance's scan: the original, or ours
  s.oncommand = (command, cb) => {
    const line = command.toString("latin1");
    events.push(`cmd ${JSON.stringify(line)}`);
    if (/^DATA$/i.test(line)) {
      const data = s.startDataMode();
      const parts: Buffer[] = [];
      data.on("data", (b: Buffer) => parts.push(b));
      data.on("end", () => { events.push(`data ${JSON.stringify(Buffer.concat(parts).toString("latin1"))}`); s.continue(); });
    }
    cb?.();
  };
  for (const c of chunks) await new Promise<void>((resolve, reject) => s.write(c, (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve) => { s.end(); s.once("finish", () => resolve()); });
  // escape dots continue on setImmediate, and a message's end comes after: wait until nothing new happens
  for (let quiet = 0, seen = -1; quiet < 3; seen = events.length) {
    await new Promise((resolve) => setImmediate(resolve));
    quiet = events.length === seen ? quiet + 1 : 0;
  }
  return events;
}

const same = async (chunks: Buffer[]) => expect(await parse(feedDataStream as Feed, chunks)).toEqual(await parse(original, chunks));


describe("end of DATA found with indexOf, decisions as smtp-server's", () => {
  it.each([
    ["a plain message", ["DATA\r\nSubject: a\r\n\r\nbody\r\n.\r\nQUIT\r\n"]],
    ["escape dots at line starts", ["DATA\r\n..one\r\nx\r\n...two\r\n.\r\nNOOP\r\n"]],
    ["a message that is only the terminator", ["DATA\r\n.\r\nQUIT\r\n"]],
    ["a first line that is a single dot (sent as ..)", ["DATA\r\n", "..", "\r\n.\r\nQUIT\r\n"]],
    ["the terminator split over every chunk boundary", ["DATA\r\nbody\r", "\n", ".", "\r", "\nRSET\r\n"]],
    ["bare LF before a dot is not an end", ["DATA\r\nbody\n.\nmore\r\n.\r\nQUIT\r\n"]],
    ["LF . CR LF without the CR before is not an end", ["DATA\r\nx\n.\r\nMAIL FROM:<evil@x.test>\r\n\r\n.\r\nQUIT\r\n"]],
    ["a terminator in the first bytes after a held tail", ["DATA\r\nabcd", "\r\n.\r\nQUIT\r\n"]],
  ])("%s", async (_name, chunks) => {
    await same((chunks as string[]).map((c) => Buffer.from(c, "latin1")));
  });

  it("gives the same data and commands on 3,000 random sessions split at random places", async () => {
    const r = prng(20261202); // seeded: a failure names a reproducible case
    const alphabet = ["\r", "\n", ".", "a", "\r\n", "\r\n.", "\r\n..", "\r\n.\r\n"];
    for (let n = 0; n < 3000; n++) {
      let text = "DATA\r\n";
      const parts = Math.floor(r() * 40);
      for (let k = 0; k < parts; k++) text += alphabet[Math.floor(r() * alphabet.length)];
      text += "\r\n.\r\nQUIT\r\n";
      const bytes = Buffer.from(text, "latin1");
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length;) { const k = 1 + Math.floor(r() * 12); chunks.push(bytes.subarray(i, i + k)); i += k; }
      const want = await parse(original, chunks);
      const got = await parse(feedDataStream as Feed, chunks);
      if (JSON.stringify(got) !== JSON.stringify(want)) expect({ input: text, got }).toEqual({ input: text, got: want });
    }
  });

  it("is the scan smtp-server's parser runs once mxspool's patches are in", async () => {
    const { installSmtpServerPatches } = await import("../../../src/smtp/smtp-server-patches.js");
    installSmtpServerPatches();
    // BDAT wraps the feed and calls ours for DATA: a message still parses as the original does
    const s = new SMTPStream() as unknown as { _feedDataStream: Feed };
    expect(s._feedDataStream).not.toBe(original);
    const events = await parse(s._feedDataStream, [Buffer.from("DATA\r\n..a\r\nb\r\n.\r\nQUIT\r\n", "latin1")]);
    expect(events).toEqual(['cmd "DATA"', `data ${JSON.stringify(".a\r\nb\r\n")}`, 'cmd "QUIT"']);
  });
});

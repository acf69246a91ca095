/**
 * A tiny authoritative DNS server for tests (UDP, node:dgram, a free loopback port). It
 * answers MX, A, AAAA and TXT from a mutable `zone` object, so a test can change records while
 * mxspool runs; a name missing from the zone gets NXDOMAIN, a name without records of the
 * asked type an empty NOERROR answer, and a name listed in `servfail` SERVFAIL. TTLs are 0
 * so no resolver cache hides a change. Every query is recorded in `queries`.
 */
import dgram from "node:dgram";
import net from "node:net";

export interface ZoneRecords {
  MX?: { priority: number; exchange: string }[];
  A?: string[];
  AAAA?: string[];
  /** One text per record, split into 255-byte strings on the wire. */
  TXT?: string[];
}
/** Names are matched case-insensitively, without a trailing dot. */
export type Zone = Record<string, ZoneRecords>;

const TYPES: Record<number, keyof ZoneRecords> = { 15: "MX", 1: "A", 28: "AAAA", 16: "TXT" };
const TYPE_NUM: Record<string, number> = { MX: 15, A: 1, AAAA: 28, TXT: 16 };

export interface DnsQuery { name: string; type: string; at: number }

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, "").split(".").filter(Boolean);
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, "ascii");
    if (b.length > 63) throw new Error(`DNS label too long: ${l}`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Reads the (uncompressed) question name at `off`; returns the name and the offset after it. */
function readName(msg: Buffer, off: number): { name: string; end: number } {
  const labels: string[] = [];
  for (let guard = 0; guard < 128; guard++) {
    if (off >= msg.length) throw new Error("truncated name");
    const len = msg[off];
    if (len === 0) return { name: labels.join("."), end: off + 1 };
    if (len & 0xc0) throw new Error("compressed question name");
    labels.push(msg.subarray(off + 1, off + 1 + len).toString("ascii"));
    off += 1 + len;
  }
  throw new Error("name too long");
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

function rdata(type: keyof ZoneRecords, rec: unknown): Buffer {
  if (type === "A") {
    if (!net.isIPv4(rec as string)) throw new Error(`not an IPv4 address: ${rec}`);
    return Buffer.from((rec as string).split(".").map(Number));
  }
  if (type === "AAAA") {
    if (!net.isIPv6(rec as string) || (rec as string).includes(".")) throw new Error(`not a plain IPv6 address: ${rec}`);
    return ipv6Bytes(rec as string);
  }
  if (type === "TXT") {
    const text = Buffer.from(rec as string, "utf8");
    const parts: Buffer[] = [];
    for (let i = 0; i < text.length || i === 0; i += 255) { const piece = text.subarray(i, i + 255); parts.push(Buffer.from([piece.length]), piece); }
    return Buffer.concat(parts);
  }
  const mx = rec as { priority: number; exchange: string };
  const pref = Buffer.alloc(2);
  pref.writeUInt16BE(mx.priority);
  return Buffer.concat([pref, encodeName(mx.exchange)]);
}

export class TestDnsServer {
  /** Mutable: replace or edit it at any time; the next query sees the change. */
  zone: Zone;
  /** Names answered with SERVFAIL (DNS trouble), whatever the zone says. */
  readonly servfail = new Set<string>();
  readonly queries: DnsQuery[] = [];
  private socket?: dgram.Socket;
  port = 0;

  constructor(zone: Zone = {}) { this.zone = zone; }

  /** "127.0.0.1:PORT", as `dns.servers` takes it. */
  get address(): string { return `127.0.0.1:${this.port}`; }

  async start(): Promise<void> {
    const socket = dgram.createSocket("udp4");
    socket.on("message", (msg, rinfo) => {
      let reply: Buffer | undefined;
      try { reply = this.answer(msg); } catch { reply = undefined; } // garbage: no answer, as a real server
      if (reply) socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("DNS test server did not bind within 5 s")), 5000);
      socket.once("error", (e) => { clearTimeout(t); reject(e); });
      socket.bind(0, "127.0.0.1", () => { clearTimeout(t); resolve(); });
    });
    this.socket = socket;
    this.port = socket.address().port;
  }

  private lookup(name: string): ZoneRecords | undefined {
    const n = name.toLowerCase().replace(/\.$/, "");
    for (const [k, v] of Object.entries(this.zone)) if (k.toLowerCase().replace(/\.$/, "") === n) return v;
    return undefined;
  }

  private answer(msg: Buffer): Buffer | undefined {
    if (msg.length < 12) return undefined;
    const id = msg.readUInt16BE(0);
    const flags = msg.readUInt16BE(2);
    if (flags & 0x8000) return undefined; // a response, not a query
    const qdcount = msg.readUInt16BE(4);
    if (qdcount !== 1) return undefined;
    const { name, end } = readName(msg, 12);
    const qtype = msg.readUInt16BE(end);
    const question = msg.subarray(12, end + 4);
    const typeName = TYPES[qtype];
    this.queries.push({ name: name.toLowerCase(), type: typeName ?? String(qtype), at: Date.now() });

    const records = this.lookup(name);
    let rcode = 0;
    const answers: Buffer[] = [];
    if (this.servfail.has(name.toLowerCase().replace(/\.$/, ""))) rcode = 2;
    else if (!records) rcode = 3; // NXDOMAIN
    else if (typeName) {
      try {
        for (const rec of (records[typeName] ?? []) as unknown[]) {
          const data = rdata(typeName, rec);
          const rr = Buffer.alloc(12);
          rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
          rr.writeUInt16BE(TYPE_NUM[typeName], 2);
          rr.writeUInt16BE(1, 4); // IN
          rr.writeUInt32BE(0, 6); // TTL 0: nothing cached
          rr.writeUInt16BE(data.length, 10);
          answers.push(rr, data);
        }
      } catch {
        rcode = 2; // a record the test wrote badly: SERVFAIL rather than a silent timeout
        answers.length = 0;
      }
    }
    const header = Buffer.alloc(12);
    header.writeUInt16BE(id, 0);
    // QR, opcode copied, AA, RD copied, RA, rcode
    header.writeUInt16BE(0x8000 | (flags & 0x7800) | 0x0400 | (flags & 0x0100) | 0x0080 | rcode, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length / 2, 6);
    return Buffer.concat([header, question, ...answers]);
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

export async function startDnsServer(zone: Zone = {}): Promise<TestDnsServer> {
  const server = new TestDnsServer(zone);
  await server.start();
  return server;
}

/**
 * HTTP fuzz: one mxspool process (every role, webmail on, an admin token, a webmail user with
 * a live session) gets 1,500 random and pathological requests over raw sockets — every route
 * of src/api/routes.ts, the webmail's and the admin console's: random and invalid methods, paths with %00, %zz,
 * `..`, very long segments, huge and malformed query strings, malformed JSON, wrong content
 * types, oversized and chunked bodies, missing and garbage Authorization headers, garbage
 * and oversized cookies, forms without or with a wrong CSRF token. The PRNG seed is fixed and
 * printed (FUZZ_SEED overrides it, to replay a run).
 * Asserts: every request gets an HTTP response; no status ≥ 500 but a deliberate 503; no
 * body shows a stack trace; nothing was logged as HTTP_ERROR or WEBMAIL_ERROR; afterwards the
 * process is alive, /api/health answers and its memory grew by a bounded amount.
 */
import fs from "node:fs";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/net.js";
import { prng as mulberry32 } from "../helpers/prng.js";
import { mail, startWebmailStack, WebClient, type WebmailStack } from "../helpers/webmail-stack.js";
import { ROUTES } from "../../src/api/routes.js";
import { LIST_PARAMS } from "../../src/api/validate.js";

const TOKEN = "fuzz-admin-token-0123456789";
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed2026);
const REQUESTS = 1_500;
const PARALLEL = 6;
const PER_REQUEST_MS = 20_000;

/** The fuzzer's draws (ints, picks, bytes, text) over the seeded generator of test/helpers/prng.ts. */
function prng(seed: number) {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const ascii = (n: number) => Array.from({ length: n }, () => String.fromCharCode(33 + int(94))).join("");
  return { next, int, pick, bytes, ascii, chance: (p: number) => next() < p };
}

type Rng = ReturnType<typeof prng>;
interface FuzzRequest { category: string; method: string; target: string; headers: [string, string][]; body?: Buffer; chunked?: boolean }
interface FuzzResult { status: number | null; head: string; body: string }

const ODD_SEGMENTS = ["%00", "%zz", "%", "%E0%A4%A", "..", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "%2F", "a%00b", "\u00e9", "%C3%A9", "x".repeat(3000),
  "00MWR173JMQVYF0J49W5", "00MWR173JMQVYF0J49W5.7", "00mwr173jmqvyf0j49w5", "example.test", "EXAMPLE.TEST", "other.test", "nowhere.test", "bad_domain!", "-", "", "*", "null", "[]", "{}", "%25", "%u0041"];
const METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "FOO", "get", "G\u00c9T"];
const CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "application/json; charset=utf-16", "text/plain", "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz", "APPLICATION/JSON", "application/jsonx", "", ";;;", "application/json; x=" + "y".repeat(500)];

function fillPath(r: Rng, template: string, realId: string): string {
  return template.replace(/\{(\w+)\}/g, (_m, name: string) => {
    if (r.chance(0.3)) return name === "id" ? realId : r.pick(["example.test", "other.test"]);
    return r.pick(ODD_SEGMENTS);
  });
}

function oddPath(r: Rng, base: string): string {
  switch (r.int(8)) {
    case 0: return base + "/";
    case 1: return base.replace(/\//g, "//");
    case 2: return base + "/" + r.pick(ODD_SEGMENTS);
    case 3: return "/" + r.pick(ODD_SEGMENTS) + base;
    case 4: return base + "/../../../etc/passwd";
    case 5: return base.toUpperCase();
    case 6: return base + "%00";
    default: return "/" + Array.from({ length: 1 + r.int(6) }, () => r.pick(ODD_SEGMENTS)).join("/");
  }
}

function oddQuery(r: Rng): string {
  switch (r.int(9)) {
    case 0: return "";
    case 1: return "?" + LIST_PARAMS.filter(() => r.chance(0.4)).map((p) => `${p}=${encodeURIComponent(r.pick(["", " ", "0", "-1", "1e9", "queued", "held", "bogus", "example.test", "a@b", "x".repeat(300), "2026-01-01T00:00:00Z", "%00"]))}`).join("&");
    case 2: return "?" + "a=1&".repeat(1000 + r.int(1000));
    case 3: return "?" + "q=" + "%zz".repeat(200);
    case 4: return "?%";
    case 5: return "?limit=5&limit=6&limit=" + r.ascii(5);
    case 6: return "?" + encodeURIComponent(r.bytes(40).toString("latin1"));
    case 7: return "?images=1&images=0&x[]=1&x[a]=2&__proto__=1&constructor=2";
    default: return "?q=" + "x".repeat(6000 + r.int(6000));
  }
}

function oddJson(r: Rng): Buffer {
  const docs = [
    "{", "}", "[", "null", "true", "0", '"x"', "{\"action\":", "{\"action\":\"hold\",\"filter\":{\"q\":\" \"}}", "{\"action\":\"hold\",\"filter\":{\"since\":0}}",
    "{\"action\":\"hold\",\"filter\":{\"q\":\"zz-nothing-matches\"}}", "{\"action\":\"explode\"}", "{\"action\":\"release\",\"all\":\"yes\"}", "{\"__proto__\":{\"polluted\":1}}",
    "{\"constructor\":{\"prototype\":{\"x\":1}}}", "{\"address\":\"" + "a".repeat(400) + "@example.test\"}", "{\"address\":\"alice@example.test\",\"reset\":\"maybe\"}",
    "{\"address\":[1,2]}", "{\"action\":\"hold\",\"filter\":{\"q\":{\"$ne\":1}}}", "{\"action\":\"hold\",\"filter\":{\"since\":1e308}}", "{\"action\":\"hold\",\"filter\":{\"since\":-1e308}}",
    "[".repeat(5000) + "]".repeat(5000), "{\"a\":" + "{\"a\":".repeat(2000) + "1" + "}".repeat(2001), "\ufeff{}", "{\"action\":\"hold\"}\u0000", "NaN", "1e99999",
  ];
  if (r.chance(0.2)) return r.bytes(1 + r.int(2000));
  return Buffer.from(r.pick(docs), "utf8");
}

function authHeader(r: Rng): [string, string][] {
  switch (r.int(9)) {
    case 0: case 1: case 2: return [["authorization", `Bearer ${TOKEN}`]];
    case 3: return [];
    case 4: return [["authorization", "Bearer"]];
    case 5: return [["authorization", "Bearer " + r.ascii(20 + r.int(200))]];
    case 6: return [["authorization", "Basic " + Buffer.from("admin:admin").toString("base64")]];
    case 7: return [["authorization", `Bearer ${TOKEN}`], ["authorization", "Bearer other"]];
    default: return [["authorization", "Bearer " + "A".repeat(8000)]];
  }
}

function cookieHeader(r: Rng, session: string): [string, string][] {
  switch (r.int(7)) {
    case 0: case 1: return [["cookie", session]];
    case 2: return [];
    case 3: return [["cookie", "mxspool_session=" + r.ascii(40)]];
    case 4: return [["cookie", Array.from({ length: 200 }, (_, i) => `c${i}=${i}`).join("; ")]];
    case 5: return [["cookie", "mxspool_session=%zz%00; ;;=; =x; " + "y".repeat(4000)]];
    default: return [["cookie", r.bytes(60).toString("latin1").replace(/[\r\n]/g, "")]];
  }
}

function makeRequest(r: Rng, realId: string, session: string, csrf: string): FuzzRequest {
  const apiRoute = r.pick(ROUTES);
  const webPaths = ["/", "/login", "/logout", "/password", `/m/${realId}`, `/m/${realId}/body`, `/m/${realId}/raw`, `/m/${realId}/attachments/0`, `/m/${realId}/attachments/9999`, "/static/x.css", "/static/../../etc/passwd", "/favicon.ico",
    "/admin", "/admin/login", "/admin/live", "/admin/queue", `/admin/messages/${realId}`, `/admin/messages/${realId}/hold`, `/admin/messages/${realId}/raw`, "/admin/bulk", "/admin/domains/example.test/pause", "/admin/events/ev_zz", "/admin/charts", "/admin/static/../x.css"];
  const category = r.pick(["method", "path", "query", "json", "content-type", "oversize", "auth", "cookie", "form", "headers"]);
  const onApi = category === "form" ? false : category === "cookie" ? r.chance(0.3) : r.chance(0.7);
  let method = onApi ? apiRoute.method as string : r.pick(["GET", "POST"]);
  let path = onApi ? fillPath(r, apiRoute.path, realId) : r.pick(webPaths);
  let query = "";
  const headers: [string, string][] = [];
  let body: Buffer | undefined;
  let chunked = false;
  switch (category) {
    case "method": method = r.pick(METHODS); break;
    case "path": path = oddPath(r, path); break;
    case "query": query = oddQuery(r); break;
    case "json": method = r.chance(0.8) ? "POST" : method; body = oddJson(r); headers.push(["content-type", r.chance(0.8) ? "application/json" : r.pick(CONTENT_TYPES)]); break;
    case "content-type": method = "POST"; body = r.chance(0.5) ? oddJson(r) : Buffer.from("action=hold&filter=x&_csrf=" + csrf); headers.push(["content-type", r.pick(CONTENT_TYPES)]); break;
    case "oversize": method = "POST"; if (r.chance(0.7)) { path = r.pick(["/api/messages/bulk", "/api/webmail/users", "/login", "/password"]); headers.push(["authorization", `Bearer ${TOKEN}`]); } body = Buffer.alloc(70_000 + r.int(400_000), r.chance(0.5) ? "{" : "a"); chunked = r.chance(0.3); headers.push(["content-type", r.pick(["application/json", "application/x-www-form-urlencoded"])]); break;
    case "auth": break;
    case "cookie": break;
    case "form": {
      method = "POST";
      path = r.pick(["/login", "/logout", "/password", "/", `/m/${realId}`]);
      const fields: Record<string, string> = {};
      if (r.chance(0.5)) fields._csrf = r.chance(0.5) ? csrf : r.ascii(r.int(80));
      if (r.chance(0.6)) fields.address = r.pick(["alice@example.test", "nobody@example.test", "", "x".repeat(500), "alice@example.test\r\nX: y", "<script>@example.test"]);
      if (r.chance(0.6)) fields.password = r.pick(["", "wrong-password-1", "x".repeat(5000), "\u0000\u0001"]);
      for (let i = r.int(4); i > 0; i--) fields[r.ascii(1 + r.int(10))] = r.ascii(r.int(50));
      body = Buffer.from(new URLSearchParams(fields).toString());
      headers.push(["content-type", r.chance(0.85) ? "application/x-www-form-urlencoded" : r.pick(CONTENT_TYPES)]);
      if (r.chance(0.7)) headers.push(["origin", r.pick(["http://127.0.0.1", "http://evil.test", "null", ""])]);
      break;
    }
    case "headers": {
      const extra: [string, string][] = [["x-mxspool-actor", r.ascii(r.int(100))], ["x-forwarded-for", r.pick(["1.2.3.4", "::1, 10.0.0.1", "garbage", "x".repeat(3000)])],
        ["x-forwarded-proto", r.pick(["https", "gopher", ""])], ["content-length", r.pick(["-1", "abc", "99999999999999999999", "0, 5"])], ["transfer-encoding", r.pick(["gzip", "chunked, identity", "x"])],
        ["host", r.pick(["", "a b", "x".repeat(2000), "[::1]:99999"])], ["accept", "*/*".repeat(500)], ["expect", "100-continue"], ["range", "bytes=0-1,2-3"], ["if-none-match", "\"x\""]];
      for (let i = 1 + r.int(3); i > 0; i--) headers.push(r.pick(extra));
      break;
    }
  }
  if (category !== "auth" && category !== "oversize" && r.chance(0.5)) headers.push(...authHeader(r));
  if (category === "auth") headers.push(...authHeader(r));
  if (category === "cookie" || (!onApi && r.chance(0.6))) headers.push(...cookieHeader(r, session));
  return { category, method, target: path + query, headers, body, chunked };
}

/** One request on its own connection; the raw response head and (up to 1 MB of) body. */
function send(port: number, q: FuzzRequest): Promise<FuzzResult> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      clearTimeout(timer);
      let raw = Buffer.concat(chunks).toString("latin1");
      // skip interim answers (100 Continue) to the final one
      while (/^HTTP\/1\.[01] 1\d\d /.test(raw) && raw.includes("\r\n\r\n")) raw = raw.slice(raw.indexOf("\r\n\r\n") + 4);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      const split = raw.indexOf("\r\n\r\n");
      resolve({ status: m ? Number(m[1]) : null, head: split >= 0 ? raw.slice(0, split) : raw, body: split >= 0 ? raw.slice(split + 4) : "" });
    };
    const timer = setTimeout(() => { s.destroy(); }, PER_REQUEST_MS);
    s.on("data", (d: Buffer) => { if (size < 1 << 20) { chunks.push(d); size += d.length; } });
    s.on("error", () => { /* a reset after the answer: the answer counts */ });
    s.on("close", done);
    s.on("connect", () => {
      const hasHost = q.headers.some(([k]) => k === "host");
      const lines = [`${q.method} ${q.target} HTTP/1.1`, ...(hasHost ? [] : ["host: 127.0.0.1"]), "connection: close"];
      for (const [k, v] of q.headers) lines.push(`${k}: ${v}`);
      const declared = q.headers.some(([k]) => k === "content-length" || k === "transfer-encoding");
      if (q.body && q.chunked) lines.push("transfer-encoding: chunked");
      else if (q.body && !declared) lines.push(`content-length: ${q.body.length}`);
      s.write(Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1"));
      if (q.body) s.write(q.chunked ? Buffer.concat([Buffer.from(q.body.length.toString(16) + "\r\n"), q.body, Buffer.from("\r\n0\r\n\r\n")]) : q.body);
    });
  });
}

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
const STACK_TRACE = /\n\s+at \S.*[(:]\d+|\b\w+Error: .*\/(src|dist|node_modules)\/|node:internal|\.(ts|js):\d+:\d+/;

describe("HTTP fuzz", () => {
  let stack: WebmailStack;
  let httpPort: number;
  let realId: string;
  let session = "";
  let csrf = "";

  beforeAll(async () => {
    httpPort = await freePort();
    stack = await startWebmailStack({ config: { http: { listen: `127.0.0.1:${httpPort}`, adminToken: TOKEN } } });
    await stack.addUser("alice@example.test", "alice-password-123", { mustChangePassword: false });
    realId = await stack.send("s@sender.test", ["alice@example.test"], await mail({ from: "s@sender.test", to: ["alice@example.test"], subject: "fuzz target",
      text: "hello", attachments: [{ filename: "a.txt", content: "attached" }] }));
    const web = new WebClient(`http://127.0.0.1:${httpPort}`);
    const login = await web.login("alice@example.test", "alice-password-123");
    expect(login.status, "webmail login").toBe(303);
    session = [...web.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    csrf = await web.csrf("/");
  });

  afterAll(async () => { await stack?.stop(); });

  it("answers 1,500 random and pathological requests with HTTP, never a 500 or a stack trace, and stays up with bounded memory", async () => {
    console.log(`http-fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    const r = prng(SEED);
    const requests = Array.from({ length: REQUESTS }, () => makeRequest(r, realId, session, csrf));
    const pid = stack.mx.pid!;
    const rssBefore = rssKb(pid);
    const perCategory = new Map<string, Map<string, number>>();
    const problems: string[] = [];
    let nextIndex = 0;
    const worker = async () => {
      for (let i = nextIndex++; i < requests.length; i = nextIndex++) {
        const q = requests[i];
        const res = await send(httpPort, q);
        const key = res.status === null ? "none" : String(res.status);
        const counts = perCategory.get(q.category) ?? new Map<string, number>();
        counts.set(key, (counts.get(key) ?? 0) + 1);
        perCategory.set(q.category, counts);
        const what = `#${i} ${q.category} ${q.method} ${q.target.slice(0, 120)}`;
        if (res.status === null) problems.push(`${what}: no HTTP response`);
        else if (res.status >= 500 && res.status !== 503) problems.push(`${what}: ${res.status} ${res.body.slice(0, 200)}`);
        if (STACK_TRACE.test(res.head + "\n" + res.body)) problems.push(`${what}: a stack trace: ${res.body.slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const rssAfter = rssKb(pid);

    const total = new Map<string, number>();
    for (const counts of perCategory.values()) for (const [k, n] of counts) total.set(k, (total.get(k) ?? 0) + n);
    const fmt = (m: Map<string, number>) => [...m].sort().map(([k, n]) => `${k}×${n}`).join(" ");
    console.log(`http-fuzz ${REQUESTS} requests, seed ${SEED}: ${fmt(total)} | ${[...perCategory].sort().map(([c, m]) => `${c}: ${fmt(m)}`).join("; ")} | rss ${Math.round(rssBefore / 1024)} → ${Math.round(rssAfter / 1024)} MiB`);

    expect(problems.slice(0, 20)).toEqual([]);
    expect(stack.mx.events("HTTP_ERROR").map((l) => l.msg + " " + String(l.err))).toEqual([]);
    expect(stack.mx.events("WEBMAIL_ERROR").map((l) => l.msg + " " + String(l.err))).toEqual([]);
    expect(stack.mx.events("CONSOLE_ERROR").map((l) => l.msg + " " + String(l.err))).toEqual([]);
    expect(stack.mx.exitCode).toBeNull();
    const health = await fetch(`http://127.0.0.1:${httpPort}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: expect.stringMatching(/^(ok|degraded)$/) });
    expect(rssAfter - rssBefore, "RSS growth in KiB").toBeLessThan(200 * 1024);
  });
});

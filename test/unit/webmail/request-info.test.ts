/**
 * requestFacts from a table: the client IP (X-Forwarded-For believed only from a trusted
 * proxy, its last entry), whether cookies set in the answer carry Secure (webmail.secureCookies
 * always | never | auto × a plain socket, a TLS socket, X-Forwarded-Proto trusted or not), and
 * the cookies read. The webmail and the admin console both build their request context here.
 */
import type http from "node:http";
import { describe, expect, it } from "vitest";
import { requestFacts } from "../../../src/webmail/request-info.js";

type Mode = "always" | "never" | "auto";

const request = (o: { tls?: boolean; remote?: string; headers?: http.IncomingHttpHeaders }) =>
  ({ socket: { encrypted: o.tls ? true : undefined, remoteAddress: o.remote ?? "::ffff:192.0.2.7" }, headers: o.headers ?? {} }) as unknown as http.IncomingMessage;

const HTTPS = { "x-forwarded-proto": "https" };

describe("requestFacts: whether cookies carry Secure", () => {
  const cases: [string, Mode, boolean, { tls?: boolean; headers?: http.IncomingHttpHeaders }, boolean][] = [
    ["always, plain", "always", false, {}, true],
    ["always, TLS", "always", false, { tls: true }, true],
    ["never, plain", "never", false, {}, false],
    ["never, TLS", "never", false, { tls: true }, false],
    ["never, X-Forwarded-Proto https from a trusted proxy", "never", true, { headers: HTTPS }, false],
    ["auto, plain", "auto", false, {}, false],
    ["auto, TLS", "auto", false, { tls: true }, true],
    ["auto, TLS, proxy trusted", "auto", true, { tls: true }, true],
    ["auto, X-Forwarded-Proto https, proxy not trusted", "auto", false, { headers: HTTPS }, false],
    ["auto, X-Forwarded-Proto https from a trusted proxy", "auto", true, { headers: HTTPS }, true],
    ["auto, X-Forwarded-Proto HTTPS (any case) from a trusted proxy", "auto", true, { headers: { "x-forwarded-proto": " HTTPS " } }, true],
    ["auto, X-Forwarded-Proto http from a trusted proxy", "auto", true, { headers: { "x-forwarded-proto": "http" } }, false],
    ["auto, X-Forwarded-Proto lists https first (the client's hop)", "auto", true, { headers: { "x-forwarded-proto": "https, http" } }, true],
    ["auto, X-Forwarded-Proto lists http first", "auto", true, { headers: { "x-forwarded-proto": "http, https" } }, false],
  ];
  it.each(cases)("%s", (_name, secureCookies, trustProxy, req, secure) => {
    expect(requestFacts(request(req), { secureCookies, trustProxy }).secure).toBe(secure);
  });
});

describe("requestFacts: client IP and cookies", () => {
  const XFF = { "x-forwarded-for": "198.51.100.1, 203.0.113.9" };
  const cases: [string, boolean, { remote?: string; headers?: http.IncomingHttpHeaders }, string][] = [
    ["the socket's address, IPv4-mapped prefix dropped", false, {}, "192.0.2.7"],
    ["an IPv6 socket address as it is", false, { remote: "2001:db8::1" }, "2001:db8::1"],
    ["X-Forwarded-For ignored when the proxy is not trusted", false, { headers: XFF }, "192.0.2.7"],
    ["X-Forwarded-For's last entry (the one our proxy added) when trusted", true, { headers: XFF }, "203.0.113.9"],
    ["an empty X-Forwarded-For falls back to the socket", true, { headers: { "x-forwarded-for": " , " } }, "192.0.2.7"],
  ];
  it.each(cases)("%s", (_name, trustProxy, req, ip) => {
    expect(requestFacts(request(req), { secureCookies: "auto", trustProxy }).ip).toBe(ip);
  });

  it("reads the Cookie header, the first of a repeated name winning", () => {
    const facts = requestFacts(request({ headers: { cookie: "mxspool_session=abc; theme=dark; mxspool_session=evil" } }), { secureCookies: "auto", trustProxy: false });
    expect([...facts.cookies]).toEqual([["mxspool_session", "abc"], ["theme", "dark"]]);
  });
});

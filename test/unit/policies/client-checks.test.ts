import { describe, expect, it } from "vitest";
import { ipInList, validHeloName } from "../../../policies/client-checks.js";

describe("HELO/EHLO names", () => {
  it.each([
    ["client.example.test", true],
    ["client.example.test.", true],
    ["localhost", true],
    ["mail-1.example.test", true],
    ["under_score.example.test", true],
    ["[192.0.2.7]", true],
    ["[IPv6:2001:db8::1]", true],
    ["[ipv6:::1]", true],
    [undefined, false],
    ["", false],
    ["192.0.2.7", false],
    ["2001:db8::1", false],
    ["[192.0.2.999]", false],
    ["[not-an-ip]", false],
    ["bad name", false],
    ["-leading.example.test", false],
    ["trailing-.example.test", false],
    ["double..dot.example.test", false],
    [`${"a".repeat(64)}.example.test`, false],
    [`${"a".repeat(63)}.example.test`, true],
    [`${"a.".repeat(128)}test`, false],
  ])("%j is %s", (name, valid) => {
    expect(validHeloName(name as string | undefined)).toBe(valid);
  });
});

describe("addresses in a list of networks", () => {
  const list = ["192.0.2.0/24", "198.51.100.7", "2001:db8::/32", "::1", "10.0.0.0/8"];
  it.each([
    ["192.0.2.1", true],
    ["192.0.2.255", true],
    ["192.0.3.1", false],
    ["198.51.100.7", true],
    ["198.51.100.8", false],
    ["10.200.3.4", true],
    ["11.0.0.1", false],
    ["::ffff:192.0.2.9", true],
    ["::FFFF:198.51.100.7", true],
    ["2001:db8::25", true],
    ["2001:db8:ffff:1::1", true],
    ["2001:db9::1", false],
    ["::1", true],
    ["::2", false],
    ["fe80::1", false],
    ["not an address", false],
    ["", false],
  ])("%s: %s", (ip, inList) => {
    expect(ipInList(ip, list)).toBe(inList);
  });

  it.each([
    ["0.0.0.0/0 holds every IPv4 address", "203.0.113.5", ["0.0.0.0/0"], true],
    ["::/0 holds every IPv6 address", "2001:db8::1", ["::/0"], true],
    ["an IPv4 network never holds an IPv6 address", "2001:db8::1", ["0.0.0.0/0"], false],
    ["an IPv6 network never holds an IPv4 address", "192.0.2.1", ["::/0"], false],
    ["a /32 is one address", "192.0.2.1", ["192.0.2.1/32"], true],
    ["a /31 holds two", "192.0.2.1", ["192.0.2.0/31"], true],
    ["a /128 is one address", "2001:db8::1", ["2001:db8::1/128"], true],
    ["a malformed entry matches nothing", "192.0.2.1", ["192.0.2/24", "nonsense"], false],
    ["an empty list matches nothing", "192.0.2.1", [], false],
  ])("%s", (_label, ip, cidrs, inList) => {
    expect(ipInList(ip as string, cidrs as string[])).toBe(inList);
  });
});

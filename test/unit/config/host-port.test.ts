import { describe, expect, it } from "vitest";
import { connectableUrl, parseHostPort } from "../../../src/config/host-port.js";
import { apiBaseUrl } from "../../../src/cli/api-client.js";

describe("parseHostPort", () => {
  it("splits host:port and unbrackets IPv6", () => {
    expect(parseHostPort("mail.example.com:25")).toEqual({ host: "mail.example.com", port: 25 });
    expect(parseHostPort("[2001:db8::1]:2525")).toEqual({ host: "2001:db8::1", port: 2525 });
    expect(parseHostPort("0.0.0.0:8025")).toEqual({ host: "0.0.0.0", port: 8025 });
  });
});

describe("connectableUrl (the CLI's way to the HTTP API)", () => {
  it("maps wildcard listen addresses to the loopback of their family and brackets IPv6", () => {
    expect(connectableUrl("0.0.0.0:8025")).toBe("http://127.0.0.1:8025");
    expect(connectableUrl("[::]:8025")).toBe("http://[::1]:8025");
    expect(connectableUrl("127.0.0.1:8025")).toBe("http://127.0.0.1:8025");
    expect(connectableUrl("[2001:db8::5]:80")).toBe("http://[2001:db8::5]:80");
    expect(connectableUrl("admin.example.test:443", "https")).toBe("https://admin.example.test:443");
    expect(apiBaseUrl("[::]:8025")).toBe("http://[::1]:8025");
  });
});

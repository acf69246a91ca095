/** The pure rules of the alerts: config errors naming the key, job ids, signature, backoff table. */
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.js";
import { alertBackoff, alertJobId, opensEvent, signature } from "../../../src/alerts/alert-job.js";

const base = { domains: { "example.test": { primary: ["127.0.0.1:25"] } } };
const problem = (alerts: unknown) => {
  const r = configSchema.safeParse({ ...base, alerts });
  return r.success ? "ok" : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
};

describe("the alerts config", () => {
  it.each([
    [{ webhooks: [{ url: "https://ops.example.com/hook", secret: "0123456789abcdef" }] }, "ok"],
    [{ webhooks: [{ url: "https://ops.example.com/hook", secret: "short" }] }, "alerts.webhooks.0.secret: must be at least 16 characters"],
    [{ webhooks: [{ url: "ftp://ops.example.com/", secret: "0123456789abcdef" }] }, 'alerts.webhooks.0.url: expected an "http://" or "https://" URL'],
    [{ email: { to: ["ops@example.net"], from: "mx@example.test", relay: "smtp.example.net" } }, 'alerts.email.relay: expected "host:port"'],
    [{ email: { to: ["ops@example.net"], from: "mx@example.test", relay: "smtp.example.net:587", auth: { user: "u", pass: "p" }, tls: "required" } }, "ok"],
    [{ repeat: "often" }, 'alerts.repeat: expected a duration like "90s", "5m", "4h" or "5d", got "often"'],
  ])("%j → %s", (alerts, expected) => {
    expect(problem(alerts)).toBe(expected);
  });

  it("names an unknown key", () => {
    expect(problem({ webhook: [] })).toMatch(/^alerts: .*webhook/);
  });
});

describe("alert jobs", () => {
  it("gives one transition one id per destination, and BullMQ-safe ids", () => {
    expect(alertJobId("ev_1:started", "https://a/")).toBe(alertJobId("ev_1:started", "https://a/"));
    expect(alertJobId("ev_1:started", "https://a/")).not.toBe(alertJobId("ev_1:started", "email"));
    expect(alertJobId("ev_1:started", "email")).not.toBe(alertJobId("ev_1:recovered", "email"));
    expect(alertJobId("ev_1:update:3", "email")).not.toContain(":");
  });

  it("signs the exact body with HMAC-SHA256", () => {
    const body = '{"type":"test"}';
    expect(signature("0123456789abcdef", body)).toBe(`sha256=${crypto.createHmac("sha256", "0123456789abcdef").update(body).digest("hex")}`);
  });

  it("schedules reminders only for alerts that open an event", () => {
    expect(["outage.started", "scanner-down.opened", "outage.recovered", "outage.update", "test"].map(opensEvent)).toEqual([true, true, false, false, false]);
  });

  it.each([[1, 5_000], [2, 10_000], [3, 20_000], [6, 160_000], [7, 300_000], [50, 300_000]])("waits after %i failed attempts: %i ms", (n, ms) => {
    expect(alertBackoff(n, { first: 5_000, max: 300_000 })).toBe(ms);
  });
});

/**
 * `mxspool doctor [--json] [--send-test-alert]` and `mxspool drill DOMAIN [--json]`: ask the
 * running mxspool (POST /api/doctor, POST /api/drill/{domain}) and print one line per check
 * (ok / warn / fail, what was found, and how to fix it) or the drill's figures. Exit 1 on any
 * failed check or a failed drill. --send-test-alert also calls POST /api/alerts/test; with no
 * alert destination configured (409) the alerts check says "alerts not configured".
 */
import { parseArgs } from "node:util";
import type { ApiClient } from "./api-client.js";
import { CliError, errorText } from "./api-client.js";
import type { Check, DoctorResult } from "../doctor/doctor.js";
import type { DrillResult } from "../doctor/drill.js";

export function formatChecks(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks.map((c) => `${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}${c.hint && c.status !== "ok" ? `\n      ${" ".repeat(width)}  fix: ${c.hint}` : ""}`).join("\n") + "\n";
}

async function testAlert(client: ApiClient): Promise<Check> {
  const r = await client.request("POST", "/api/alerts/test", {});
  if (r.status === 404 || r.status === 409) return { name: "alerts", status: "warn", detail: "alerts not configured", hint: "configure alert destinations so someone hears of an outage" };
  if (r.status >= 200 && r.status < 300) return { name: "alerts", status: "ok", detail: "test alert sent" };
  return { name: "alerts", status: "fail", detail: `test alert not sent: ${errorText(r)}`, hint: "check the alert destinations" };
}

export async function doctorCommand(args: string[], client: ApiClient): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: "boolean" }, "send-test-alert": { type: "boolean" } }, strict: true, allowPositionals: false });
  const r = await client.call<DoctorResult>("POST", "/api/doctor", undefined, 90_000);
  if (values["send-test-alert"]) r.checks = [...r.checks.filter((c) => c.name !== "alerts"), await testAlert(client)];
  const exitCode = r.checks.some((c) => c.status === "fail") ? 1 : 0;
  const out = { ok: exitCode === 0, exitCode, checks: r.checks };
  process.stdout.write(values.json ? JSON.stringify(out, null, 2) + "\n" : formatChecks(out.checks));
  return exitCode;
}

export function formatDrill(r: DrillResult): string {
  const f = r.figures;
  const ms = (v: number | undefined) => (v === undefined ? "-" : `${v} ms`);
  return `drill ${r.id} of ${r.domain} (to ${r.recipient}${r.queueId ? `, queued as ${r.queueId}` : ""})\n` +
    `accept latency:              ${ms(f.acceptMs)}\n` +
    `time to spool:               ${ms(f.spoolMs)}\n` +
    `first delivery after resume: ${ms(f.deliveryMs)}\n` +
    (r.passed ? "PASS\n" : `FAIL: ${r.reason}\n`);
}

export async function drillCommand(args: string[], client: ApiClient): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: "boolean" } }, strict: true, allowPositionals: true });
  if (positionals.length !== 1) throw Object.assign(new Error("usage: mxspool drill DOMAIN [--json]"), { code: "ERR_PARSE_ARGS_USAGE" });
  const path = `/api/drill/${encodeURIComponent(positionals[0])}`;
  const started = await client.call<{ id: string }>("POST", path);
  // the drill takes up to drills.timeout (at most 4m) after its message is spooled
  const end = Date.now() + 300_000;
  let r: DrillResult | null = null;
  while (Date.now() < end) {
    const s = await client.call<{ running: boolean; last: DrillResult | null }>("GET", path);
    if (s.last?.id === started.id) { r = s.last; break; }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (!r) throw new CliError(`drill ${started.id} did not report a result within 5 minutes`);
  process.stdout.write(values.json ? JSON.stringify(r, null, 2) + "\n" : formatDrill(r));
  return r.passed ? 0 : 1;
}

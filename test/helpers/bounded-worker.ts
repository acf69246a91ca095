/**
 * Calls one export of a built module (under dist/) in a worker thread and gives up after a
 * deadline by terminating the thread. For code that may never return (a catastrophic regex
 * blocks its thread; no timer in that thread can interrupt it), so a test fails with a clear
 * "did not return within" instead of hanging the test worker.
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** `source` is a repository path of a .ts file (e.g. "src/webmail/message-summary.ts"). */
export async function callBounded<T>(source: string, name: string, args: unknown[], deadlineMs: number): Promise<T> {
  const built = path.join(ROOT, "dist", source.replace(/\.ts$/, ".js"));
  if (!fs.existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` (npm test does it)`);
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    import(workerData.url).then((m) => m[workerData.name](...workerData.args))
      .then((value) => parentPort.postMessage({ ok: true, value }), (e) => parentPort.postMessage({ ok: false, error: String(e && e.stack || e) }));
  `;
  const worker = new Worker(code, { eval: true, workerData: { url: pathToFileURL(built).href, name, args } });
  try {
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}() in ${source} did not return within ${deadlineMs} ms`)), deadlineMs);
      worker.once("message", (m: { ok: boolean; value?: T; error?: string }) => { clearTimeout(timer); m.ok ? resolve(m.value as T) : reject(new Error(m.error)); });
      worker.once("error", (e) => { clearTimeout(timer); reject(e); });
    });
  } finally {
    await worker.terminate();
  }
}

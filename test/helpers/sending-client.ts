/**
 * A client that sends messages one per connection until stopped and records which got a
 * 250 — the "count both sides" half of the no-loss tests (crash, failover, node death).
 */
import nodemailer from "nodemailer";
import { sleep } from "./net.js";
import { compose } from "./messages.js";

export function startClient(port: number, name: string, accepted: Set<string>, refused: { n: number }) {
  let stopped = false;
  const done = (async () => {
    for (let n = 0; !stopped && n < 10_000; n++) {
      const testId = `${name}-${n}`;
      const t = nodemailer.createTransport({ host: "127.0.0.1", port, ignoreTLS: true, name: "client.test", connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 10_000 });
      try {
        const raw = await compose({ testId, from: `${name}@sender.test`, to: [`rcpt-${name}@example.test`] });
        const info = await t.sendMail({ envelope: { from: `${name}@sender.test`, to: [`rcpt-${name}@example.test`] }, raw });
        if (/^250 /.test(info.response)) accepted.add(testId);
      } catch {
        refused.n++;
        await sleep(50); // server down: back off a little, like a real client
      } finally {
        t.close();
      }
    }
  })();
  return { stop: () => { stopped = true; return done; } };
}

/**
 * Asks the primary whether a recipient exists, the way Postfix's address verification
 * does: connect, EHLO, MAIL FROM:<>, RCPT TO:<address>, RSET, QUIT — no message is sent.
 * Returns the RCPT reply code, or null when the primary could not be asked (down, timeout,
 * refused MAIL FROM). Every step is bounded by `timeoutMs`.
 */
import net from "node:net";

export interface CalloutResult { code: number | null; text: string }

export function rcptCallout(host: string, port: number, helo: string, address: string, timeoutMs: number): Promise<CalloutResult> {
  return new Promise((resolve) => {
    const sock = net.createConnection({ host, port });
    let buf = "";
    let step = 0;
    let done = false;
    const finish = (r: CalloutResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (step > 0 && !sock.destroyed) sock.end("QUIT\r\n");
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ code: null, text: "callout timed out" }), timeoutMs);
    sock.on("error", (err) => finish({ code: null, text: err.message }));
    sock.on("close", () => finish({ code: null, text: "connection closed" }));
    const commands = [`EHLO ${helo}`, "MAIL FROM:<>", `RCPT TO:<${address}>`];
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      for (;;) {
        const m = /^(\d{3})([ -])(.*)\r?\n/m.exec(buf);
        if (!m) return;
        buf = buf.slice(m.index + m[0].length);
        if (m[2] === "-") continue; // multi-line reply goes on
        const code = Number(m[1]);
        if (step <= 2 && (code < 200 || code >= 400)) return finish({ code: null, text: `${m[1]} ${m[3]}` }); // greeting/EHLO/MAIL refused: no verdict
        if (step === 3) return finish({ code, text: `${m[1]} ${m[3]}` });
        sock.write(commands[step] + "\r\n");
        step++;
      }
    });
  });
}

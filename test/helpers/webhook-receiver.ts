/**
 * A webhook receiver for the alert tests (node:http on a loopback port): records a body only
 * when its `X-Mxspool-Signature` is the HMAC-SHA256 of the exact raw bytes under the secret of
 * the path it was posted to, and refuses the others with 401 (counted in `bad`).
 */
import http from "node:http";
import crypto from "node:crypto";

export interface Received<T> { path: string; body: T; arrivedAt: number }

export class WebhookReceiver<T = { type: string; event: { id: string }; text: string }> {
  readonly received: Received<T>[] = [];
  bad = 0;
  private server?: http.Server;
  /** `secret`: one for every path, or the secret of each path (a path without one is refused). */
  constructor(readonly port: number, private readonly secret: string | Record<string, string>) {}

  get bodies(): T[] { return this.received.map((r) => r.body); }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const path = req.url ?? "/";
        const secret = typeof this.secret === "string" ? this.secret : this.secret[path];
        const want = secret ? `sha256=${crypto.createHmac("sha256", secret).update(body).digest("hex")}` : "";
        const got = String(req.headers["x-mxspool-signature"] ?? "");
        if (!secret || got.length !== want.length || !crypto.timingSafeEqual(Buffer.from(got), Buffer.from(want))) { this.bad++; res.writeHead(401).end(); return; }
        this.received.push({ path, body: JSON.parse(body.toString("utf8")) as T, arrivedAt: Date.now() });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, "127.0.0.1", () => r()));
  }

  async stop(): Promise<void> { const s = this.server; if (s) { s.closeAllConnections(); await new Promise<void>((r) => s.close(() => r())); } }
}

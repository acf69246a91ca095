/**
 * How many password checks (scrypt, ~32 MiB and tens of ms each) may be under way at once,
 * per client IP and in total, in this process. A login over either cap is refused at once
 * (the handler answers 429 per IP, 503 in total, with Retry-After) instead of joining an
 * unbounded queue, so a burst of logins cannot drain the CPU or hold up the event loop's
 * other work. Pure bookkeeping: no I/O, never throws.
 */
export type SlotGrant = { ok: true; release: () => void } | { ok: false; scope: "ip" | "total" };

export class LoginSlots {
  private total = 0;
  private readonly perIp = new Map<string, number>();

  constructor(private readonly maxPerIp: number, private readonly maxTotal: number) {}

  acquire(ip: string): SlotGrant {
    const mine = this.perIp.get(ip) ?? 0;
    if (mine >= this.maxPerIp) return { ok: false, scope: "ip" };
    if (this.total >= this.maxTotal) return { ok: false, scope: "total" };
    this.total++;
    this.perIp.set(ip, mine + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const n = (this.perIp.get(ip) ?? 1) - 1;
        if (n > 0) this.perIp.set(ip, n); else this.perIp.delete(ip);
      },
    };
  }

  get inUse(): number { return this.total; }
}

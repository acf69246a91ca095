/**
 * `drills: { every: 7d }`: runs the drill of every domain once per period. A timer in the
 * process that serves the API checks every minute whether the current period (epoch ms /
 * every, floored) has been claimed; one node wins it with SET NX on Keyspace.drillLock (TTL one
 * period) and drills each domain in turn. A failed drill is logged (DRILL_FAILED) and shows
 * in the doctor; the next period tries again.
 */
import type { DrillDeps } from "./drill.js";
import { runDrill } from "./drill.js";

const CHECK_MS = 60_000;

export class DrillSchedule {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly deps: DrillDeps, private readonly domains: () => string[]) {}

  start(): void {
    const every = this.deps.config.drills.every;
    if (!every) return;
    this.timer = setInterval(() => { if (!this.running) this.running = this.tick(every).then(() => undefined).finally(() => { this.running = undefined; }); }, CHECK_MS);
    this.timer.unref();
  }

  /** Claims the current period and drills every domain; returns whether this node won it. */
  async tick(every: number, now = Date.now()): Promise<boolean> {
    const period = Math.floor(now / every);
    const won = await this.deps.redis.set(this.deps.keys.drillLock(period), String(process.pid), "PX", every, "NX").catch(() => null);
    if (won !== "OK") return false;
    for (const domain of this.domains()) {
      await runDrill(this.deps, domain).catch((err) => this.deps.log.error({ event: "DRILL_SCHEDULE_ERROR", domain, err: (err as Error).message }, `scheduled drill of ${domain} could not run`));
    }
    return true;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

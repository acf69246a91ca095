/**
 * Runs one check every `every` ms, never two at once (the next starts after the last ended),
 * without holding the process open; stop() waits for a check in progress.
 */
export class Repeater {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly every: number, private readonly fn: () => Promise<void>) {}

  start(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => { this.running = this.fn().catch(() => undefined).finally(() => this.start()); }, this.every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

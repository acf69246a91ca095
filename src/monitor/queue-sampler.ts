/**
 * Samples each domain's queue depth (delivery jobs waiting, delayed, active: what the primary
 * still owes) into the traffic series every `baselines.queueSample`. Every node with the
 * worker role samples the same shared queues; the bucket keeps the largest sample (its peak),
 * so no node needs to be elected. Runs in the supervisor beside the monitor.
 */
import type { DeliveryQueues } from "../../queues/delivery-queue.js";
import type { TrafficSeries } from "../observability/traffic-series.js";
import type { Logger } from "../observability/log.js";
import { repeatedErrors } from "../observability/repeated-errors.js";

export class QueueSampler {
  private timer?: NodeJS.Timeout;

  constructor(private readonly queues: DeliveryQueues, private readonly traffic: TrafficSeries, private readonly everyMs: number, private readonly log: Logger) {}

  start(): this {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.everyMs).unref();
    return this;
  }

  stop(): void { clearInterval(this.timer); }

  async sample(at = Date.now()): Promise<void> {
    try {
      const depths: Record<string, number> = {};
      await Promise.all(this.queues.domains().map(async (d) => {
        const c = await this.queues.get(d).getJobCounts("wait", "active", "delayed", "prioritized", "waiting-children");
        depths[d] = Object.values(c).reduce((a, b) => a + b, 0);
      }));
      this.traffic.sampleQueue(depths, at);
    } catch (err) {
      repeatedErrors(this.log).warn({ event: "TRAFFIC_WRITE_FAILED", err: (err as Error).message }, "could not sample the queue depth");
    }
  }
}

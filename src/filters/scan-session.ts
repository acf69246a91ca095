/**
 * One message's pass through the scanners (the FilterSession of content-filter.ts): chunks
 * go to the virus pass and the spam pass as they arrive; at the end of DATA both finish
 * concurrently (the added latency is the slower one), the threshold policy turns their
 * outcomes into the verdict, and the verdict is logged with stable event codes. end() never
 * rejects: an unexpected fault is a 451 4.7.1 like a scanner failure.
 */
import type { Logger } from "../observability/log.js";
import { contentVerdict, type ThresholdConfig } from "../../policies/content-thresholds.js";
import type { FilterSession, FilterVerdict } from "./content-filter.js";
import type { ScannerHealth } from "./scanner-health.js";
import type { SpamPass } from "./spam-pass.js";
import type { VirusPass } from "./virus-pass.js";

export interface SessionFacts { id: string; from: string; rcpts: string[]; clientIp: string }

export class ScanSession implements FilterSession {
  private done = false;

  constructor(private readonly facts: SessionFacts, private readonly virus: VirusPass | undefined, private readonly spam: SpamPass | undefined,
              private readonly thresholds: ThresholdConfig, private readonly spamHealth: ScannerHealth | undefined,
              private readonly log: Logger, private readonly onDone: () => void) {}

  write(chunk: Buffer): void {
    if (this.done) return;
    this.virus?.write(chunk);
    this.spam?.write(chunk);
  }

  async end(): Promise<FilterVerdict> {
    const started = Date.now();
    const { id } = this.facts;
    try {
      const [virus, spam] = await Promise.all([this.virus?.finish(id), this.spam?.finish(id)]);
      const verdict = contentVerdict({ virus, spam }, this.thresholds);
      const base = { id, from: this.facts.from, rcpts: this.facts.rcpts, client: this.facts.clientIp };
      if (virus?.status === "infected") this.log.warn({ event: "VIRUS_FOUND", ...base, signature: virus.signature }, "virus found");
      if (spam?.status === "scored" && verdict.action === "reject" && verdict.reason === "spam") {
        this.spamHealth?.countSpam();
        this.log.info({ event: "SPAM_REJECTED", ...base, score: spam.score }, "spam rejected");
      }
      if (verdict.action === "accept" && verdict.headers?.includes("X-Spam-Flag: YES") && spam?.status === "scored") {
        this.spamHealth?.countSpam();
        this.log.info({ event: "SPAM_TAGGED", ...base, score: spam.score }, "spam tagged");
      }
      if (verdict.action === "accept" && verdict.flags?.includes("unscanned")) {
        this.log.warn({ event: "FILTER_UNSCANNED", ...base, virus: virus?.status, spam: spam?.status }, "accepted without a complete scan");
      }
      if (verdict.action === "tempfail" && verdict.enhanced === "4.3.2") this.log.warn({ event: "FILTER_BUSY", ...base }, "no scan slot in time");
      this.log.debug({
        event: "FILTER_RESULT", id, action: verdict.action, ms: Date.now() - started,
        virus: virus?.status, virusMs: this.virus?.ms, spam: spam?.status === "scored" ? spam.score : spam?.status, spamMs: this.spam?.ms,
      }, "content scanned");
      return verdict;
    } catch (err) {
      this.abort();
      this.log.error({ event: "FILTER_ERROR", id, err: (err as Error).message }, "content filter fault");
      return { action: "tempfail", code: 451, enhanced: "4.7.1", text: "Content scanner unavailable, try again later", reason: "filter-fault" };
    } finally {
      this.finish();
    }
  }

  abort(): void {
    if (this.done) return;
    this.virus?.abort();
    this.spam?.abort();
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.onDone();
  }
}

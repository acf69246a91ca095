/**
 * The part of the `clamscan` npm package (2.4.0, plain JavaScript, no typings) that
 * test/integration/clamscan-comparison.test.ts uses to compare it with our INSTREAM client.
 */
declare module "clamscan" {
  import type { Readable, Transform } from "node:stream";

  export interface ClamscanResult { isInfected: boolean | null; viruses: string[]; file: string | null; resultString?: string; timeout?: boolean }

  export interface ClamscanOptions {
    debugMode?: boolean;
    preference?: "clamscan" | "clamdscan";
    clamscan?: { active?: boolean; path?: string };
    clamdscan?: { socket?: string | false; host?: string | false; port?: number | false; timeout?: number; localFallback?: boolean; path?: string; bypassTest?: boolean; active?: boolean };
  }

  export default class NodeClam {
    init(options?: ClamscanOptions): Promise<NodeClam>;
    scanStream(stream: Readable): Promise<ClamscanResult>;
    passthrough(): Transform;
  }
}

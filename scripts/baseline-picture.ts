/**
 * docs/baseline-week.png, the README's picture of the learned baselines: the synthetic weeks
 * of the replay test (`mxspool baseline generate --weeks 8 --warmup 4 --seed 7`), replayed
 * by the server's detector; one week of shop.test (a spam run at MX 20 on Monday night, a
 * silent Friday afternoon) drawn by src/cli/baseline-svg.ts and rasterised by Debian's
 * Chromium through playwright-core (as the webmail screenshots are). Also prints the replay's
 * summary line, for the README's figures.
 *   npx tsc -p tsconfig.json && node dist/scripts/baseline-picture.js [OUT.png]
 */
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { seasonalBands } from "../policies/baseline.js";
import { WEEK } from "../policies/baseline-bands.js";
import { baselineOptions, runReplay } from "../src/cli/baseline-command.js";
import { parseLabelsCsv, parseTrafficCsv } from "../src/cli/baseline-replay.js";
import { labelsCsv, synthCsv, synthesise, SYNTH_START } from "../src/cli/baseline-synth.js";
import { baselineSvg } from "../src/cli/baseline-svg.js";

const DOMAIN = "shop.test";
/** The third evaluated week. */
const WEEK_OF = SYNTH_START + 6 * WEEK;

async function main(out: string): Promise<void> {
  const { rows, labels } = synthesise({ weeks: 8, warmup: 4, seed: 7 });
  // through the CSV, as the CLI reads it
  const series = parseTrafficCsv(synthCsv(rows));
  const o = baselineOptions({});
  const { alerts, summary } = runReplay(series, o, { labels: parseLabelsCsv(labelsCsv(labels)), from: SYNTH_START + 4 * WEEK });
  process.stdout.write(JSON.stringify(summary) + "\n");
  const s = series.find((x) => x.domain === DOMAIN)!;
  const svg = baselineSvg(s, seasonalBands(s, o), o, WEEK_OF, alerts.filter((a) => a.domain === DOMAIN));
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, timeout: 30_000 });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 480 }, deviceScaleFactor: 1 });
    await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1400, height: 480 } });
  } finally {
    await browser.close();
  }
  process.stdout.write(`wrote ${out}\n`);
}

main(process.argv[2] ?? "docs/baseline-week.png").catch((err) => { process.stderr.write(`baseline-picture: ${(err as Error).message}\n`); process.exit(1); });

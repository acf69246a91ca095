/** What the bench scripts share: reading their settings from the environment, medians, and how figures print. */

/** A BENCH_* setting, or its default when unset or blank. */
export const env = (k: string, d: string) => (process.env[k] && process.env[k]!.trim() !== "" ? process.env[k]!.trim() : d);

export function median(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** A figure with 0, 1 or 2 decimals; "–" for a figure that was not measured. */
export const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : "–");
export const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "–");
export const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "–");
